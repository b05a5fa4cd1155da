import Link from 'next/link';

export default function NotFound() {
  return (
    <div className="space-y-2">
      <h1 className="text-xl font-semibold">Not found</h1>
      <p className="text-slate-600">There is no such procedure, version or page.</p>
      <Link href="/procedures" className="text-sky-800 underline">
        All procedures
      </Link>
    </div>
  );
}
