import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { connection } from 'next/server';
import { DeploymentBadge, VersionStatus } from '@/components/badges';
import { BoundBy } from '@/components/BoundBy';
import { RelativeTime } from '@/components/RelativeTime';
import { ErrorState, InvalidAddress } from '@/components/States';
import { db } from '@/lib/db/pool';
import { bindingReferences } from '@/lib/bindings';
import { diffLines } from '@/lib/diff';
import { describeDrift } from '@/lib/drift';
import { versionProperties } from '@/lib/properties';
import { getVersionDetail } from '@/lib/versions';
import { requirePageActor } from '@/lib/web/actor';
import { load } from '@/lib/web/load';
import { parseQuery, parseRoute, queries, routes } from '@/lib/web/params';

type Props = { params: Promise<{ schema: string; physical: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: (await params).physical };
}

function VersionLink({ v }: { v: { schema: string; physicalName: string; status: string } }) {
  return (
    <li className="flex items-center gap-2">
      <Link className="font-mono text-sky-800 underline" href={`/versions/${encodeURIComponent(v.schema)}/${encodeURIComponent(v.physicalName)}`}>
        {v.schema}.{v.physicalName}
      </Link>
      <VersionStatus status={v.status} />
    </li>
  );
}

const rowStyle = { same: '', removed: 'bg-red-50', added: 'bg-emerald-50', changed: 'bg-amber-50' } as const;

export default async function VersionPage({ params, searchParams }: Props) {
  await connection();
  await requirePageActor('viewer');
  // Next.js has decoded the path once; it is never decoded again.
  const route = parseRoute(routes.version, await params);
  if (!route) notFound();
  const { schema, physical } = route;
  const query = parseQuery(queries.version, await searchParams);
  if (!query.ok) return <InvalidAddress error={query.error} href={`/versions/${encodeURIComponent(schema)}/${encodeURIComponent(physical)}`} />;
  const { against } = query.value;
  const r = await load(async () => {
    const detail = await getVersionDetail(db(), schema, physical);
    if (!detail) return null;
    const [other, bound, properties] = await Promise.all([
      against ? getVersionDetail(db(), schema, against) : null,
      bindingReferences(db(), [detail.version.id]),
      versionProperties(db(), detail.version.id),
    ]);
    return { detail, other: other && other.procedure.id === detail.procedure.id ? other : null, bound: bound.get(detail.version.id) ?? [], properties };
  });
  if (!r.ok) return <ErrorState title={`Cannot read ${physical}`}>{r.message}</ErrorState>;
  if (!r.data) notFound();
  const { detail, other, bound, properties } = r.data;
  const { version: v, procedure: proc } = detail;

  return (
    <div className="space-y-8">
      <div>
        <Link href={`/procedures/${encodeURIComponent(proc.schema)}/${encodeURIComponent(proc.name)}`} className="text-sm text-sky-800 underline">
          {proc.schema}.{proc.name}
        </Link>
        <h1 className="mt-1 flex flex-wrap items-center gap-3 font-mono text-xl font-semibold">
          {v.physicalName} <VersionStatus status={v.status} />
        </h1>
        <dl className="mt-3 grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
          <dt className="text-slate-500">Signature</dt>
          <dd className="font-mono">
            {proc.kind} {proc.schema}.{proc.name}({proc.args})
          </dd>
          <dt className="text-slate-500">Hash</dt>
          <dd className="font-mono break-all">{v.hash}</dd>
          <dt className="text-slate-500">Language</dt>
          <dd>
            {v.language}
            {v.mayBeInlined ? ' (PostgreSQL may inline it: calls are not counted)' : ''}
          </dd>
          <dt className="text-slate-500">Pushed</dt>
          <dd>
            <RelativeTime date={v.createdAt} /> by {v.pushedBy}
          </dd>
          {v.quarantineName && v.quarantinedAt ? (
            <>
              <dt className="text-slate-500">Quarantine</dt>
              <dd data-testid="quarantine">
                renamed to <span className="font-mono">{v.quarantineName}</span> by cleanup <RelativeTime date={v.quarantinedAt} />; a tripwire under its name forwards
                and counts every call, and cleanup puts it back if one comes (see{' '}
                <Link href="/cleanup" className="text-sky-800 underline">
                  Cleanup
                </Link>
                )
              </dd>
            </>
          ) : null}
          <dt className="text-slate-500">Deployments</dt>
          <dd className="flex flex-wrap gap-1">
            {detail.deployments.length === 0 ? <span className="text-slate-400">none</span> : null}
            {detail.deployments.map((d) => (
              <DeploymentBadge key={`${d.app}/${d.deploymentId}`} app={d.app} id={d.deploymentId} status={d.status} />
            ))}
          </dd>
          <dt className="text-slate-500">Bindings</dt>
          <dd>
            <BoundBy refs={bound} />
          </dd>
        </dl>
      </div>

      {detail.drift ? (
        <section role="alert" aria-labelledby="drift" className="space-y-2 rounded border border-red-300 bg-red-50 p-3 text-sm text-red-900">
          <h2 id="drift" className="font-semibold">
            Drift: the database does not run this version&apos;s source
          </h2>
          <p>
            {describeDrift(detail.drift.info)}. procver leaves it alone: <code>procver check</code> fails for builds that use it and cleanup never drops it. Put the
            source below back, or ship the change as a new version with <code>procver push</code>.
          </p>
          <p className="font-medium">In the database now:</p>
          {detail.drift.definitions.map((d) => (
            <pre key={d} className="overflow-x-auto rounded border border-red-200 bg-white p-3 text-xs text-slate-900">
              {d}
            </pre>
          ))}
        </section>
      ) : null}

      <section aria-labelledby="properties">
        <h2 id="properties" className="font-semibold">
          Properties
        </h2>
        <dl className="mt-1 grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
          <dt className="text-slate-500">Owner</dt>
          <dd className="font-mono">{properties.owner ?? <span className="text-slate-400">not in the database</span>}</dd>
          <dt className="text-slate-500">Comment</dt>
          <dd>{properties.comment ?? <span className="text-slate-400">none</span>}</dd>
          <dt className="text-slate-500">EXECUTE</dt>
          <dd className="font-mono">{properties.grants.length === 0 ? <span className="font-sans text-slate-400">none</span> : properties.grants.join(', ')}</dd>
          <dt className="text-slate-500">In the sources</dt>
          <dd>
            {properties.fromSources.length === 0 ? (
              <span className="text-slate-400">no GRANT, REVOKE, COMMENT or OWNER for this procedure</span>
            ) : (
              <ul className="font-mono text-xs">
                {properties.fromSources.map((s) => (
                  <li key={s}>{s}</li>
                ))}
              </ul>
            )}
          </dd>
        </dl>
      </section>

      <div className="grid gap-6 md:grid-cols-2">
        <section aria-labelledby="calls">
          <h2 id="calls" className="font-semibold">
            Calls
          </h2>
          {detail.callees.length === 0 ? (
            <p className="mt-1 text-sm text-slate-600">No other managed version.</p>
          ) : (
            <ul className="mt-1 space-y-1 text-sm">
              {detail.callees.map((c) => (
                <VersionLink key={`${c.schema}.${c.physicalName}`} v={c} />
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="called-by">
          <h2 id="called-by" className="font-semibold">
            Called by
          </h2>
          {detail.callers.length === 0 ? (
            <p className="mt-1 text-sm text-slate-600">No managed version calls it.</p>
          ) : (
            <ul className="mt-1 space-y-1 text-sm">
              {detail.callers.map((c) => (
                <VersionLink key={`${c.schema}.${c.physicalName}`} v={c} />
              ))}
            </ul>
          )}
        </section>
      </div>

      <section aria-labelledby="compare" className="space-y-2">
        <h2 id="compare" className="font-semibold">
          Compare with another version
        </h2>
        {detail.siblings.length === 0 ? (
          <p className="text-sm text-slate-600">
            This is the only version of {proc.name}({proc.args}).
          </p>
        ) : (
          <form className="flex items-end gap-2 text-sm">
            <div>
              <label htmlFor="against" className="block text-slate-600">
                Other version
              </label>
              <select id="against" name="against" defaultValue={other?.version.physicalName ?? ''} className="rounded border border-slate-300 px-2 py-1 font-mono">
                {detail.siblings.map((s) => (
                  <option key={s.id} value={s.physicalName}>
                    {s.physicalName} ({s.status})
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" className="rounded bg-slate-900 px-3 py-1.5 text-white">
              Show diff
            </button>
          </form>
        )}
        {other ? (
          <div className="overflow-x-auto rounded border border-slate-200 bg-white">
            <table className="w-full border-collapse font-mono text-xs" aria-label={`Differences between ${other.version.physicalName} and ${v.physicalName}`}>
              <thead className="bg-slate-100 text-left">
                <tr>
                  <th colSpan={2} className="px-2 py-1">
                    {other.version.physicalName}
                  </th>
                  <th colSpan={2} className="px-2 py-1">
                    {v.physicalName}
                  </th>
                </tr>
              </thead>
              <tbody>
                {diffLines(other.version.source, v.source).map((d, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: diff rows are positional and never reordered
                  <tr key={i} className={rowStyle[d.kind]} data-diff={d.kind}>
                    <td className="w-10 select-none px-2 text-right text-slate-400">{d.left?.line ?? ''}</td>
                    <td className={`whitespace-pre px-2 ${d.kind === 'removed' || d.kind === 'changed' ? 'text-red-800' : ''}`}>{d.left?.text ?? ''}</td>
                    <td className="w-10 select-none border-l border-slate-200 px-2 text-right text-slate-400">{d.right?.line ?? ''}</td>
                    <td className={`whitespace-pre px-2 ${d.kind === 'added' || d.kind === 'changed' ? 'text-emerald-800' : ''}`}>{d.right?.text ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>

      <section aria-labelledby="source">
        <h2 id="source" className="font-semibold">
          Source, exactly as created
        </h2>
        <pre className="mt-2 overflow-x-auto rounded border border-slate-200 bg-white p-3 text-xs">{v.source}</pre>
      </section>
    </div>
  );
}
