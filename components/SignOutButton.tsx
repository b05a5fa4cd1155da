'use client';

import { useRouter } from 'next/navigation';

export function SignOutButton() {
  const router = useRouter();
  return (
    <button
      type="button"
      className="rounded px-2 py-1 text-sm text-slate-600 hover:bg-slate-100"
      onClick={async () => {
        await fetch('/api/session', { method: 'DELETE' });
        router.push('/sign-in');
        router.refresh();
      }}
    >
      Sign out
    </button>
  );
}
