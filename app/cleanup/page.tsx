import type { Metadata } from 'next';
import Link from 'next/link';
import { connection } from 'next/server';
import { Suspense } from 'react';
import { PlanRunner, PlanRunnerPending } from '@/components/cleanup/PlanRunner';
import { PlanPending, PlanSections, type Show } from '@/components/cleanup/PlanSections';
import { RelativeTime } from '@/components/RelativeTime';
import { EmptyState, ErrorState, InvalidAddress } from '@/components/States';
import { VersionActionDialog } from '@/components/VersionActionDialog';
import { searchAudit } from '@/lib/audit';
import { cleanupConfig, formatDuration, parseDuration } from '@/lib/cleanup/config';
import { readEnv } from '@/lib/config';
import { db } from '@/lib/db/pool';
import { cleanupNeeds, hasRole, versionNeeds } from '@/lib/roles';
import { listDropped } from '@/lib/versions';
import { requirePageActor } from '@/lib/web/actor';
import { load } from '@/lib/web/load';
import { parseQuery, queries, type SearchParams } from '@/lib/web/params';

export const metadata: Metadata = { title: 'Cleanup' };

const DROPPED_SHOWN = 100;

export default async function CleanupPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await connection();
  const actor = await requirePageActor('viewer');
  const params = await searchParams;
  const query = parseQuery(queries.cleanup, params);
  if (!query.ok) return <InvalidAddress error={query.error} href="/cleanup" />;
  const show: Show = query.value.show ?? 'all';
  const page = query.value.page ?? 1;
  // The page itself is quick; the plan streams in below it.
  const r = await load(async () => {
    const [dropped, lastRun] = await Promise.all([listDropped(db(), DROPPED_SHOWN), searchAudit(db(), { action: 'cleanup.run', limit: 1 })]);
    const every = readEnv().PROCVER_CLEANUP_INTERVAL;
    const interval = every ? parseDuration(every, 'PROCVER_CLEANUP_INTERVAL') : null;
    return { config: cleanupConfig(), interval, dropped, lastRun: lastRun.entries[0] ?? null };
  });
  if (!r.ok) return <ErrorState title="Cannot show the cleanup page">{r.message}</ErrorState>;
  const { config: c, interval, dropped, lastRun } = r.data;
  const canApply = hasRole(actor, cleanupNeeds.apply);

  return (
    <div className="space-y-8">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <h1 className="text-xl font-semibold">Cleanup</h1>
          <p className="mt-1 max-w-3xl text-sm text-slate-600">
            A retired version is dropped only when every check passes, on readings of every instance taken right before each decision; anything unknown keeps it. It is
            first renamed into quarantine (same function) with a tripwire under its old name that counts every call and forwards it (a trigger or pseudo-type function's
            tripwire refuses it instead), so a caller nobody knew about is seen and puts the version back; it is dropped after {formatDuration(c.quarantineMs)} in which
            the tripwire saw no call, with no older transaction open. Quiet window {formatDuration(c.quietWindowMs)}; rollback window: the newest {c.rollbackKeep}{' '}
            previous deployment(s) per app and those live within {c.rollbackDays} days.
          </p>
          <p className="mt-2 text-sm">
            Last applied run: {lastRun ? <RelativeTime date={lastRun.at} /> : 'never'}
            {interval ? (
              <>
                {' '}
                · next due {lastRun ? <RelativeTime date={new Date(lastRun.at.getTime() + interval)} /> : 'now'} (every {formatDuration(interval)})
              </>
            ) : (
              <>
                {' '}
                · runs when your scheduler calls <code>procver cleanup --apply</code>
              </>
            )}
          </p>
        </div>
        {hasRole(actor, cleanupNeeds.check) ? (
          <Suspense fallback={<PlanRunnerPending canApply={canApply} />}>
            <PlanRunner canApply={canApply} />
          </Suspense>
        ) : null}
      </div>

      <Suspense fallback={<PlanPending />}>
        <PlanSections show={show} page={page} />
      </Suspense>

      <section aria-labelledby="dropped" className="space-y-3">
        <h2 id="dropped" className="font-semibold">
          Dropped versions{dropped.length >= DROPPED_SHOWN ? ` (the ${DROPPED_SHOWN} dropped most recently)` : ''}
        </h2>
        <p className="text-sm text-slate-600">
          Cleanup kept everything needed to re-create each one exactly (definition, owner, grants, comment). Restore here or with{' '}
          <code>procver restore &lt;schema.physical_name&gt; --reason …</code>.
        </p>
        {dropped.length === 0 ? (
          <EmptyState title="Nothing has been dropped" />
        ) : (
          <ul className="divide-y divide-slate-100 rounded border border-slate-200 bg-white text-sm">
            {dropped.map((d) => (
              <li key={`${d.schema}.${d.physicalName}`} className="flex flex-wrap items-center gap-3 px-3 py-2">
                <Link className="font-mono text-sky-800 underline" href={`/versions/${encodeURIComponent(d.schema)}/${encodeURIComponent(d.physicalName)}`}>
                  {d.schema}.{d.physicalName}
                </Link>
                <span className="font-mono text-slate-600">{d.procedure}</span>
                <span className="text-slate-500">
                  dropped <RelativeTime date={d.droppedAt} />
                </span>
                {hasRole(actor, versionNeeds.retireOrRestore) ? (
                  <span className="ml-auto">
                    <VersionActionDialog action="restore" schema={d.schema} physicalName={d.physicalName} revision={d.revision} canOverride={false} />
                  </span>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
