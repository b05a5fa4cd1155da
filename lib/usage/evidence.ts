import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client';
import { readEnv, type Env } from '../config';
import { findDrift } from '../drift';
import { formatAge, parseDuration } from '../durations';
import { parseStatsFlushDelay } from './flushDelay';
import { instanceLabel, type InstanceTarget } from './readInstance';

/**
 * The one place that decides what procver knows about a version's calls over a period: counted
 * calls, silence, or unknown ("unknown is never zero"). The dashboard (lib/usage.ts), the cleanup
 * plan and its apply steps (lib/cleanup/plan.ts) and the retention policy (lib/cleanup/retention.ts)
 * all ask this module and decide nothing about usage themselves.
 */

/** Evidence that something calls the version: it is in use. */
export const calledKinds = ['called', 'tripwire', 'failing_callers'] as const;
/** Evidence that is missing or cannot be trusted for the period: the calls are unknown. */
export const unknownKinds = ['gap', 'reset', 'restart', 'stale', 'never_read', 'uncovered', 'replica_removed', 'inlinable', 'not_tracked', 'drift'] as const;
export type EvidenceKind = (typeof calledKinds)[number] | (typeof unknownKinds)[number];
export type EvidenceVerdict = 'called' | 'unknown' | 'silent';

export interface EvidenceEvent {
  kind: EvidenceKind;
  /** the instance (host:port/db) it concerns; null for the version itself */
  instance: string | null;
  /** when it happened (or, for a reading, when it was taken) */
  at: Date | null;
  /** the registry's own word for it where several map to one kind ('stats_reset', 'recreated' …) */
  source?: string;
  /** extra words (an error, a setting's value) */
  note?: string;
}

export interface Evidence {
  versionId: number;
  verdict: EvidenceVerdict;
  events: EvidenceEvent[];
}

export interface EvidencePeriod {
  /** the period starts here and ends at `now` */
  from: Date;
  /** versions whose period starts earlier (a quarantined version: its whole quarantine counts too) */
  fromByVersion?: ReadonlyMap<number, Date>;
  now: Date;
  /**
   * The configured instances. Each must have been read after `readAfter`, with history from before
   * `from`; an instance read during the period that is no longer configured makes it unknown.
   * null: the instances the registry knows (what the dashboard does without configuration).
   */
  targets: InstanceTarget[] | null;
  /** readings older than this are stale */
  readAfter: Date;
}

/** Settings that say how fine-grained the evidence is. */
export interface EvidenceSettings {
  /** an instance not read for longer than this makes usage unknown (PROCVER_USAGE_STALE_AFTER) */
  staleAfterMs: number;
  /**
   * How late PostgreSQL may publish a backend's function counters (PROCVER_STATS_FLUSH_DELAY,
   * default 60s: a busy backend flushes at most once a second, an idle one within 10 s, and one that
   * finds the statistics locked keeps trying for up to 60 s).
   */
  flushDelayMs: number;
  /** how often `procver collect` reads every instance unless --interval overrides it (PROCVER_COLLECT_INTERVAL) */
  collectIntervalMs: number;
}

export function evidenceSettings(env: Env = readEnv()): EvidenceSettings {
  return {
    staleAfterMs: parseDuration(env.PROCVER_USAGE_STALE_AFTER ?? '15m', 'PROCVER_USAGE_STALE_AFTER'),
    flushDelayMs: parseStatsFlushDelay(env.PROCVER_STATS_FLUSH_DELAY ?? '60s'),
    collectIntervalMs: parseDuration(env.PROCVER_COLLECT_INTERVAL ?? '30s', 'PROCVER_COLLECT_INTERVAL'),
  };
}

/**
 * The shortest period the evidence can resolve: a call is published up to the flush delay after
 * it happened, and dated to the reading that first shows it, which comes up to one collection
 * interval later. A shorter quiet window (or quarantine) would claim a precision nobody has.
 */
export function shortestResolvablePeriod(s: EvidenceSettings): number {
  return s.flushDelayMs + s.collectIntervalMs;
}

/** Languages whose calls track_functions = 'pl' does not count (it counts procedural languages only). */
const COUNTED_ONLY_WITH_ALL = ['sql', 'c', 'internal'];

/**
 * Why PostgreSQL does not count a version's calls (anywhere, or on some instances), if it does not:
 * the one place that decides it, for the evidence below and for the procedures list's "not counted".
 */
export function uncountedEvents(v: { language: string; may_be_inlined: boolean }, instances: { label: string; track_functions: string | null }[]): EvidenceEvent[] {
  const events: EvidenceEvent[] = [];
  if (v.may_be_inlined) events.push({ kind: 'inlinable', instance: null, at: null });
  for (const i of instances) {
    if (i.track_functions === 'none' || (i.track_functions === 'pl' && COUNTED_ONLY_WITH_ALL.includes(v.language))) {
      events.push({ kind: 'not_tracked', instance: i.label, at: null, note: i.track_functions });
    }
  }
  return events;
}

/**
 * The configured instances' labels: the targets' (null: every instance the registry knows, what the
 * dashboard does without configuration).
 */
function configuredLabels(targets: InstanceTarget[] | null, known: { label: string }[]): Set<string> {
  return new Set(targets ? targets.map((t) => instanceLabel(t.url).label) : known.map((i) => i.label));
}

/**
 * The registry's instances that are configured and have been read: those whose counting speaks for
 * the calls. The one notion for the evidence below and the procedures list's "not counted".
 */
export function readConfiguredInstances<T extends { label: string; first_collected_at: string | null; last_collected_at: string | null }>(
  instances: T[],
  targets: InstanceTarget[] | null,
): T[] {
  const labels = configuredLabels(targets, instances);
  return instances.filter((i) => labels.has(i.label) && i.first_collected_at !== null && i.last_collected_at !== null);
}

/** usage_events kinds, as the collector records them, and what each means here. */
const eventKind: Record<string, EvidenceKind> = {
  gap: 'gap',
  restart: 'restart',
  replaced: 'restart',
  stats_reset: 'reset',
  reset: 'reset',
  recreated: 'reset',
  missing: 'reset',
  tripwire: 'tripwire',
};

/** Evidence for each version over one period, from the registry (a handful of set-based queries). */
export async function evidenceFor(db: Db | Tx, versionIds: number[], p: EvidencePeriod): Promise<Map<number, Evidence>> {
  const out = new Map<number, Evidence>();
  if (versionIds.length === 0) return out;
  const ids = sql.param(versionIds);
  const fromOf = (id: number) => {
    const f = p.fromByVersion?.get(id);
    return f && f < p.from ? f : p.from;
  };
  const from = new Date(Math.min(...versionIds.map((id) => fromOf(id).getTime()))).toISOString();
  // One after the other: inside a cleanup step these share the step's transaction (one connection).
  const versionRows = await db.execute<{ id: number; language: string; may_be_inlined: boolean }>(sql`
      SELECT id, language, may_be_inlined FROM procver.versions WHERE id = ANY(${ids}::bigint[])`);
  const instanceRows = await db.execute<{
    id: number;
    label: string;
    first_collected_at: string | null;
    last_collected_at: string | null;
    last_attempt_at: string | null;
    track_functions: string | null;
  }>(sql`SELECT id, label, first_collected_at::text, last_collected_at::text, last_attempt_at::text, track_functions FROM procver.instances`);
  const eventRows = await db.execute<{ instance_id: number; version_id: number | null; kind: string; to_at: string; detail: { error?: string } | null }>(sql`
      SELECT instance_id, version_id, kind, to_at::text, detail FROM procver.usage_events
      WHERE (version_id IS NULL OR version_id = ANY(${ids}::bigint[])) AND to_at >= ${from}::timestamptz
        AND kind = ANY(${sql.param(Object.keys(eventKind))}::text[])
      ORDER BY to_at DESC, id DESC`);
  // A counter row with no completed call means callers are failing, unless the counter went
  // to zero in a reset (pg_stat_reset() leaves the row with calls = 0).
  const counterRows = await db.execute<{ instance_id: number; version_id: number; calls: number; last_called_at: string | null; reset_since: boolean }>(sql`
      SELECT c.instance_id, c.version_id, c.calls, c.last_called_at::text,
        EXISTS (SELECT 1 FROM procver.usage_events e
                WHERE e.instance_id = c.instance_id AND e.version_id = c.version_id AND e.kind = 'reset' AND e.to_at >= c.first_seen_at) AS reset_since
      FROM procver.usage_counters c WHERE c.version_id = ANY(${ids}::bigint[])`);
  const drift = await findDrift(db, { versionIds });
  const instances = instanceRows.rows.map((i) => ({ ...i, id: Number(i.id) }));
  const configured = p.targets
    ? p.targets.map((t) => ({ label: instanceLabel(t.url).label, role: t.role as string }))
    : instances.map((i) => ({ label: i.label, role: 'known' }));
  const configuredNow = configuredLabels(p.targets, instances);
  const date = (s: string | null) => (s === null ? null : new Date(s));

  // What holds for every version with the same period alike: instances gone, never read, stale,
  // or read too late. Computed once per distinct start of the period.
  const read = readConfiguredInstances(instances, p.targets);
  const sharedByFrom = new Map<number, { shared: EvidenceEvent[]; relevant: Set<number> }>();
  const sharedFor = (start: Date) => {
    const known = sharedByFrom.get(start.getTime());
    if (known) return known;
    const shared: EvidenceEvent[] = [];
    for (const c of configured) {
      const inst = instances.find((i) => i.label === c.label);
      if (!inst?.first_collected_at || !inst.last_collected_at) {
        shared.push({ kind: 'never_read', instance: c.label, at: null, note: c.role });
        continue;
      }
      const first = new Date(inst.first_collected_at);
      const last = new Date(inst.last_collected_at);
      if (first > start) shared.push({ kind: 'uncovered', instance: c.label, at: first });
      if (last < p.readAfter) shared.push({ kind: 'stale', instance: c.label, at: last });
    }
    // Counters and events count from the configured instances and from those removed during the period.
    const relevant = new Set(read.map((i) => i.id));
    for (const i of instances) {
      if (configuredNow.has(i.label)) continue;
      // Configured during the period (read or tried) and not now: that replica may still serve calls.
      const seen = [date(i.last_collected_at), date(i.last_attempt_at)].filter((d): d is Date => d !== null);
      const lastSeen = seen.length > 0 ? new Date(Math.max(...seen.map((d) => d.getTime()))) : null;
      if (lastSeen && lastSeen >= start) {
        shared.push({ kind: 'replica_removed', instance: i.label, at: lastSeen });
        relevant.add(i.id);
      }
    }
    const result = { shared, relevant };
    sharedByFrom.set(start.getTime(), result);
    return result;
  };
  const labelOf = new Map(instances.map((i) => [i.id, i.label]));

  for (const v of versionRows.rows) {
    const id = Number(v.id);
    const start = fromOf(id);
    const { shared, relevant } = sharedFor(start);
    const events: EvidenceEvent[] = [];
    for (const c of counterRows.rows.filter((k) => Number(k.version_id) === id && relevant.has(Number(k.instance_id)))) {
      const label = labelOf.get(Number(c.instance_id)) ?? '?';
      const last = date(c.last_called_at);
      if (last && last >= start) events.push({ kind: 'called', instance: label, at: last });
      if (Number(c.calls) === 0 && !c.reset_since) events.push({ kind: 'failing_callers', instance: label, at: null });
    }
    for (const e of eventRows.rows) {
      if ((e.version_id !== null && Number(e.version_id) !== id) || !relevant.has(Number(e.instance_id)) || new Date(e.to_at) < start) continue;
      events.push({ kind: eventKind[e.kind]!, source: e.kind, instance: labelOf.get(Number(e.instance_id)) ?? '?', at: new Date(e.to_at), note: e.detail?.error });
    }
    events.push(...uncountedEvents(v, read));
    if (drift.has(id)) events.push({ kind: 'drift', instance: null, at: null, note: drift.get(id)!.kind });
    events.push(...shared);
    out.set(id, { versionId: id, verdict: verdictOf(events), events });
  }
  return out;
}

/**
 * What one event says about the version's calls: that something calls it, or that the calls over
 * the period are unknown. The one classification: the verdict below, the dashboard's counts
 * (lib/usage.ts) and the plan's wording all use it.
 */
export function evidenceSays(kind: EvidenceKind): 'called' | 'unknown' {
  return (calledKinds as readonly string[]).includes(kind) ? 'called' : 'unknown';
}

export function verdictOf(events: EvidenceEvent[]): EvidenceVerdict {
  if (events.some((e) => evidenceSays(e.kind) === 'called')) return 'called';
  return events.length > 0 ? 'unknown' : 'silent';
}

/**
 * One event in words an operator can act on. `period` names the period in the caller's terms
 * ('the quiet window', 'the retention period', 'this window').
 */
export function describeEvidence(e: EvidenceEvent, now: Date, period: string): string {
  const ago = e.at ? `${formatAge(now.getTime() - e.at.getTime())} ago` : '';
  const on = e.instance ? ` on ${e.instance}` : '';
  switch (e.kind) {
    case 'called':
      return `called${on} ${ago}`;
    case 'tripwire':
      return `the quarantine tripwire under its old name was called${on} ${ago}: something still calls it`;
    case 'failing_callers':
      return `callers tried it${on} but no call completed (PostgreSQL counts no failing calls): something still calls it and fails`;
    case 'gap':
      return `gap${on} ${ago}${e.note ? ` (${e.note})` : ''}: ${period} restarts after it`;
    case 'reset':
    case 'restart':
      return `${(e.source ?? e.kind).replace('_', ' ')}${on} ${ago}: ${period} restarts after it`;
    case 'stale':
      return `${e.instance} was last read ${ago}`;
    case 'never_read':
      return `${e.instance}${e.note && e.note !== 'known' ? ` (${e.note})` : ''} has never been read`;
    case 'uncovered':
      return `usage history on ${e.instance} starts ${e.at!.toISOString().replace('T', ' ').slice(0, 19)} UTC, inside ${period}`;
    case 'replica_removed':
      return `${e.instance} was read ${ago} but is no longer configured; is that replica gone?`;
    case 'inlinable':
      return 'PostgreSQL may inline this LANGUAGE sql function into its callers, so its calls cannot be counted';
    case 'not_tracked':
      return `track_functions = '${e.note}'${on}: calls are not counted there`;
    case 'drift':
      return "its code in the database is not what procver created (drift): calls counted there are another function's";
  }
}
