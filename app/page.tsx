import type { Metadata } from 'next';
import Link from 'next/link';
import { connection } from 'next/server';
import { Suspense } from 'react';
import { DriftPending, DriftStatus } from '@/components/DriftStatus';
import { RelativeTime } from '@/components/RelativeTime';
import { ErrorState } from '@/components/States';
import { recentAudit } from '@/lib/audit';
import { db } from '@/lib/db/pool';
import { getOverview } from '@/lib/overview';
import { instanceStatus } from '@/lib/usage';
import { requirePageActor } from '@/lib/web/actor';
import { load } from '@/lib/web/load';

export const metadata: Metadata = { title: 'Overview' };

function Stat({ label, value, href }: { label: string; value: number; href?: string }) {
  const body = (
    <>
      <div className="text-2xl font-semibold tabular-nums">{value.toLocaleString('en')}</div>
      <div className="text-sm text-slate-600">{label}</div>
    </>
  );
  return <div className="rounded border border-slate-200 bg-white p-4">{href ? <Link href={href}>{body}</Link> : body}</div>;
}

export default async function OverviewPage() {
  await connection();
  await requirePageActor('viewer');
  const r = await load(() => Promise.all([getOverview(db()), recentAudit(db(), 10), instanceStatus(db())]));
  if (!r.ok) return <ErrorState title="Cannot read the procver registry">{r.message}</ErrorState>;
  const [o, audit, instances] = r.data;
  return (
    <div className="space-y-8">
      <h1 className="text-xl font-semibold">Overview</h1>
      <section aria-label="Totals" className="grid grid-cols-2 gap-3 md:grid-cols-4">
        <Stat label="procedures" value={o.procedures} href="/procedures" />
        <Stat label="live versions" value={o.live} />
        <Stat label="retired versions" value={o.retired} />
        <Stat label="dropped versions" value={o.dropped} />
      </section>

      <section aria-labelledby="retired-called">
        <h2 id="retired-called" className="font-semibold">
          Retired but still called
        </h2>
        {o.retiredButCalled.length === 0 ? (
          <p className="mt-2 text-sm text-slate-600">No retired version has been called since it was retired.</p>
        ) : (
          <ul className="mt-2 space-y-1">
            {o.retiredButCalled.map((v) => (
              <li key={`${v.schema}.${v.physicalName}`} className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
                <Link className="font-mono underline" href={`/versions/${encodeURIComponent(v.schema)}/${encodeURIComponent(v.physicalName)}`}>
                  {v.physicalName}
                </Link>{' '}
                ({v.procedure}): about {v.calls.toLocaleString('en')} call(s) since it was retired, the last <RelativeTime date={v.lastCalledAt} />
              </li>
            ))}
            {o.moreRetiredButCalled ? <li className="text-sm text-red-800">…and more: these are the {o.retiredButCalled.length} called most recently.</li> : null}
          </ul>
        )}
      </section>

      <section aria-labelledby="drift">
        <h2 id="drift" className="font-semibold">
          Drift
        </h2>
        <Suspense fallback={<DriftPending />}>
          <DriftStatus />
        </Suspense>
      </section>

      <section aria-labelledby="instances">
        <h2 id="instances" className="font-semibold">
          Instances
        </h2>
        {instances.length === 0 ? (
          <p className="mt-2 text-sm text-slate-600">
            No usage collected yet: run <code>procver collect</code>.
          </p>
        ) : (
          <ul aria-label="Instances" className="mt-2 flex flex-wrap gap-3 text-sm">
            {instances.map((i) => (
              <li key={i.label} className={`rounded border px-3 py-2 ${i.lastError ? 'border-red-300 bg-red-50' : 'border-slate-200 bg-white'}`}>
                <span className="font-medium">{i.role}</span> <span className="font-mono text-xs">{i.label}</span>{' '}
                <span className="ml-1 text-slate-600">
                  {i.lastError ? (
                    `not read: ${i.lastError}`
                  ) : i.lastCollectedAt ? (
                    <>
                      read <RelativeTime date={i.lastCollectedAt} />
                    </>
                  ) : (
                    'never read'
                  )}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="recent">
        <div className="flex items-baseline justify-between">
          <h2 id="recent" className="font-semibold">
            Recent changes
          </h2>
          <Link href="/audit" className="text-sm text-sky-800 underline">
            Full audit log
          </Link>
        </div>
        {audit.length === 0 ? (
          <p className="mt-2 text-sm text-slate-600">Nothing has happened yet.</p>
        ) : (
          <ul className="mt-2 divide-y divide-slate-100 rounded border border-slate-200 bg-white text-sm">
            {audit.map((a) => (
              <li key={a.id} className="flex flex-wrap gap-x-3 px-3 py-2">
                <span className="text-slate-500">
                  <RelativeTime date={a.at} />
                </span>
                <span className="font-medium">{a.actor}</span>
                <span>{a.action}</span>
                <span className="font-mono text-xs">{a.target}</span>
                {a.reason ? <span className="text-slate-600">“{a.reason}”</span> : null}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
