import Link from 'next/link';
import { cleanupShows } from '@/lib/web/params';
import { EmptyState, ErrorState } from '@/components/States';
import { RelativeTime } from '@/components/RelativeTime';
import { formatDuration } from '@/lib/cleanup/config';
import { RELEASE_EXPLAINED } from '@/lib/cleanup/plan';
import type { ReadingSource } from '@/lib/cleanup/preview';
import { describePolicy } from '@/lib/cleanup/retention';
import { summarizePlan } from '@/lib/cleanup/summary';
import { currentPlan } from '@/lib/web/cleanupPlan';

const verdictStyle = {
  pass: { icon: '✓', cls: 'text-emerald-700', label: 'pass' },
  fail: { icon: '✗', cls: 'text-red-700', label: 'fail' },
  unknown: { icon: '?', cls: 'text-amber-700', label: 'unknown' },
} as const;

const actionStyle: Record<string, string> = {
  drop: 'bg-red-100 text-red-800',
  quarantine: 'bg-amber-100 text-amber-900',
  release: 'bg-red-700 text-white',
  keep: 'bg-slate-100 text-slate-700',
};

/** Where the evidence came from, after "Evidence read 2 minutes ago" (lib/cleanup/preview.ts decides). */
const evidenceWords: Record<ReadingSource, (interval: string) => string> = {
  taken: () => ': the instances were read for this view.',
  reused: (interval) => `: a reading less than ${interval} old (the collection interval) is reused, not taken again.`,
  stored: () => ': the latest stored reading; viewing this page takes none. An applied run reads every instance afresh before each step.',
};

const PAGE_SIZE = 100;
/** What "release" means, in the words the CLI uses too. */
const RELEASE_WHY = RELEASE_EXPLAINED;
const capitalized = (s: string) => s[0]!.toUpperCase() + s.slice(1);
export const shows = cleanupShows;
export type Show = (typeof shows)[number];
/** Actionable rows first: what the next applied run will do is what an operator checks. */
const verb: Record<Show, string> = { all: 'listed', drop: 'dropped', quarantine: 'quarantined', release: 'put back from quarantine', keep: 'kept' };
const actionOrder: Record<string, number> = { release: 0, drop: 1, quarantine: 2, keep: 3 };

/** The plan, a page of it at a time, and what the retention policy would retire. */
export async function PlanSections({ show, page }: { show: Show; page: number }) {
  const r = await currentPlan();
  if (!r.ok) return <ErrorState title="Cannot compute the cleanup plan">{r.message}</ErrorState>;
  if (r.data.reading === 'none') {
    return (
      <section aria-labelledby="plan" className="space-y-3">
        <h2 id="plan" className="font-semibold">
          Plan
        </h2>
        <EmptyState title="No usage reading yet">
          The plan needs a reading of every instance. <code>procver collect</code> takes them; viewing this page does not.
        </EmptyState>
      </section>
    );
  }
  const { plan, reading, readAt } = r.data;
  const c = plan.config;
  // The plan is computed whole (every candidate is checked); the page shows a hundred rows of it.
  const count = (a: Show) => (a === 'all' ? plan.rows.length : plan.rows.filter((x) => x.action === a).length);
  const shown = plan.rows.filter((x) => show === 'all' || x.action === show).sort((a, b) => actionOrder[a.action]! - actionOrder[b.action]!);
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
    <>
      <section aria-labelledby="plan" className="space-y-3">
        <h2 id="plan" className="font-semibold">
          Plan: {summarizePlan(plan.rows, { total: true, grouped: true })}
        </h2>
        <p data-testid="plan-evidence" className="text-sm text-slate-600">
          {readAt ? (
            <>
              Evidence read <RelativeTime date={readAt} />
            </>
          ) : (
            'No instance has been read yet'
          )}
          {evidenceWords[reading](formatDuration(c.collectIntervalMs))}
        </p>
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
              <li
                key={row.versionId}
                data-testid={`plan-${row.physicalName}`}
                // Red like "retired but still called": a tripwire hit is a caller nobody knew about.
                className={`rounded border p-4 ${row.action === 'release' ? 'border-red-300 bg-red-50' : 'border-slate-200 bg-white'}`}
              >
                <div className="flex flex-wrap items-center gap-3">
                  <span className={`rounded px-2 py-0.5 text-xs font-semibold uppercase ${actionStyle[row.action]}`}>{row.action}</span>
                  <Link className="font-mono text-sky-800 underline" href={`/versions/${encodeURIComponent(row.schema)}/${encodeURIComponent(row.physicalName)}`}>
                    {row.schema}.{row.physicalName}
                  </Link>
                  <span className="font-mono text-sm text-slate-600">{row.procedure}</span>
                  {row.quarantinedAt ? <span className="text-sm text-amber-800">quarantined as {row.currentName}</span> : null}
                </div>
                {row.action === 'release' ? <p className="mt-1 text-sm font-semibold text-red-700">{RELEASE_WHY}</p> : null}
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
            Versions are retired only by people. Set <code>PROCVER_RETENTION_AFTER</code> (e.g. <code>30d</code>) and <code>PROCVER_RETENTION_KEEP</code> (default 3) to
            have each applied run retire old versions nobody uses; they are dropped only by a later run, after the quiet window and every check above.
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
    </>
  );
}

export function PlanPending() {
  return (
    <section aria-busy="true" className="space-y-3">
      <h2 className="font-semibold">Plan</h2>
      <p role="status" className="rounded border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-600">
        Checking every retired version against deployments, usage on every instance, dependents and quarantine…
      </p>
    </section>
  );
}
