'use client';

import { useMutation } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { summarizePlan } from '@/lib/cleanup/summary';

interface RunResult {
  at: string;
  rows: { version: string; action: string }[];
  results: { schema: string; physicalName: string; outcome: string; detail: string }[];
}

const SHOWN = 50;

/** Re-plan (dry run) or apply the cleanup plan shown on the page. */
export function CleanupRunner({ canApply, pending }: { canApply: boolean; pending: number }) {
  const router = useRouter();
  const run = useMutation({
    mutationFn: async (apply: boolean): Promise<RunResult> => {
      const res = await fetch('/api/cleanup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apply }) });
      const body = await res.json().catch(() => ({ error: `request failed (${res.status})` }));
      if (!res.ok) throw new Error(body.error ?? 'request failed');
      return body;
    },
    onSuccess: () => router.refresh(),
  });
  return (
    <div className="space-y-2">
      <div className="flex flex-wrap gap-2">
        <button
          type="button"
          onClick={() => run.mutate(false)}
          disabled={run.isPending}
          className="rounded border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100"
        >
          Re-check (dry run)
        </button>
        {canApply ? (
          <button
            type="button"
            disabled={run.isPending || pending === 0}
            onClick={() => {
              if (window.confirm(`Apply the plan: quarantine, drop, put back or retire ${pending} version(s)? Each is re-checked first.`)) run.mutate(true);
            }}
            className="rounded bg-red-700 px-3 py-1.5 text-sm font-medium text-white disabled:opacity-50"
          >
            Apply plan ({pending.toLocaleString('en')})
          </button>
        ) : null}
      </div>
      {run.isPending ? (
        <p role="status" className="text-sm text-slate-600">
          {run.variables ? `Applying: each of ${pending.toLocaleString('en')} version(s) is re-checked in its own transaction…` : 'Checking…'}
        </p>
      ) : null}
      {run.isError ? (
        <p role="alert" className="text-sm text-red-700">
          {run.error.message}
        </p>
      ) : null}
      {run.data && run.data.results.length === 0 ? (
        <p role="status" className="text-sm text-slate-600">
          Checked at {new Date(run.data.at).toLocaleTimeString('en-GB', { timeZone: 'UTC' })} UTC: {summarizePlan(run.data.rows)}. Nothing was changed.
        </p>
      ) : null}
      {run.data && run.data.results.length > 0 ? (
        <ul role="status" className="text-sm">
          {run.data.results.length > SHOWN ? (
            <li className="font-medium">
              {outcomes(run.data.results)}; the first {SHOWN}:
            </li>
          ) : null}
          {run.data.results.slice(0, SHOWN).map((r) => (
            <li key={r.physicalName}>
              <span className="font-medium">{r.outcome}</span>{' '}
              <span className="font-mono">
                {r.schema}.{r.physicalName}
              </span>
              : {r.detail}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function outcomes(results: RunResult['results']) {
  const n = new Map<string, number>();
  for (const r of results) n.set(r.outcome, (n.get(r.outcome) ?? 0) + 1);
  return [...n].map(([o, k]) => `${k.toLocaleString('en')} ${o}`).join(', ');
}
