import { connection } from 'next/server';
import { listDeployments } from '@/lib/deployments';
import { db } from '@/lib/db/pool';
import { listProcedures } from '@/lib/procedures';
import { instanceStatus } from '@/lib/usage';

const badge: Record<string, string> = {
  live: 'bg-emerald-100 text-emerald-800',
  previous: 'bg-amber-100 text-amber-800',
  pending: 'bg-sky-100 text-sky-800',
  archived: 'bg-slate-100 text-slate-600',
};

export default async function Home() {
  await connection();
  let data;
  try {
    data = await Promise.all([listProcedures(db()), listDeployments(db()), instanceStatus(db())]);
  } catch (e) {
    return (
      <div role="alert" className="rounded border border-red-200 bg-red-50 p-4 text-red-800">
        <h1 className="font-semibold">Cannot read the procver registry</h1>
        <p className="mt-1 text-sm">{(e as { code?: string }).code === 'config' ? (e as Error).message : 'The database did not answer or the registry is not migrated (run `procver migrate`).'}</p>
      </div>
    );
  }
  const [procs, deps, instances] = data;
  return (
    <div className="space-y-10">
      <section aria-label="Instances" className="flex flex-wrap gap-3 text-sm">
        {instances.length === 0 ? (
          <p className="text-slate-600">No usage collected yet: run <code>procver collect</code>.</p>
        ) : (
          instances.map((i) => (
            <div key={i.label} className={`rounded border px-3 py-2 ${i.lastError ? 'border-red-300 bg-red-50' : 'border-slate-200 bg-white'}`}>
              <span className="font-medium">{i.role}</span> <span className="font-mono text-xs">{i.label}</span>{' '}
              <span className="ml-2 text-slate-600">
                {i.lastError ? `not read: ${i.lastError}` : i.lagSeconds === null ? 'never read' : `read ${Math.round(i.lagSeconds)} s ago`}
              </span>
            </div>
          ))
        )}
      </section>
      <section>
        <h1 className="text-xl font-semibold">Procedures</h1>
        {procs.length === 0 ? (
          <p className="mt-3 text-slate-600">No procedures yet. Push some with <code>procver push &lt;dir&gt;</code>.</p>
        ) : (
          <table className="mt-3 w-full border-collapse bg-white text-sm shadow-sm">
            <thead className="bg-slate-100 text-left text-slate-600">
              <tr>
                <th className="px-3 py-2">Procedure</th>
                <th className="px-3 py-2">Kind</th>
                <th className="px-3 py-2 text-right">Live</th>
                <th className="px-3 py-2 text-right">Retired</th>
                <th className="px-3 py-2 text-right">Dropped</th>
                <th className="px-3 py-2">Newest version</th>
                <th className="px-3 py-2 text-right">Deployments</th>
                <th className="px-3 py-2 text-right">Calls (24h)</th>
              </tr>
            </thead>
            <tbody>
              {procs.map((p) => (
                <tr key={p.id} className="border-t border-slate-100">
                  <td className="px-3 py-2 font-mono">{p.schema}.{p.name}({p.args})</td>
                  <td className="px-3 py-2">{p.kind}</td>
                  <td className="px-3 py-2 text-right">{p.live}</td>
                  <td className="px-3 py-2 text-right">{p.retired}</td>
                  <td className="px-3 py-2 text-right">{p.dropped}</td>
                  <td className="px-3 py-2 font-mono text-xs">{p.latestPhysicalName}</td>
                  <td className="px-3 py-2 text-right">{p.deployments}</td>
                  <td className="px-3 py-2 text-right tabular-nums">
                    {p.uncounted ? (
                      <span className="whitespace-nowrap text-slate-500" title="PostgreSQL may inline this LANGUAGE sql function into its callers, so pg_stat_user_functions cannot count its calls">
                        not counted{p.calls24h > 0 ? ` (≥ ${p.calls24h.toLocaleString('en')})` : ''}
                      </span>
                    ) : (
                      p.calls24h.toLocaleString('en')
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section>
        <h2 className="text-xl font-semibold">Frontend deployments</h2>
        {deps.length === 0 ? (
          <p className="mt-3 text-slate-600">No deployments registered. Use <code>procver deployments add</code>.</p>
        ) : (
          <table className="mt-3 w-full border-collapse bg-white text-sm shadow-sm">
            <thead className="bg-slate-100 text-left text-slate-600">
              <tr>
                <th className="px-3 py-2">App</th>
                <th className="px-3 py-2">Deployment</th>
                <th className="px-3 py-2">Status</th>
                <th className="px-3 py-2 text-right">Versions</th>
                <th className="px-3 py-2 text-right">Retired / dropped</th>
              </tr>
            </thead>
            <tbody>
              {deps.map((d) => (
                <tr key={`${d.app}/${d.deploymentId}`} className="border-t border-slate-100">
                  <td className="px-3 py-2">{d.app}</td>
                  <td className="px-3 py-2 font-mono">{d.deploymentId}</td>
                  <td className="px-3 py-2">
                    <span className={`rounded px-2 py-0.5 text-xs font-medium ${badge[d.status]}`}>{d.status}</span>
                    {d.lastSeenAt && Date.now() - d.lastSeenAt.getTime() < 120_000 ? (
                      <span
                        className="ml-2 rounded border border-emerald-300 px-2 py-0.5 text-xs text-emerald-800"
                        title="Sessions with application_name app@deployment were connected at the last collection"
                      >
                        seen live
                      </span>
                    ) : null}
                  </td>
                  <td className="px-3 py-2 text-right">{d.versions}</td>
                  <td className={`px-3 py-2 text-right ${d.retired + d.dropped > 0 ? 'font-semibold text-red-700' : ''}`}>
                    {d.retired} / {d.dropped}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
