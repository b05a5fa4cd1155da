import type { Metadata } from 'next';
import Link from 'next/link';
import { connection } from 'next/server';
import { EmptyState, ErrorState, InvalidAddress } from '@/components/States';
import { Suspense } from 'react';
import { AuditChainPending, AuditChainStatus } from '@/components/AuditChainStatus';
import { auditActions, searchAudit } from '@/lib/audit';
import { db } from '@/lib/db/pool';
import { auditFilterFromParams, firstParam } from '@/lib/web/params';
import { requirePageActor } from '@/lib/web/actor';
import { load } from '@/lib/web/load';

export const metadata: Metadata = { title: 'Audit log' };

function short(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 157)}…` : s;
}

export default async function AuditPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await connection();
  await requirePageActor('viewer');
  const raw = await searchParams;
  const filter = auditFilterFromParams(raw);
  if (!filter.ok) return <InvalidAddress title="Invalid filter" error={filter.error} href="/audit" />;
  const r = await load(() => Promise.all([searchAudit(db(), { ...filter.value, limit: 50 }), auditActions(db())]));
  if (!r.ok) return <ErrorState title="Cannot read the audit log">{r.message}</ErrorState>;
  const [{ entries, next }, actions] = r.data;
  const f = filter.value;
  const qs = (extra: Record<string, string | undefined>) => {
    const p = new URLSearchParams();
    for (const k of ['actor', 'action', 'target', 'from', 'to'] as const) {
      const s = firstParam(raw[k]);
      if (s) p.set(k, s);
    }
    for (const [k, v] of Object.entries(extra)) if (v) p.set(k, v);
    return p.toString();
  };
  const val = (k: string) => firstParam(raw[k]) ?? '';
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h1 className="text-xl font-semibold">Audit log</h1>
        <a href={`/api/audit/csv?${qs({})}`} className="rounded border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100" download>
          Export CSV
        </a>
      </div>
      <Suspense fallback={<AuditChainPending />}>
        <AuditChainStatus />
      </Suspense>
      <form className="flex flex-wrap items-end gap-2 text-sm" action="/audit">
        <div>
          <label htmlFor="actor" className="block text-slate-600">
            Actor
          </label>
          <input id="actor" name="actor" defaultValue={val('actor')} className="rounded border border-slate-300 px-2 py-1" />
        </div>
        <div>
          <label htmlFor="action" className="block text-slate-600">
            Action
          </label>
          <select id="action" name="action" defaultValue={val('action')} className="rounded border border-slate-300 px-2 py-1">
            <option value="">any</option>
            {actions.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="target" className="block text-slate-600">
            Target contains
          </label>
          <input id="target" name="target" defaultValue={val('target')} placeholder="e.g. get_customer" className="rounded border border-slate-300 px-2 py-1" />
        </div>
        <div>
          <label htmlFor="from" className="block text-slate-600">
            From
          </label>
          <input id="from" type="date" name="from" defaultValue={val('from')} className="rounded border border-slate-300 px-2 py-1" />
        </div>
        <div>
          <label htmlFor="to" className="block text-slate-600">
            To
          </label>
          <input id="to" type="date" name="to" defaultValue={val('to')} className="rounded border border-slate-300 px-2 py-1" />
        </div>
        <button type="submit" className="rounded bg-slate-900 px-3 py-1.5 text-white">
          Filter
        </button>
        {f.actor || f.action || f.target || f.from || f.to ? (
          <Link href="/audit" className="px-2 py-1.5 underline">
            Clear
          </Link>
        ) : null}
      </form>
      {entries.length === 0 ? (
        <EmptyState title="No audit entries match" />
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full border-collapse bg-white text-sm shadow-sm">
            <thead className="bg-slate-100 text-left text-slate-600">
              <tr>
                <th className="px-3 py-2">When (UTC)</th>
                <th className="px-3 py-2">Who</th>
                <th className="px-3 py-2">What</th>
                <th className="px-3 py-2">Target</th>
                <th className="px-3 py-2">Reason</th>
                <th className="px-3 py-2">Before → after</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id} className="border-t border-slate-100 align-top">
                  <td className="px-3 py-2 whitespace-nowrap font-mono text-xs">{e.at.toISOString().replace('T', ' ').slice(0, 19)}</td>
                  <td className="px-3 py-2">{e.actor}</td>
                  <td className="px-3 py-2">{e.action}</td>
                  <td className="px-3 py-2 font-mono text-xs">{e.target}</td>
                  <td className="min-w-[12rem] max-w-sm px-3 py-2">{e.reason}</td>
                  {/* JSON has no spaces to wrap at: break anywhere rather than push the table off the screen. */}
                  <td className="min-w-[24rem] px-3 py-2 font-mono text-xs break-all text-slate-600">
                    {short(e.before)}
                    {e.before !== null && e.after !== null ? ' → ' : ''}
                    {short(e.after)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav aria-label="Pages" className="flex justify-end gap-2 text-sm">
        {f.before ? (
          <Link href={`/audit?${qs({})}`} className="rounded border px-3 py-1">
            Newest
          </Link>
        ) : null}
        {next ? (
          <Link href={`/audit?${qs({ before: String(next) })}`} className="rounded border px-3 py-1">
            Older
          </Link>
        ) : null}
      </nav>
    </div>
  );
}
