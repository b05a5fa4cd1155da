import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './db/client';
import { describeEvidence, evidenceFor, evidenceSays, evidenceSettings, type EvidenceEvent, type EvidenceSettings, type EvidenceVerdict } from './usage/evidence';
import type { InstanceTarget } from './usage/readInstance';

/** Raw `execute` results carry timestamps as text (drizzle leaves them unparsed there). */
function toDate(v: Date | string | null): Date | null {
  return v === null ? null : new Date(v);
}

/**
 * The windows the dashboard offers. 24h is the last 24 hourly buckets (this one included), read from
 * hourly rollups; 7d and 30d are whole UTC days (today included), read from daily rollups, which
 * outlive the hourly ones (PROCVER_HOURLY_RETENTION_DAYS).
 */
export const usageWindows = { '24h': { hours: 24 }, '7d': { days: 7 }, '30d': { days: 30 } } as const;
export type UsageWindow = keyof typeof usageWindows;

/** When a window starts, as a timestamptz expression. */
function windowStart(window: UsageWindow): SQL {
  const w: { hours?: number; days?: number } = usageWindows[window];
  return w.hours !== undefined
    ? sql`(date_trunc('hour', now()) - make_interval(hours => ${w.hours - 1}))`
    : sql`((date_trunc('day', now() AT TIME ZONE 'UTC') - make_interval(days => ${w.days! - 1})) AT TIME ZONE 'UTC')`;
}

/**
 * Rows of (instance_id, version_id, calls, total_time) inside a window, from the rollup that covers
 * it: a subquery that PostgreSQL flattens, so filters on version_id reach the index.
 */
function versionCallsInWindow(window: UsageWindow): SQL {
  return 'hours' in usageWindows[window]
    ? sql`(SELECT instance_id, version_id, calls, total_time FROM procver.usage_hourly WHERE hour >= ${windowStart(window)})`
    : sql`(SELECT instance_id, version_id, calls, total_time FROM procver.usage_daily
           WHERE day >= (${windowStart(window)} AT TIME ZONE 'UTC')::date)`;
}

/** Rows of (procedure_id, calls) inside a window, from the per-procedure rollups. */
export function procedureCallsInWindow(window: UsageWindow): SQL {
  return 'hours' in usageWindows[window]
    ? sql`(SELECT procedure_id, calls FROM procver.procedure_calls_hourly WHERE hour >= ${windowStart(window)})`
    : sql`(SELECT procedure_id, calls FROM procver.procedure_calls_daily
           WHERE day >= (${windowStart(window)} AT TIME ZONE 'UTC')::date)`;
}

export interface VersionUsage {
  versionId: number;
  /** calls in the window over every instance; null when they cannot be known */
  calls: number | null;
  /** calls counted in the window, whether or not the total is known */
  countedCalls: number;
  perInstance: { label: string; calls: number }[];
  totalTimeMs: number;
  meanTimeMs: number | null;
  lastCalledAt: Date | null;
  /** the evidence module's verdict for the window: called, unknown or silent */
  evidence: EvidenceVerdict;
  /** why `calls` is unknown (inlinable SQL, gaps, resets, an instance never read …) */
  unknownBecause: string[];
  /** what shows a caller besides counted calls (its quarantine tripwire was called, callers failing) */
  calledBecause: string[];
}

/**
 * Usage of versions over a window, from the rollups. Whether the count can be trusted is the
 * evidence module's decision (lib/usage/evidence.ts), the same one cleanup and retention use:
 * `calls` is null ("unknown") whenever the evidence is not complete for the window.
 * `targets`: the configured instances (unread, stale or removed ones make counts unknown); without
 * them, the instances the registry knows.
 */
export async function usageForVersions(
  db: Db,
  versionIds: number[],
  window: UsageWindow = '24h',
  targets: InstanceTarget[] | null = null,
  settings: EvidenceSettings = evidenceSettings(),
): Promise<Map<number, VersionUsage>> {
  const out = new Map<number, VersionUsage>();
  if (versionIds.length === 0) return out;
  const ids = sql.param(versionIds);
  const [counts, flags, period] = await Promise.all([
    db.execute<{ version_id: number; label: string; calls: number; total_time: number }>(sql`
      SELECT h.version_id, i.label, sum(h.calls)::bigint AS calls, sum(h.total_time) AS total_time
      FROM ${versionCallsInWindow(window)} h JOIN procver.instances i ON i.id = h.instance_id
      WHERE h.version_id = ANY(${ids}::bigint[])
      GROUP BY h.version_id, i.label`),
    // Last called: by the counters, or by the quarantine tripwire under the version's old name.
    db.execute<{ id: number; last_called_at: Date | string | null }>(sql`
      SELECT v.id, greatest(
        (SELECT max(c.last_called_at) FROM procver.usage_counters c WHERE c.version_id = v.id),
        (SELECT max(e.to_at) FROM procver.usage_events e WHERE e.version_id = v.id AND e.kind = 'tripwire')) AS last_called_at
      FROM procver.versions v WHERE v.id = ANY(${ids}::bigint[])`),
    db.execute<{ from: string; now: string }>(sql`SELECT ${windowStart(window)}::text AS from, now()::text AS now`),
  ]);
  const now = new Date(period.rows[0]!.now);
  const evidence = await evidenceFor(db, versionIds, {
    from: new Date(period.rows[0]!.from),
    now,
    targets,
    readAfter: new Date(now.getTime() - settings.staleAfterMs),
  });

  const inWords = (events: EvidenceEvent[]) => [...new Set(events.map((x) => describeEvidence(x, now, 'this window')))];
  for (const f of flags.rows) {
    const id = Number(f.id);
    const e = evidence.get(id)!;
    out.set(id, {
      versionId: id,
      calls: null,
      countedCalls: 0,
      perInstance: [],
      totalTimeMs: 0,
      meanTimeMs: null,
      lastCalledAt: toDate(f.last_called_at),
      evidence: e.verdict,
      // The evidence module says which events make the count unknown and which show a caller; counted
      // calls speak for themselves.
      unknownBecause: inWords(e.events.filter((x) => evidenceSays(x.kind) === 'unknown')),
      calledBecause: inWords(e.events.filter((x) => x.kind !== 'called' && evidenceSays(x.kind) === 'called')),
    });
  }
  for (const c of counts.rows) {
    const u = out.get(Number(c.version_id));
    if (!u) continue;
    u.countedCalls += Number(c.calls);
    u.totalTimeMs += Number(c.total_time);
    u.perInstance.push({ label: c.label, calls: Number(c.calls) });
  }
  for (const u of out.values()) {
    u.calls = u.unknownBecause.length === 0 ? u.countedCalls : null;
    u.meanTimeMs = u.countedCalls > 0 ? u.totalTimeMs / u.countedCalls : null;
    u.perInstance.sort((a, b) => a.label.localeCompare(b.label));
  }
  return out;
}

export interface InstanceStatus {
  label: string;
  role: string;
  lastCollectedAt: Date | null;
  lastAttemptAt: Date | null;
  lagSeconds: number | null;
  lastError: string | null;
  trackFunctions: string | null;
}

export async function instanceStatus(db: Db): Promise<InstanceStatus[]> {
  const r = await db.execute<{
    label: string;
    role: string;
    last_collected_at: Date | string | null;
    last_attempt_at: Date | string | null;
    lag: number | null;
    last_error: string | null;
    track_functions: string | null;
  }>(sql`
    SELECT label, role, last_collected_at, last_attempt_at, extract(epoch FROM now() - last_collected_at)::float8 AS lag,
           last_error, track_functions
    FROM procver.instances ORDER BY role, label`);
  return r.rows.map((x) => ({
    label: x.label,
    role: x.role,
    lastCollectedAt: toDate(x.last_collected_at),
    lastAttemptAt: toDate(x.last_attempt_at),
    lagSeconds: x.lag === null ? null : Number(x.lag),
    lastError: x.last_error,
    trackFunctions: x.track_functions,
  }));
}

/** Hourly call series for many versions in one query (for the sparklines of a page). */
export async function callSeriesFor(db: Db, versionIds: number[], hours = 24): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>(versionIds.map((id) => [id, new Array<number>(hours).fill(0)]));
  if (versionIds.length === 0) return out;
  const r = await db.execute<{ version_id: number; slot: number; calls: number }>(sql`
    SELECT h.version_id, (extract(epoch FROM h.hour - (date_trunc('hour', now()) - make_interval(hours => ${hours - 1}))) / 3600)::int AS slot,
           sum(h.calls)::float8 AS calls
    FROM procver.usage_hourly h
    WHERE h.version_id = ANY(${sql.param(versionIds)}::bigint[]) AND h.hour >= date_trunc('hour', now()) - make_interval(hours => ${hours - 1})
    GROUP BY 1, 2`);
  for (const row of r.rows) {
    const series = out.get(Number(row.version_id));
    if (series && row.slot >= 0 && row.slot < hours) series[row.slot] = Number(row.calls);
  }
  return out;
}
