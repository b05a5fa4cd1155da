'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { DeploymentBadge, VersionStatus } from './badges';
import { relative } from './RelativeTime';
import { Sparkline } from './Sparkline';
import { VersionActionDialog } from './VersionActionDialog';

export interface UsageJson {
  calls: number | null;
  countedCalls: number;
  perInstance: { label: string; calls: number }[];
  meanTimeMs: number | null;
  lastCalledAt: string | null;
  unknownBecause: string[];
  calledBecause: string[];
}

interface VersionRow {
  id: number;
  schema: string;
  physicalName: string;
  hash: string;
  status: string;
  revision: number;
  statusChangedAt: string;
  createdAt: string;
  pushedBy: string;
  deployments: { app: string; deploymentId: string; status: string }[];
  series: number[];
  /** cleanup renamed it to this name (a tripwire forwards calls under its own name) */
  quarantineName: string | null;
  /** what is wrong with its code in the database, when it drifted (lib/drift.ts) */
  drift: string | null;
}

interface Props {
  rows: VersionRow[];
  initialUsage: Record<number, UsageJson | null>;
  window: string;
  canOverride: boolean;
  canAct: boolean;
}

type LiveData = { versions: Record<string, { status: string; revision: number; statusChangedAt: string; usage: UsageJson | null }> };

/** The versions of one procedure, with call counts that refresh every few seconds. */
export function VersionTable({ rows, initialUsage, window, canOverride, canAct }: Props) {
  const ids = rows.map((r) => r.id);
  const { data, isError } = useQuery<LiveData>({
    queryKey: ['usage', ids, window],
    queryFn: async () => {
      const res = await fetch(`/api/usage?ids=${ids.join(',')}&window=${window}`);
      if (!res.ok) throw new Error(`usage request failed (${res.status})`);
      return res.json();
    },
    // Polls while the tab is visible; React Query pauses the interval when it is hidden.
    refetchInterval: 5000,
    enabled: ids.length > 0,
  });

  return (
    <div className="overflow-x-auto">
      {isError ? (
        <p role="status" className="mb-2 text-sm text-amber-800">
          Live call counts could not be refreshed; showing the last known numbers.
        </p>
      ) : null}
      <table className="w-full border-collapse bg-white text-sm shadow-sm">
        <thead className="bg-slate-100 text-left text-slate-600">
          <tr>
            <th className="px-3 py-2">Version</th>
            <th className="px-3 py-2">Status</th>
            <th className="px-3 py-2">Created</th>
            <th className="px-3 py-2 text-right">Calls ({window})</th>
            <th className="px-3 py-2">Per hour, 24h</th>
            <th className="px-3 py-2 text-right">Mean time</th>
            <th className="px-3 py-2">Last called</th>
            <th className="px-3 py-2">Deployments</th>
            <th className="px-3 py-2">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const live = data?.versions[String(r.id)];
            const status = live?.status ?? r.status;
            const revision = live?.revision ?? r.revision;
            const usage = live ? live.usage : (initialUsage[r.id] ?? null);
            const retiredAt = new Date(live?.statusChangedAt ?? r.statusChangedAt).getTime();
            // Called after it was retired: some caller still uses it. (The last-called time is the end of
            // a sampling interval, so this can flag one interval early: the safe side.) Callers that fail
            // or hit its quarantine tripwire are callers too, as the cleanup plan says.
            const calledWhileRetired =
              status === 'retired' && ((usage?.lastCalledAt != null && new Date(usage.lastCalledAt).getTime() > retiredAt) || (usage?.calledBecause.length ?? 0) > 0);
            return (
              <tr
                key={r.id}
                data-testid={`version-${r.physicalName}`}
                className={`border-t border-slate-100 align-top ${calledWhileRetired || r.drift ? 'bg-red-50' : ''}`}
              >
                <td className="px-3 py-2">
                  <Link
                    href={`/versions/${encodeURIComponent(r.schema)}/${encodeURIComponent(r.physicalName)}`}
                    className="font-mono text-sky-800 underline-offset-2 hover:underline"
                    title={r.hash}
                  >
                    {r.hash.slice(0, 10)}
                  </Link>
                  <div className="font-mono text-xs text-slate-500">{r.physicalName}</div>
                </td>
                <td className="px-3 py-2">
                  <VersionStatus status={status} />
                  {r.drift ? (
                    <div className="mt-1 whitespace-nowrap text-xs font-semibold text-red-700" title={r.drift}>
                      drifted
                    </div>
                  ) : null}
                  {r.quarantineName && status === 'retired' ? (
                    <div
                      className="mt-1 whitespace-nowrap text-xs text-amber-800"
                      title={`renamed to ${r.quarantineName}; a tripwire under its name counts every call and forwards it (or refuses it, for a trigger or pseudo-type function)`}
                    >
                      quarantined
                    </div>
                  ) : null}
                  {calledWhileRetired ? (
                    <div className="mt-1 text-xs font-semibold text-red-700" title={usage?.calledBecause.join('\n') || undefined}>
                      still called!
                    </div>
                  ) : null}
                </td>
                <td className="px-3 py-2 whitespace-nowrap" title={`pushed by ${r.pushedBy}`}>
                  {relative(new Date(r.createdAt))}
                </td>
                <td className={`px-3 py-2 text-right tabular-nums ${calledWhileRetired ? 'font-semibold text-red-700' : ''}`}>
                  {usage === null ? (
                    '—'
                  ) : usage.calls === null ? (
                    <span title={usage.unknownBecause.join('\n')} className="whitespace-nowrap text-slate-500">
                      unknown{usage.countedCalls > 0 ? ` (≥ ${usage.countedCalls.toLocaleString('en')})` : ''}
                    </span>
                  ) : (
                    usage.calls.toLocaleString('en')
                  )}
                  {usage && usage.perInstance.length > 1 ? (
                    <ul className="mt-1 text-xs font-normal text-slate-500">
                      {usage.perInstance.map((p) => (
                        <li key={p.label} className="flex justify-end gap-2 whitespace-nowrap">
                          <span className="max-w-[10rem] truncate" title={p.label}>
                            {p.label}
                          </span>
                          <span className="tabular-nums">{p.calls.toLocaleString('en')}</span>
                        </li>
                      ))}
                    </ul>
                  ) : null}
                </td>
                <td className="px-3 py-2">
                  <Sparkline series={r.series} label={`calls per hour over 24 hours for ${r.physicalName}`} />
                </td>
                <td className="px-3 py-2 text-right tabular-nums">{usage?.meanTimeMs != null ? `${usage.meanTimeMs.toFixed(2)} ms` : '—'}</td>
                <td className="px-3 py-2 whitespace-nowrap">{usage?.lastCalledAt ? relative(new Date(usage.lastCalledAt)) : 'never seen'}</td>
                <td className="px-3 py-2">
                  <div className="flex flex-wrap gap-1">
                    {r.deployments.length === 0 ? <span className="text-slate-400">none</span> : null}
                    {r.deployments.map((d) => (
                      <DeploymentBadge key={`${d.app}/${d.deploymentId}`} app={d.app} id={d.deploymentId} status={d.status} />
                    ))}
                  </div>
                </td>
                <td className="px-3 py-2 text-right">
                  {canAct && (status === 'live' || status === 'retired') ? (
                    <VersionActionDialog
                      action={status === 'live' ? 'retire' : 'restore'}
                      schema={r.schema}
                      physicalName={r.physicalName}
                      revision={revision}
                      canOverride={canOverride}
                    />
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
