'use client';

import { useMutation } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';

/** "Restore these N versions": makes a broken rollback target usable again. */
export function RestoreDeploymentVersions({ app, id, count }: { app: string; id: string; count: number }) {
  const router = useRouter();
  const run = useMutation({
    mutationFn: async () => {
      const reason = window.prompt(`Restore ${count} version(s) so that ${app}/${id} can be rolled back to. Reason (recorded in the audit log):`);
      if (!reason) return null;
      const res = await fetch(`/api/deployments/${encodeURIComponent(app)}/${encodeURIComponent(id)}/restore-versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason }),
      });
      const body = await res.json().catch(() => ({ error: `request failed (${res.status})` }));
      if (!res.ok) throw new Error(body.error ?? 'request failed');
      return body;
    },
    onSuccess: (r) => {
      if (r) router.refresh();
    },
  });
  return (
    <span className="inline-flex items-center gap-2">
      <button
        type="button"
        onClick={() => run.mutate()}
        disabled={run.isPending}
        className="rounded border border-emerald-300 px-2 py-0.5 text-xs font-medium text-emerald-900 hover:bg-emerald-50"
      >
        Restore these {count.toLocaleString('en')} version(s)
      </button>
      {run.isError ? (
        <span role="alert" className="text-xs text-red-700">
          {run.error.message}
        </span>
      ) : null}
    </span>
  );
}
