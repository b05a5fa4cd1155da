export default function Loading() {
  return <p className="text-slate-500" aria-busy="true">Loading the registry…</p>;
}
