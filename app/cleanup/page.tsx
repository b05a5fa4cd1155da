import type { Metadata } from 'next';
import Link from 'next/link';
import { connection } from 'next/server';
import { CleanupRunner } from '@/components/CleanupRunner';
import { RelativeTime } from '@/components/RelativeTime';
import { EmptyState, ErrorState } from '@/components/States';
import { VersionActionDialog } from '@/components/VersionActionDialog';
import { searchAudit } from '@/lib/audit';
import { formatDuration, parseDuration, cleanupConfig } from '@/lib/cleanup/config';
import { describePolicy } from '@/lib/cleanup/retention';
import { planCleanup } from '@/lib/cleanup/plan';
import { usageTargets } from '@/lib/config';
import { db } from '@/lib/db/pool';
import { listDropped } from '@/lib/versions';
import { requirePageActor } from '@/lib/web/actor';
import { load } from '@/lib/web/load';

export const metadata: Metadata = { title: 'Cleanup' };

const verdictStyle = {
  pass: { icon: '✓', cls: 'text-emerald-700', label: 'pass' },
  fail: { icon: '✗', cls: 'text-red-700', label: 'fail' },
  unknown: { icon: '?', cls: 'text-amber-700', label: 'unknown' },
} as const;

const actionStyle: Record<string, string> = {
  drop: 'bg-red-100 text-red-800',
  quarantine: 'bg-amber-100 text-amber-900',
  keep: 'bg-slate-100 text-slate-700',
};

const PAGE_SIZE = 100;
const DROPPED_SHOWN = 100;
const capitalized = (s: string) => s[0]!.toUpperCase() + s.slice(1);
const shows = ['all', 'drop', 'quarantine', 'keep'] as const;
type Show = (typeof shows)[number];
/** Actionable rows first: what the next applied run will do is what an operator checks. */
const verb: Record<Show, string> = { all: 'listed', drop: 'dropped', quarantine: 'quarantined', keep: 'kept' };
const actionOrder: Record<string, number> = { drop: 0, quarantine: 1, keep: 2 };

type Params = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export default async function CleanupPage({ searchParams }: { searchParams: Promise<Params> }) {
  await connection();
  const actor = await requirePageActor('viewer');
  const params = await searchParams;
  const show: Show = shows.includes(one(params.show) as Show) ? (one(params.show) as Show) : 'all';
  const page = Math.max(1, Number.parseInt(one(params.page) ?? '1', 10) || 1);
  const r = await load(async () => {
    const config = cleanupConfig();
    const [plan, dropped, lastRun] = await Promise.all([
      planCleanup(db(), usageTargets(), config),
      listDropped(db(), DROPPED_SHOWN),
      searchAudit(db(), { action: 'cleanup.run', limit: 1 }),
    ]);
    return { plan, dropped, lastRun: lastRun.entries[0] ?? null };
  });
  if (!r.ok) return <ErrorState title="Cannot compute the cleanup plan">{r.message}</ErrorState>;
  const { plan, dropped, lastRun } = r.data;
  const c = plan.config;
  const interval = process.env.PROCVER_CLEANUP_INTERVAL ? parseDuration(process.env.PROCVER_CLEANUP_INTERVAL, 'PROCVER_CLEANUP_INTERVAL') : null;
  const pending = plan.rows.filter((x) => x.action !== 'keep').length + plan.retire.length;
  // The plan is computed whole (every candidate is checked); the page shows a hundred rows of it.
  const count = (a: Show) => (a === 'all' ? plan.rows.length : plan.rows.filter((x) => x.action === a).length);
  const shown = plan.rows
    .filter((x) => show === 'all' || x.action === show)
    .sort((a, b) => actionOrder[a.action]! - actionOrder[b.action]!);
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  const visible = shown.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  const href = (change: { show?: Show; page?: number }) => {
    const q = new URLSearchParams();
    const s = change.show ?? show;
    if (s !== 'all') q.set('show', s);
    if ((change.page ?? 1) > 1) q.set('page', String(change.page));
    return q.size > 0 ? `/cleanup?${q}` : '/cleanup';
  };

  return (
    <div className="space-y-8">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <h1 className="text-xl font-semibold">Cleanup</h1>
          <p className="mt-1 max-w-3xl text-sm text-slate-600">
            A retired version is dropped only when every check passes; anything unknown keeps it. It is first renamed into quarantine (same
            function, any remaining caller fails loudly and a restore renames it back), and dropped after {formatDuration(c.quarantineMs)} of silence
            with no older transaction open. Quiet window {formatDuration(c.quietWindowMs)}; rollback window: the newest {c.rollbackKeep} previous
            deployment(s) per app and those live within {c.rollbackDays} days.
          </p>
          <p className="mt-2 text-sm">
            Last applied run: {lastRun ? <RelativeTime date={lastRun.at} /> : 'never'}
            {interval ? (
              <>
                {' '}· next due {lastRun ? <RelativeTime date={new Date(lastRun.at.getTime() + interval)} /> : 'now'} (every {formatDuration(interval)})
              </>
            ) : (
              <> · runs when your scheduler calls <code>procver cleanup --apply</code></>
            )}
          </p>
        </div>
        <CleanupRunner canApply={actor.role === 'admin'} pending={pending} />
      </div>

      <section aria-labelledby="plan" className="space-y-3">
        <h2 id="plan" className="font-semibold">
          Plan: {plan.rows.length} retired version(s), {plan.rows.filter((x) => x.action === 'drop').length} to drop,{' '}
          {plan.rows.filter((x) => x.action === 'quarantine').length} to quarantine
        </h2>
        {plan.rows.length > 0 ? (
          <nav aria-label="Plan rows" className="flex flex-wrap items-center gap-2 text-sm">
            {shows.map((a) => (
              <Link
                key={a}
                href={href({ show: a, page: 1 })}
                aria-current={show === a ? 'page' : undefined}
                className={`rounded border px-2 py-1 ${show === a ? 'border-slate-900 bg-slate-900 text-white' : 'border-slate-300 hover:bg-slate-100'}`}
              >
                {capitalized(a)} ({count(a).toLocaleString('en')})
              </Link>
            ))}
            {pages > 1 ? (
              <span className="ml-auto flex items-center gap-2">
                <span className="text-slate-600">
                  page {page} of {pages}
                </span>
                {page > 1 ? (
                  <Link href={href({ page: page - 1 })} className="rounded border px-2 py-1">
                    Previous
                  </Link>
                ) : null}
                {page < pages ? (
                  <Link href={href({ page: page + 1 })} className="rounded border px-2 py-1">
                    Next
                  </Link>
                ) : null}
              </span>
            ) : null}
          </nav>
        ) : null}
        {plan.rows.length === 0 ? (
          <EmptyState title="No retired versions">Retire versions from a procedure's page; the plan shows here.</EmptyState>
        ) : shown.length === 0 ? (
          <EmptyState title={`No version in the plan would be ${verb[show]}`}>
            <Link className="text-sky-800 underline" href={href({ show: 'all', page: 1 })}>
              Show all {plan.rows.length.toLocaleString('en')}
            </Link>
          </EmptyState>
        ) : visible.length === 0 ? (
          <EmptyState title={`There is no page ${page}`}>
            <Link className="text-sky-800 underline" href={href({ page: pages })}>
              Go to page {pages}
            </Link>
          </EmptyState>
        ) : (
          <ul className="space-y-3">
            {visible.map((row) => (
              <li key={row.versionId} data-testid={`plan-${row.physicalName}`} className="rounded border border-slate-200 bg-white p-4">
                <div className="flex flex-wrap items-center gap-3">
                  <span className={`rounded px-2 py-0.5 text-xs font-semibold uppercase ${actionStyle[row.action]}`}>{row.action}</span>
                  <Link className="font-mono text-sky-800 underline" href={`/versions/${encodeURIComponent(row.schema)}/${encodeURIComponent(row.physicalName)}`}>
                    {row.schema}.{row.physicalName}
                  </Link>
                  <span className="font-mono text-sm text-slate-600">{row.procedure}</span>
                  {row.quarantinedAt ? <span className="text-sm text-amber-800">quarantined as {row.currentName}</span> : null}
                </div>
                <dl className="mt-2 grid grid-cols-[max-content_1fr] gap-x-3 gap-y-1 text-sm">
                  {row.checks.map((check) => {
                    const v = verdictStyle[check.verdict];
                    return (
                      <div key={check.name} className="contents">
                        <dt className={`font-medium ${v.cls}`}>
                          <span aria-hidden="true">{v.icon}</span> {check.name.replace('_', ' ')} <span className="sr-only">{v.label}</span>
                        </dt>
                        <dd className="text-slate-700">
                          {check.detail.length === 1 ? (
                            check.detail[0]
                          ) : (
                            <ul className="list-inside list-disc">
                              {check.detail.map((d) => (
                                <li key={d}>{d}</li>
                              ))}
                            </ul>
                          )}
                        </dd>
                      </div>
                    );
                  })}
                </dl>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="retention" className="space-y-3">
        <h2 id="retention" className="font-semibold">
          Retention policy{c.retention ? `: ${plan.retire.length} live version(s) to retire` : ': off'}
        </h2>
        {!c.retention ? (
          <p className="text-sm text-slate-600">
            Versions are retired only by people. Set <code>PROCVER_RETENTION_AFTER</code> (e.g. <code>30d</code>) and{' '}
            <code>PROCVER_RETENTION_KEEP</code> (default 3) to have each applied run retire old versions nobody uses; they are dropped only
            by a later run, after the quiet window and every check above.
          </p>
        ) : (
          <>
            <p className="text-sm text-slate-600">
              {capitalized(describePolicy(c.retention))}. Applying the plan retires these (each with an audit entry); the quiet window starts then.
            </p>
            {plan.retire.length === 0 ? (
              <EmptyState title="Nothing to retire by the policy" />
            ) : (
              <ul className="divide-y divide-slate-100 rounded border border-slate-200 bg-white text-sm">
                {plan.retire.slice(0, PAGE_SIZE).map((v) => (
                  <li key={v.versionId} data-testid={`retire-${v.physicalName}`} className="px-3 py-2">
                    <Link className="font-mono text-sky-800 underline" href={`/versions/${encodeURIComponent(v.schema)}/${encodeURIComponent(v.physicalName)}`}>
                      {v.schema}.{v.physicalName}
                    </Link>{' '}
                    <span className="font-mono text-slate-600">{v.procedure}</span>
                    <ul className="mt-1 list-inside list-disc text-slate-700">
                      {v.reasons.map((reason) => (
                        <li key={reason}>{reason}</li>
                      ))}
                    </ul>
                  </li>
                ))}
              </ul>
            )}
            {plan.retire.length > PAGE_SIZE ? (
              <p className="text-sm text-slate-600">
                …and {(plan.retire.length - PAGE_SIZE).toLocaleString('en')} more; <code>procver cleanup --json</code> lists them all.
              </p>
            ) : null}
          </>
        )}
      </section>

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
                <span className="font-mono">
                  {d.schema}.{d.physicalName}
                </span>
                <span className="font-mono text-slate-600">{d.procedure}</span>
                <span className="text-slate-500">
                  dropped <RelativeTime date={d.droppedAt} />
                </span>
                {actor.role !== 'viewer' ? (
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
