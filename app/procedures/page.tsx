import type { Metadata } from 'next';
import Link from 'next/link';
import { connection } from 'next/server';
import { RelativeTime } from '@/components/RelativeTime';
import { EmptyState, ErrorState, InvalidAddress } from '@/components/States';
import { db } from '@/lib/db/pool';
import { listProcedures, type ProcedureSort } from '@/lib/procedures';
import { usageTargets } from '@/lib/config';
import { requirePageActor } from '@/lib/web/actor';
import { load } from '@/lib/web/load';
import { firstParam, parseQuery, queries, type SearchParams } from '@/lib/web/params';

export const metadata: Metadata = { title: 'Procedures' };
const PAGE_SIZE = 50;

function href(params: SearchParams, change: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, firstParam(v)])), ...change })) {
    if (v) q.set(k, v);
  }
  const s = q.toString();
  return s ? `/procedures?${s}` : '/procedures';
}

export default async function ProceduresPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await connection();
  await requirePageActor('viewer');
  const params = await searchParams;
  const query = parseQuery(queries.procedures, params);
  if (!query.ok) return <InvalidAddress error={query.error} href="/procedures" />;
  const q = query.value.q ?? '';
  const sort: ProcedureSort = query.value.sort ?? 'name';
  const dir = query.value.dir ?? 'asc';
  const { after, window } = query.value;
  const before = after === undefined ? query.value.before : undefined;
  const r = await load(() => listProcedures(db(), { q, sort, dir, after, before, pageSize: PAGE_SIZE, window, targets: usageTargets() }));
  const firstPage = after === undefined && before === undefined;

  const sortHeader = (key: ProcedureSort, label: string, right = false) => {
    const active = sort === key;
    const next = active && dir === 'asc' ? 'desc' : 'asc';
    return (
      <th className={`px-3 py-2 ${right ? 'text-right' : ''}`} aria-sort={active ? (dir === 'asc' ? 'ascending' : 'descending') : undefined}>
        <Link href={href(params, { sort: key, dir: next, after: undefined, before: undefined })} className="hover:underline">
          {label}
          {active ? (dir === 'asc' ? ' ▲' : ' ▼') : ''}
        </Link>
      </th>
    );
  };

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h1 className="text-xl font-semibold">Procedures</h1>
        <form className="flex flex-wrap items-end gap-2" action="/procedures">
          <div className="text-sm">
            <label htmlFor="q" className="block text-slate-600">
              Search
            </label>
            <input id="q" name="q" type="search" defaultValue={q} placeholder="name or schema" className="rounded border border-slate-300 px-2 py-1" />
          </div>
          <div className="text-sm">
            <label htmlFor="window" className="block text-slate-600">
              Calls in
            </label>
            <select id="window" name="window" defaultValue={window} className="rounded border border-slate-300 px-2 py-1">
              <option value="24h">24 hours</option>
              <option value="7d">7 days</option>
              <option value="30d">30 days</option>
            </select>
          </div>
          <input type="hidden" name="sort" value={sort} />
          <input type="hidden" name="dir" value={dir} />
          <button type="submit" className="rounded bg-slate-900 px-3 py-1.5 text-sm text-white">
            Apply
          </button>
        </form>
      </div>
      {!r.ok ? (
        <ErrorState title="Cannot list procedures">{r.message}</ErrorState>
      ) : r.data.rows.length === 0 ? (
        <EmptyState title={q ? `No procedure matches “${q}”` : 'No procedures yet'}>
          {q ? (
            <Link href="/procedures" className="underline">
              Clear the search
            </Link>
          ) : (
            <>
              Push some with <code>procver push &lt;dir&gt;</code>.
            </>
          )}
        </EmptyState>
      ) : (
        <>
          <table className="w-full border-collapse bg-white text-sm shadow-sm">
            <thead className="bg-slate-100 text-left text-slate-600">
              <tr>
                {sortHeader('name', 'Procedure')}
                <th className="px-3 py-2">Kind</th>
                {sortHeader('live', 'Live versions', true)}
                <th className="px-3 py-2 text-right">Retired / dropped</th>
                {sortHeader('calls', `Calls (${window})`, true)}
                {sortHeader('latest', 'Latest version')}
                {sortHeader('deployments', 'Active deployments', true)}
              </tr>
            </thead>
            <tbody>
              {r.data.rows.map((p) => (
                <tr key={p.id} className="border-t border-slate-100">
                  <td className="px-3 py-2">
                    <Link
                      href={`/procedures/${encodeURIComponent(p.schema)}/${encodeURIComponent(p.name)}?window=${window}`}
                      className="font-mono text-sky-800 underline-offset-2 hover:underline"
                    >
                      {p.schema}.{p.name}({p.args})
                    </Link>
                  </td>
                  <td className="px-3 py-2">{p.kind}</td>
                  <td className="px-3 py-2 text-right tabular-nums">{p.live}</td>
                  <td className="px-3 py-2 text-right tabular-nums">
                    {p.retired} / {p.dropped}
                  </td>
                  <td className="px-3 py-2 text-right tabular-nums">
                    {p.uncounted ? (
                      <span className="whitespace-nowrap text-slate-500" title={p.uncountedWhy.join('; ')}>
                        not counted{p.calls > 0 ? ` (≥ ${p.calls.toLocaleString('en')})` : ''}
                      </span>
                    ) : (
                      p.calls.toLocaleString('en')
                    )}
                  </td>
                  <td className="px-3 py-2">
                    <span className="font-mono text-xs">{p.latestPhysicalName}</span>{' '}
                    <span className="text-slate-500">
                      <RelativeTime date={p.latestCreatedAt} />
                    </span>
                  </td>
                  <td className="px-3 py-2 text-right tabular-nums">{p.deployments}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav aria-label="Pages" className="flex items-center justify-between text-sm">
            <span className="text-slate-600">
              {r.data.rows.length} shown of {r.data.total.toLocaleString('en')} {r.data.total === 1 ? 'procedure' : 'procedures'}
            </span>
            <span className="flex gap-2">
              {!firstPage ? (
                <Link href={href(params, { after: undefined, before: undefined })} className="rounded border px-3 py-1">
                  First
                </Link>
              ) : null}
              {r.data.previous ? (
                <Link href={href(params, { after: undefined, before: r.data.previous })} className="rounded border px-3 py-1">
                  Previous
                </Link>
              ) : null}
              {r.data.next ? (
                <Link href={href(params, { before: undefined, after: r.data.next })} className="rounded border px-3 py-1">
                  Next
                </Link>
              ) : null}
            </span>
          </nav>
        </>
      )}
    </div>
  );
}
