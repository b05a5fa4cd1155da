import Link from 'next/link';

export default function Forbidden() {
  return (
    <div className="space-y-2">
      <h1 className="text-xl font-semibold">Not allowed</h1>
      <p className="text-slate-600">Your role does not allow this page. Ask an admin to change your role.</p>
      <Link href="/" className="text-sky-800 underline">
        Overview
      </Link>
    </div>
  );
}
