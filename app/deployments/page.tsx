import type { Metadata } from 'next';
import Link from 'next/link';
import { connection } from 'next/server';
import { DeploymentStatus, VersionStatus } from '@/components/badges';
import { RestoreDeploymentVersions } from '@/components/RestoreDeploymentVersions';
import { RelativeTime } from '@/components/RelativeTime';
import { EmptyState, ErrorState } from '@/components/States';
import { db } from '@/lib/db/pool';
import { deploymentVersionRefs, listDeployments } from '@/lib/deployments';
import { requirePageActor } from '@/lib/web/actor';
import { load } from '@/lib/web/load';

export const metadata: Metadata = { title: 'Deployments' };

export default async function DeploymentsPage() {
  await connection();
  const actor = await requirePageActor('viewer');
  const r = await load(() => Promise.all([listDeployments(db()), deploymentVersionRefs(db())]));
  if (!r.ok) return <ErrorState title="Cannot list deployments">{r.message}</ErrorState>;
  const [rows, refs] = r.data;
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
            const versions = refs.get(key) ?? [];
            return (
              <li key={key} data-testid={`deployment-${key}`} className={`rounded border bg-white ${broken ? 'border-red-300' : 'border-slate-200'}`}>
                <details>
                  <summary className="flex cursor-pointer flex-wrap items-center gap-3 px-4 py-3">
                    <span className="font-medium">{d.app}</span>
                    <span className="font-mono">{d.deploymentId}</span>
                    <DeploymentStatus status={d.status} />
                    {d.lastSeenAt && Date.now() - d.lastSeenAt.getTime() < 120_000 ? (
                      <span className="rounded border border-emerald-300 px-2 py-0.5 text-xs text-emerald-800" title="sessions named app@deployment were connected at the last collection">
                        seen live
                      </span>
                    ) : null}
                    <span className="text-sm text-slate-600">{d.versions} version(s)</span>
                    {broken ? (
                      <span className="text-sm font-semibold text-red-700">
                        {d.status === 'live' || d.status === 'pending' ? 'calls' : 'rollback target has'} {d.retired} retired, {d.dropped} dropped version(s)
                      </span>
                    ) : null}
                    {broken && actor.role !== 'viewer' ? <RestoreDeploymentVersions app={d.app} id={d.deploymentId} count={d.retired + d.dropped} /> : null}
                    <span className="ml-auto text-sm text-slate-500">
                      {d.status === 'live' && d.liveAt ? (
                        <>live since <RelativeTime date={d.liveAt} /></>
                      ) : d.supersededAt ? (
                        <>replaced <RelativeTime date={d.supersededAt} /></>
                      ) : (
                        <>registered <RelativeTime date={d.createdAt} /></>
                      )}
                    </span>
                  </summary>
                  <table className="w-full border-t border-slate-100 text-sm">
                    <tbody>
                      {versions.map((v) => (
                        <tr key={v.physicalName} className={`border-t border-slate-50 ${v.status !== 'live' ? 'bg-red-50' : ''}`}>
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
                </details>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
