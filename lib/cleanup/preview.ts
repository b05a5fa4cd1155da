import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { cleanupNeeds, hasRole, type Role } from '../roles';
import { freshReading } from '../usage/collect';
import { instanceLabel, type InstanceTarget } from '../usage/readInstance';
import type { CleanupConfig } from './config';
import { planFromRegistry, refuseUnresolvableWindows, type CleanupPlan } from './plan';

/**
 * Whether showing the cleanup plan takes a reading of every instance: the one decision, for the
 * Cleanup page and the dry run of POST /api/cleanup. A reading writes to the registry, so:
 *
 * - who may not run cleanup (a viewer) never takes one: the plan is computed from the readings the
 *   registry holds, stale as the rest of the dashboard counts them (PROCVER_USAGE_STALE_AFTER);
 *   without any reading there is no plan to show;
 * - who may run it gets a fresh reading, unless every configured instance was read (or tried) less
 *   than one collection interval ago (PROCVER_COLLECT_INTERVAL): the evidence cannot resolve finer
 *   than that interval, so a reload storm reuses that reading instead of writing one per request.
 *
 * Showing is only a preview: an applied run (lib/cleanup/apply.ts) reads every instance afresh
 * before each step and re-checks, and `procver cleanup` always takes a fresh reading (planCleanup).
 */
export type ReadingSource = 'taken' | 'reused' | 'stored';

export type PlanPreview =
  | { reading: 'none' }
  | {
      reading: ReadingSource;
      /** the oldest of the configured instances' latest successful readings: how old the evidence is (null: none read) */
      readAt: Date | null;
      plan: CleanupPlan;
    };

/** The cleanup plan for someone of this role, taking a reading only where the decision above says so. */
export async function previewPlan(db: Db, targets: InstanceTarget[], config: CleanupConfig, who: { role: Role }): Promise<PlanPreview> {
  refuseUnresolvableWindows(config);
  const evidence = hasRole(who, cleanupNeeds.check) ? await serialized(() => recentOrFresh(db, targets, config)) : await stored(db, targets, config);
  if (!evidence) return { reading: 'none' };
  const plan = await planFromRegistry(db, targets, config, evidence.readAfter);
  // A reading taken for this view moved the instances' latest reading; otherwise it is as read above.
  const readAt = evidence.source === 'taken' ? (await latestReadings(db, targets)).readAt : evidence.readAt;
  return { reading: evidence.source, readAt, plan };
}

interface Latest {
  /** the registry's clock */
  now: Date;
  /** per configured instance, its last attempt (null: never tried) */
  attempts: (Date | null)[];
  /** the oldest of the configured instances' latest successful readings (null: none read yet) */
  readAt: Date | null;
}

async function latestReadings(db: Db, targets: InstanceTarget[]): Promise<Latest> {
  const labels = targets.map((t) => instanceLabel(t.url).label);
  const r = await db.execute<{ now: string; label: string | null; last_attempt_at: string | null; last_collected_at: string | null }>(sql`
    SELECT clock_timestamp()::text AS now, i.label, i.last_attempt_at::text, i.last_collected_at::text
    FROM (SELECT 1) one LEFT JOIN procver.instances i ON i.label = ANY(${sql.param(labels)}::text[])`);
  const row = (label: string) => r.rows.find((x) => x.label === label);
  const date = (s: string | null | undefined) => (s ? new Date(s) : null);
  const collected = labels.map((l) => date(row(l)?.last_collected_at)).filter((d): d is Date => d !== null);
  return {
    now: new Date(r.rows[0]!.now),
    attempts: labels.map((l) => date(row(l)?.last_attempt_at)),
    readAt: collected.length > 0 ? new Date(Math.min(...collected.map((d) => d.getTime()))) : null,
  };
}

/** What a plan is computed on: where the reading came from, what is stale, and how old it is (a taken one: read again after). */
interface Evidence {
  source: ReadingSource;
  readAfter: Date;
  readAt: Date | null;
}

/** A viewer's evidence: what the registry holds, never a new reading. */
async function stored(db: Db, targets: InstanceTarget[], config: CleanupConfig): Promise<Evidence | null> {
  const latest = await latestReadings(db, targets);
  if (latest.readAt === null) return null;
  return { source: 'stored', readAfter: new Date(latest.now.getTime() - config.staleAfterMs), readAt: latest.readAt };
}

/**
 * An operator's evidence: the reading of every configured instance if each was read (or tried)
 * within the collection interval, else a fresh one. Readings older than the oldest attempt are stale,
 * as freshReading's are: an instance whose latest attempt failed has only an older reading, and its
 * gap makes its usage unknown either way.
 */
async function recentOrFresh(db: Db, targets: InstanceTarget[], config: CleanupConfig): Promise<Evidence> {
  const { now, attempts, readAt } = await latestReadings(db, targets);
  const tried = attempts.filter((a): a is Date => a !== null);
  if (tried.length === attempts.length && tried.every((a) => now.getTime() - a.getTime() < config.collectIntervalMs)) {
    return { source: 'reused', readAfter: new Date(Math.min(...tried.map((a) => a.getTime()))), readAt };
  }
  return { source: 'taken', readAfter: await freshReading(db, targets), readAt: null };
}

/**
 * One decision at a time in this process: requests arriving together (a reload storm) wait for the
 * reading the first one takes, then reuse it, instead of each finding none and taking its own.
 */
let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn);
  queue = run.catch(() => undefined);
  return run;
}
