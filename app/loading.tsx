export default function Loading() {
  return (
    <p aria-busy="true" className="text-slate-500">
      Loading the registry…
    </p>
  );
}
