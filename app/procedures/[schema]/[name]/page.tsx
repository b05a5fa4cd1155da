import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { connection } from 'next/server';
import { BoundBy } from '@/components/BoundBy';
import { ErrorState, InvalidAddress } from '@/components/States';
import { VersionTable, type UsageJson } from '@/components/VersionTable';
import { bindingReferences } from '@/lib/bindings';
import { db } from '@/lib/db/pool';
import { driftProblem, findDrift } from '@/lib/drift';
import { getProcedureGroup } from '@/lib/procedures';
import { callSeriesFor, usageForVersions } from '@/lib/usage';
import { usageTargets } from '@/lib/config';
import { requirePageActor } from '@/lib/web/actor';
import { load } from '@/lib/web/load';
import { parseQuery, parseRoute, queries, routes } from '@/lib/web/params';
import { hasRole, versionNeeds } from '@/lib/roles';

type Props = { params: Promise<{ schema: string; name: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { schema, name } = await params;
  return { title: `${schema}.${name}` };
}

export default async function ProcedurePage({ params, searchParams }: Props) {
  await connection();
  const actor = await requirePageActor('viewer');
  // Next.js has decoded the path once; it is never decoded again.
  const route = parseRoute(routes.procedure, await params);
  if (!route) notFound();
  const { schema, name } = route;
  const query = parseQuery(queries.procedure, await searchParams);
  if (!query.ok) return <InvalidAddress error={query.error} href={`/procedures/${encodeURIComponent(schema)}/${encodeURIComponent(name)}`} />;
  const { window } = query.value;
  const r = await load(async () => {
    const group = await getProcedureGroup(db(), schema, name);
    if (!group) return null;
    const ids = group.overloads.flatMap((o) => o.versions.map((v) => v.id));
    const [usage, series, bound, drift] = await Promise.all([
      usageForVersions(db(), ids, window, usageTargets()),
      callSeriesFor(db(), ids),
      bindingReferences(db(), ids),
      findDrift(db(), { versionIds: ids }),
    ]);
    return { group, usage, series, bound, drift };
  });
  if (!r.ok) return <ErrorState title={`Cannot read ${schema}.${name}`}>{r.message}</ErrorState>;
  if (!r.data) notFound();
  const { group, usage, series, bound, drift } = r.data;

  return (
    <div className="space-y-8">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <Link href="/procedures" className="text-sm text-sky-800 underline">
            Procedures
          </Link>
          <h1 className="mt-1 font-mono text-xl font-semibold">
            {schema}.{name}
          </h1>
        </div>
        <nav aria-label="Window" className="flex gap-1 text-sm">
          {(['24h', '7d', '30d'] as const).map((w) => (
            <Link
              key={w}
              href={`?window=${w}`}
              aria-current={w === window ? 'true' : undefined}
              className={`rounded px-3 py-1 ${w === window ? 'bg-slate-900 text-white' : 'border border-slate-300 hover:bg-slate-100'}`}
            >
              {w}
            </Link>
          ))}
        </nav>
      </div>
      {group.overloads.map((o) => (
        <section key={o.id} aria-label={`${o.schema}.${o.name}(${o.args})`} className="space-y-2">
          <h2 className="font-mono text-base font-semibold">
            {o.kind} {o.name}({o.args}) <span className="font-sans text-sm font-normal text-slate-500">{o.versions.length} version(s)</span>
          </h2>
          {o.versions.some((v) => bound.has(v.id)) ? (
            <div className="text-sm">
              <BoundBy refs={o.versions.flatMap((v) => bound.get(v.id) ?? [])} versions={new Map(o.versions.map((v) => [v.id, v]))} />
            </div>
          ) : null}
          <VersionTable
            window={window}
            canAct={hasRole(actor, versionNeeds.retireOrRestore)}
            canOverride={hasRole(actor, versionNeeds.override)}
            rows={o.versions.map((v) => ({
              id: v.id,
              schema: v.schema,
              physicalName: v.physicalName,
              hash: v.hash,
              status: v.status,
              revision: v.revision,
              statusChangedAt: v.statusChangedAt.toISOString(),
              createdAt: v.createdAt.toISOString(),
              pushedBy: v.pushedBy,
              deployments: v.deployments,
              series: series.get(v.id) ?? [],
              quarantineName: v.quarantineName,
              drift: drift.has(v.id) ? driftProblem(drift.get(v.id)!) : null,
            }))}
            initialUsage={Object.fromEntries(
              o.versions.map((v) => {
                const u = usage.get(v.id);
                const json: UsageJson | null = u ? { ...u, lastCalledAt: u.lastCalledAt?.toISOString() ?? null } : null;
                return [v.id, json];
              }),
            )}
          />
        </section>
      ))}
    </div>
  );
}
