'use client';

import { useInfiniteQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState, type ReactNode } from 'react';
import { VersionStatus } from '@/components/badges';
import type { DeploymentVersionRef } from '@/lib/deployments';

interface VersionsPage {
  rows: DeploymentVersionRef[];
  next: string | null;
}

/**
 * A deployment that shows its versions when opened: a build references thousands of versions, so
 * they are fetched a page at a time on demand instead of with the list.
 */
export function DeploymentDetails({ app, id, summary }: { app: string; id: string; summary: ReactNode }) {
  const [open, setOpen] = useState(false);
  return (
    <details onToggle={(e) => setOpen(e.currentTarget.open)}>
      {summary}
      {open ? <DeploymentVersions app={app} id={id} /> : null}
    </details>
  );
}

function DeploymentVersions({ app, id }: { app: string; id: string }) {
  const q = useInfiniteQuery({
    queryKey: ['deployment-versions', app, id],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }): Promise<VersionsPage> => {
      const url = `/api/deployments/${encodeURIComponent(app)}/${encodeURIComponent(id)}/versions${pageParam ? `?after=${encodeURIComponent(pageParam)}` : ''}`;
      const res = await fetch(url);
      const body = await res.json().catch(() => ({ error: `request failed (${res.status})` }));
      if (!res.ok) throw new Error(body.error ?? 'request failed');
      return body as VersionsPage;
    },
    getNextPageParam: (last) => last.next ?? undefined,
  });
  if (q.isPending) return <p className="border-t border-slate-100 px-4 py-2 text-sm text-slate-500">Loading the versions…</p>;
  if (q.isError) {
    return (
      <p role="alert" className="border-t border-slate-100 px-4 py-2 text-sm text-red-700">
        Cannot load the versions: {q.error.message}{' '}
        <button type="button" className="underline" onClick={() => q.refetch()}>
          Try again
        </button>
      </p>
    );
  }
  const rows = q.data.pages.flatMap((p) => p.rows);
  if (rows.length === 0) return <p className="border-t border-slate-100 px-4 py-2 text-sm text-slate-500">This deployment references no versions.</p>;
  return (
    <div className="border-t border-slate-100">
      <table className="w-full text-sm">
        <tbody>
          {rows.map((v) => (
            <tr key={`${v.schema}.${v.physicalName}`} className={`border-t border-slate-50 ${v.status !== 'live' ? 'bg-red-50' : ''}`}>
              <td className="px-4 py-1 font-mono">
                {v.schema}.{v.procedure}({v.args})
              </td>
              <td className="px-4 py-1">
                <Link className="font-mono text-sky-800 underline" href={`/versions/${encodeURIComponent(v.schema)}/${encodeURIComponent(v.physicalName)}`}>
                  {v.physicalName}
                </Link>
              </td>
              <td className="px-4 py-1">
                <VersionStatus status={v.status} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {q.hasNextPage ? (
        <button type="button" className="m-2 rounded border px-3 py-1 text-sm" disabled={q.isFetchingNextPage} onClick={() => q.fetchNextPage()}>
          {q.isFetchingNextPage ? 'Loading…' : `Show more (${rows.length} shown)`}
        </button>
      ) : null}
    </div>
  );
}
