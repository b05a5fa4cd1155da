import type { Metadata } from 'next';
import Link from 'next/link';
import { connection } from 'next/server';
import { DeploymentStatus } from '@/components/badges';
import { DeploymentDetails } from '@/components/DeploymentDetails';
import { RestoreDeploymentVersions } from '@/components/RestoreDeploymentVersions';
import { RelativeTime } from '@/components/RelativeTime';
import { EmptyState, ErrorState, InvalidAddress } from '@/components/States';
import { db } from '@/lib/db/pool';
import { pageDeployments } from '@/lib/deployments';
import { requirePageActor } from '@/lib/web/actor';
import { load } from '@/lib/web/load';
import { parseQuery, queries, type SearchParams } from '@/lib/web/params';
import { hasRole, versionNeeds } from '@/lib/roles';

export const metadata: Metadata = { title: 'Deployments' };
const PAGE_SIZE = 20;

export default async function DeploymentsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await connection();
  const actor = await requirePageActor('viewer');
  const query = parseQuery(queries.deployments, await searchParams);
  if (!query.ok) return <InvalidAddress error={query.error} href="/deployments" />;
  const { older } = query.value;
  const r = await load(() => pageDeployments(db(), { older, limit: PAGE_SIZE }));
  if (!r.ok) return <ErrorState title="Cannot list deployments">{r.message}</ErrorState>;
  const { rows, older: next } = r.data;
  return (
    <div className="space-y-4">
      <h1 className="text-xl font-semibold">Frontend deployments</h1>
      {rows.length === 0 ? (
        <EmptyState title="No deployments registered">
          Register one with <code>procver deployments add --app … --id … --manifest …</code>.
        </EmptyState>
      ) : (
        <ul className="space-y-2">
          {rows.map((d) => {
            const key = `${d.app}/${d.deploymentId}`;
            const broken = d.retired + d.dropped > 0;
            // Archived builds are history: still restorable, but not an alarm on every old build.
            const alarm = broken && d.status !== 'archived';
            const counts = `${d.retired.toLocaleString('en')} retired, ${d.dropped.toLocaleString('en')} dropped version(s)`;
            return (
              <li key={key} data-testid={`deployment-${key}`} className={`rounded border bg-white ${alarm ? 'border-red-300' : 'border-slate-200'}`}>
                <DeploymentDetails
                  app={d.app}
                  id={d.deploymentId}
                  summary={
                    <summary className="flex cursor-pointer flex-wrap items-center gap-3 px-4 py-3">
                      <span className="font-medium">{d.app}</span>
                      <span className="font-mono">{d.deploymentId}</span>
                      <DeploymentStatus status={d.status} />
                      {d.lastSeenAt && Date.now() - d.lastSeenAt.getTime() < 120_000 ? (
                        <span
                          className="rounded border border-emerald-300 px-2 py-0.5 text-xs text-emerald-800"
                          title="sessions named app@deployment were connected at the last collection"
                        >
                          seen live
                        </span>
                      ) : null}
                      <span className="text-sm text-slate-600">{d.versions.toLocaleString('en')} version(s)</span>
                      {alarm ? (
                        <span className="text-sm font-semibold text-red-700">
                          {d.status === 'live' || d.status === 'pending' ? 'calls' : 'rollback target has'} {counts}
                        </span>
                      ) : broken ? (
                        <span className="text-sm text-slate-600">references {counts}</span>
                      ) : null}
                      {broken && hasRole(actor, versionNeeds.retireOrRestore) ? (
                        <RestoreDeploymentVersions app={d.app} id={d.deploymentId} count={d.retired + d.dropped} />
                      ) : null}
                      <span className="ml-auto text-sm text-slate-500">
                        {d.status === 'live' && d.liveAt ? (
                          <>
                            live since <RelativeTime date={d.liveAt} />
                          </>
                        ) : d.supersededAt ? (
                          <>
                            replaced <RelativeTime date={d.supersededAt} />
                          </>
                        ) : (
                          <>
                            registered <RelativeTime date={d.createdAt} />
                          </>
                        )}
                      </span>
                    </summary>
                  }
                />
              </li>
            );
          })}
        </ul>
      )}
      <nav aria-label="Pages" className="flex justify-end gap-2 text-sm">
        {older ? (
          <Link href="/deployments" className="rounded border px-3 py-1">
            Newest
          </Link>
        ) : null}
        {next ? (
          <Link href={`/deployments?older=${encodeURIComponent(next)}`} className="rounded border px-3 py-1">
            Older deployments
          </Link>
        ) : null}
      </nav>
    </div>
  );
}
