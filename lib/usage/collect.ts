import { and, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client';
import { deploymentSightings, instances, usageCounters, usageEvents, usageSamples } from '../db/schema';
import { recordReplicaReplay } from '../cleanup/barrier';
import { ProcverError } from '../errors';
import { instanceLabel, readInstance, type InstanceReading, type InstanceTarget, type ManagedName } from './readInstance';

export interface InstanceResult {
  label: string;
  role: string;
  ok: boolean;
  /** why the instance could not be read, with the fix where there is one */
  error?: string;
  warnings: string[];
  versionsSeen: number;
  calls: number;
  events: string[];
  /** when the instance was read (its own clock); absent when it could not be read */
  readAt?: Date;
}

export interface CollectOptions {
  /** raw samples older than this are deleted (rollups stay) */
  retentionDays?: number;
  /** hourly rollups older than this are deleted (daily rollups stay); at least 2 */
  hourlyRetentionDays?: number;
  timeoutMs?: number;
}

export interface Managed extends ManagedName {
  id: number;
  language: string;
  /** the quarantine tripwire under the version's old name (its calls are events, not the version's counters) */
  tripwire?: boolean;
  /**
   * for a tripwire: the version's own OID. A replica that has not applied the rename yet still has the
   * version under its old name, with the same OID (a physical replica has the primary's catalogs):
   * that row is the version's counters, not a call on the tripwire.
   */
  versionOid?: number | null;
}

/** The versions whose counters are read: every version still in the database, and every quarantine tripwire. */
export async function managedVersions(db: Db): Promise<Managed[]> {
  // A quarantined version keeps its OID and counters under its quarantine name; its old name is the tripwire.
  const r = await db.execute<{ id: string; schema: string; name: string; language: string; tripwire: boolean; oid: string | null }>(sql`
    SELECT id, schema, coalesce(quarantine_name, physical_name) AS name, language, false AS tripwire, NULL::bigint AS oid FROM procver.versions WHERE status <> 'dropped'
    UNION ALL
    SELECT id, schema, physical_name, 'plpgsql', true, oid FROM procver.versions WHERE status = 'retired' AND quarantine_name IS NOT NULL`);
  return r.rows.map((x) => ({
    id: Number(x.id),
    schema: x.schema,
    physicalName: x.name,
    language: x.language,
    ...(x.tripwire ? { tripwire: true, versionOid: x.oid === null ? null : Number(x.oid) } : {}),
  }));
}

interface Counter {
  versionId: number;
  oid: number;
  calls: number;
  totalTime: number;
  selfTime: number;
}

/**
 * The counters a long-running collector wrote last, per instance, so that the next pass need not
 * read 100,000 rows back. Valid only while the instance's last_collected_at (read under its row
 * lock) is still the reading this process applied: any other collector applying a reading moves it,
 * and then the counters are read from the registry again.
 */
export class CounterCache {
  private readonly entries = new Map<number, { appliedAt: number; counters: Map<number, Counter> }>();

  /**
   * Hands the counters over to a pass, which updates them in place (no copy of 100,000 entries), or
   * null when the registry must be read. The pass gives them back with remember() once it committed.
   */
  take(instanceId: number, lastCollectedAt: Date | null): Map<number, Counter> | null {
    const e = this.entries.get(instanceId);
    if (!e || lastCollectedAt === null || e.appliedAt !== lastCollectedAt.getTime()) return null;
    this.entries.delete(instanceId);
    return e.counters;
  }

  /** Called only after the pass's transaction committed. */
  remember(instanceId: number, appliedAt: Date, counters: Map<number, Counter>): void {
    this.entries.set(instanceId, { appliedAt: appliedAt.getTime(), counters });
  }

  forget(instanceId: number): void {
    this.entries.delete(instanceId);
  }
}

/** Applies one instance's reading to the registry (deltas, rollups, events) in one transaction. */
export async function applyInstanceReading(db: Db, target: InstanceTarget, reading: InstanceReading, managed: Managed[], cache?: CounterCache): Promise<InstanceResult> {
  let applied: { instanceId: number; at: Date; counters: Map<number, Counter> } | undefined;
  try {
    const result = await db.transaction(async (tx) => {
      const r = await applyReading(tx, target, reading, managed, cache);
      applied = r.applied;
      return r.result;
    });
    if (cache && applied) cache.remember(applied.instanceId, applied.at, applied.counters);
    return result;
  } catch (e) {
    if (cache && applied) cache.forget(applied.instanceId);
    throw e;
  }
}

/** The fix for track_functions, worded for where it can be applied. */
function trackFunctionsFix(label: string, role: string): string {
  const how =
    role === 'replica'
      ? "set track_functions = 'all' in that standby's postgresql.conf and reload it (ALTER SYSTEM cannot run on a standby)"
      : "run ALTER SYSTEM SET track_functions = 'all'; SELECT pg_reload_conf(); (or set it in postgresql.conf)";
  return `track_functions is 'none' on ${label}, so PostgreSQL counts no function calls there; ${how}`;
}

/**
 * A reading of every instance taken right before a decision (cleanup's plan and each of its apply
 * steps), with the collector's own code and recorded like any collection. Returns the moment
 * readings must be newer than to count as fresh: the earliest of this pass's readings (each carries
 * its instance's clock) and the registry's clock before the pass. An instance that cannot be read
 * now gets a gap up to now, and its older reading is not fresh: either keeps every version.
 */
export async function freshReading(db: Db, targets: InstanceTarget[]): Promise<Date> {
  const before = new Date((await db.execute<{ now: string }>(sql`SELECT clock_timestamp()::text AS now`)).rows[0]!.now);
  const results = await collectUsage(db, targets);
  const times = results.filter((r) => r.ok && r.readAt).map((r) => r.readAt!.getTime());
  return new Date(Math.min(before.getTime(), ...times));
}

/**
 * One collection pass: reads pg_stat_user_functions on every instance and turns the cumulative,
 * resettable per-instance counters into deltas, hourly rollups and events. An instance that
 * cannot be read is recorded as a gap, never as zero calls.
 */
export async function collectUsage(db: Db, targets: InstanceTarget[], opts: CollectOptions = {}, cache?: CounterCache): Promise<InstanceResult[]> {
  const managed = await managedVersions(db);
  const results = await Promise.all(
    targets.map(async (target) => {
      const { label } = instanceLabel(target.url);
      try {
        const reading = await readInstance(target.url, managed, opts.timeoutMs);
        return await applyInstanceReading(db, target, reading, managed, cache);
      } catch (e) {
        const message = e instanceof ProcverError ? e.message : `cannot read ${label}: ${(e as Error).message}`;
        await db.transaction((tx) => recordGap(tx, target, message));
        return { label, role: target.role, ok: false, error: message, warnings: [], versionsSeen: 0, calls: 0, events: ['gap'] };
      }
    }),
  );
  if (opts.retentionDays !== undefined) {
    await db.delete(usageSamples).where(sql`${usageSamples.sampledAt} < now() - make_interval(days => ${opts.retentionDays})`);
  }
  if (opts.hourlyRetentionDays !== undefined) {
    // The 24h window and sparklines read hourly rows; everything longer reads the daily ones.
    const days = Math.max(opts.hourlyRetentionDays, 2);
    await db.execute(sql`DELETE FROM procver.usage_hourly WHERE hour < now() - make_interval(days => ${days})`);
    await db.execute(sql`DELETE FROM procver.procedure_calls_hourly WHERE hour < now() - make_interval(days => ${days})`);
  }
  return results;
}

/** A counter that moved in this pass: its new reading and the calls since the previous one. */
interface MovedCounter extends Counter {
  /** null keeps the last time it was called (the upsert coalesces) */
  lastCalledAt: Date | null;
  callsDelta: number;
}

/**
 * The counters that moved and their raw samples, in one statement of arrays (unnest): a pass in
 * which 10,000 counters moved costs one round trip, not twenty multi-row INSERTs of 9,000 parameters.
 * first_seen_at is set when a counter row is inserted and never after.
 */
async function writeCounters(tx: Tx, instanceId: number, now: Date, counters: MovedCounter[]) {
  if (counters.length === 0) return;
  const col = <K extends keyof MovedCounter>(k: K) => sql.param(counters.map((c) => c[k]));
  await tx.execute(sql`
    WITH c AS (
      SELECT * FROM unnest(${col('versionId')}::bigint[], ${col('oid')}::bigint[], ${col('calls')}::bigint[],
                           ${col('totalTime')}::float8[], ${col('selfTime')}::float8[],
                           ${sql.param(counters.map((c) => c.lastCalledAt?.toISOString() ?? null))}::timestamptz[],
                           ${col('callsDelta')}::bigint[])
        AS c(version_id, oid, calls, total_time, self_time, last_called_at, calls_delta)),
    s AS (
      INSERT INTO procver.usage_samples (instance_id, version_id, sampled_at, calls, total_time, self_time, calls_delta)
      SELECT ${instanceId}, version_id, ${now.toISOString()}::timestamptz, calls, total_time, self_time, calls_delta FROM c)
    INSERT INTO procver.usage_counters AS t (instance_id, version_id, oid, calls, total_time, self_time, sampled_at, first_seen_at, last_called_at)
    SELECT ${instanceId}, version_id, oid, calls, total_time, self_time, ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz, last_called_at FROM c
    ON CONFLICT (instance_id, version_id) DO UPDATE SET
      oid = excluded.oid, calls = excluded.calls, total_time = excluded.total_time, self_time = excluded.self_time,
      sampled_at = excluded.sampled_at, last_called_at = coalesce(excluded.last_called_at, t.last_called_at)`);
}

/**
 * Adds one pass's deltas to every rollup in one statement: hourly, daily and all-time per version
 * and instance, and hourly and daily per procedure (what the procedures list sorts by). Buckets are UTC,
 * so every time zone, half-hour offsets included, reads the same buckets.
 */
async function addToRollups(tx: Tx, instanceId: number, now: Date, deltas: Map<number, { calls: number; totalTime: number; selfTime: number }>) {
  if (deltas.size === 0) return;
  const hour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
  const day = hour.toISOString().slice(0, 10);
  const ids = [...deltas.keys()];
  const d = [...deltas.values()];
  await tx.execute(sql`
    WITH d AS (
      SELECT * FROM unnest(${sql.param(ids)}::bigint[], ${sql.param(d.map((x) => x.calls))}::bigint[],
                           ${sql.param(d.map((x) => x.totalTime))}::float8[], ${sql.param(d.map((x) => x.selfTime))}::float8[])
        AS d(version_id, calls, total_time, self_time)),
    vh AS (
      INSERT INTO procver.usage_hourly AS t (instance_id, version_id, hour, calls, total_time, self_time)
      SELECT ${instanceId}, version_id, ${hour}, calls, total_time, self_time FROM d
      ON CONFLICT (version_id, hour, instance_id) DO UPDATE
        SET calls = t.calls + excluded.calls, total_time = t.total_time + excluded.total_time, self_time = t.self_time + excluded.self_time),
    vd AS (
      INSERT INTO procver.usage_daily AS t (instance_id, version_id, day, calls, total_time, self_time)
      SELECT ${instanceId}, version_id, ${day}::date, calls, total_time, self_time FROM d
      ON CONFLICT (version_id, day, instance_id) DO UPDATE
        SET calls = t.calls + excluded.calls, total_time = t.total_time + excluded.total_time, self_time = t.self_time + excluded.self_time),
    vt AS (
      INSERT INTO procver.usage_totals AS t (instance_id, version_id, calls, total_time, self_time)
      SELECT ${instanceId}, version_id, calls, total_time, self_time FROM d
      ON CONFLICT (version_id, instance_id) DO UPDATE
        SET calls = t.calls + excluded.calls, total_time = t.total_time + excluded.total_time, self_time = t.self_time + excluded.self_time),
    p AS (
      SELECT v.procedure_id, sum(d.calls)::bigint AS calls FROM d JOIN procver.versions v ON v.id = d.version_id
      GROUP BY v.procedure_id HAVING sum(d.calls) > 0),
    ph AS (
      INSERT INTO procver.procedure_calls_hourly AS t (procedure_id, hour, calls)
      SELECT procedure_id, ${hour}, calls FROM p
      ON CONFLICT (procedure_id, hour) DO UPDATE SET calls = t.calls + excluded.calls)
    INSERT INTO procver.procedure_calls_daily AS t (procedure_id, day, calls)
    SELECT procedure_id, ${day}::date, calls FROM p
    ON CONFLICT (procedure_id, day) DO UPDATE SET calls = t.calls + excluded.calls`);
}

async function lockInstance(tx: Tx, target: InstanceTarget) {
  const { label, host, port } = instanceLabel(target.url);
  await tx.insert(instances).values({ label, host, port, role: target.role }).onConflictDoNothing();
  const [row] = await tx.select().from(instances).where(eq(instances.label, label)).for('update');
  return row!;
}

/** A failed read opens (or extends) a gap for the instance, from its last good reading to now. */
async function recordGap(tx: Tx, target: InstanceTarget, message: string): Promise<void> {
  const inst = await lockInstance(tx, target);
  const [open] = await tx
    .select()
    .from(usageEvents)
    .where(and(eq(usageEvents.instanceId, inst.id), eq(usageEvents.kind, 'gap'), eq(usageEvents.resolved, false)));
  if (open) {
    await tx
      .update(usageEvents)
      .set({ toAt: sql`now()`, detail: { error: message } })
      .where(eq(usageEvents.id, open.id));
  } else {
    await tx.insert(usageEvents).values({
      instanceId: inst.id,
      kind: 'gap',
      fromAt: inst.lastCollectedAt ?? sql`now()`,
      toAt: sql`now()`,
      detail: { error: message },
    });
  }
  await tx.update(instances).set({ lastAttemptAt: sql`now()`, lastError: message, role: target.role }).where(eq(instances.id, inst.id));
}

async function applyReading(
  tx: Tx,
  target: InstanceTarget,
  reading: InstanceReading,
  managed: Managed[],
  cache?: CounterCache,
): Promise<{ result: InstanceResult; applied?: { instanceId: number; at: Date; counters: Map<number, Counter> } }> {
  const inst = await lockInstance(tx, target);
  const { label } = instanceLabel(target.url);
  if (reading.trackFunctions === 'none') throw new ProcverError('config', trackFunctionsFix(label, target.role));
  // When this replica had applied each quarantine's rename (cleanup's in-flight check there).
  if (target.role === 'replica' && reading.replayLsn !== null) await recordReplicaReplay(tx, inst.id, reading.replayLsn, reading.readAt);

  const now = reading.readAt;
  // Another collector applied a newer reading of this instance while this one was in flight:
  // applying this older one would look like a counter reset and count calls twice.
  if (inst.lastCollectedAt && now.getTime() <= inst.lastCollectedAt.getTime()) {
    return {
      result: { label, role: target.role, ok: true, warnings: [], versionsSeen: reading.rows.length, calls: 0, events: ['superseded'], readAt: inst.lastCollectedAt },
    };
  }
  const since = inst.lastCollectedAt ?? now;
  const events: string[] = [];
  const event = async (kind: string, versionId: number | null, detail: Record<string, unknown>) => {
    events.push(kind);
    await tx.insert(usageEvents).values({ instanceId: inst.id, versionId, kind, fromAt: since, toAt: now, detail, resolved: true });
  };

  const first = inst.lastCollectedAt === null;
  const restarted = !first && inst.postmasterStartTime?.getTime() !== reading.postmasterStartTime.getTime();
  const statsReset = !first && (inst.statsReset?.getTime() ?? null) !== (reading.statsReset?.getTime() ?? null);
  const replaced = !first && inst.systemIdentifier !== null && reading.systemIdentifier !== null && inst.systemIdentifier !== reading.systemIdentifier;
  if (restarted) await event('restart', null, { previous: inst.postmasterStartTime, current: reading.postmasterStartTime });
  if (statsReset) await event('stats_reset', null, { previous: inst.statsReset, current: reading.statsReset });
  if (replaced) await event('replaced', null, { previous: inst.systemIdentifier, current: reading.systemIdentifier });

  // The gap (if any) ends with this good reading.
  await tx
    .update(usageEvents)
    .set({ toAt: now, resolved: true })
    .where(and(eq(usageEvents.instanceId, inst.id), eq(usageEvents.kind, 'gap'), eq(usageEvents.resolved, false)));

  // The counters as the registry holds them; updated in place to what it holds once this pass
  // commits, which a long-running collector keeps for its next pass.
  const counters = cache?.take(inst.id, inst.lastCollectedAt) ?? (await readCounters(tx, inst.id));
  const seen = new Set<number>();
  const moved: MovedCounter[] = [];
  const hourly = new Map<number, { calls: number; totalTime: number; selfTime: number }>();
  let totalCalls = 0;

  for (const row of reading.rows) {
    const version = managed[row.index]!;
    if (version.tripwire && row.oid !== version.versionOid) {
      await recordTripwire(tx, inst.id, version.id, row, event);
      continue;
    }
    const prev = counters.get(version.id);
    seen.add(version.id);
    let fresh: boolean; // the counters started from zero since the previous reading
    if (!prev) fresh = !first;
    else if (prev.oid !== row.oid) {
      await event('recreated', version.id, { previousOid: prev.oid, oid: row.oid });
      fresh = true;
    } else if (replaced) fresh = true;
    // A reset is decided per counter, from the counter itself: pg_stat_database.stats_reset also
    // moves when a single function's counters are reset, so it cannot say which ones restarted.
    else if (row.calls < prev.calls || row.totalTime < prev.totalTime) {
      await event('reset', version.id, { previousCalls: prev.calls, calls: row.calls });
      fresh = true;
    } else fresh = false;

    // Unchanged counters are not written again: the instance's last_collected_at says they were
    // read, and writing only what moved keeps a pass over 100,000 functions cheap.
    if (prev && prev.oid === row.oid && prev.calls === row.calls && prev.totalTime === row.totalTime && !replaced) continue;
    // The very first reading of an instance is a baseline: its calls happened at unknown times.
    const baseline = !prev && first;
    const calls = baseline ? 0 : fresh ? row.calls : row.calls - prev!.calls;
    const totalTime = baseline ? 0 : fresh ? row.totalTime : row.totalTime - prev!.totalTime;
    const selfTime = baseline ? 0 : fresh ? row.selfTime : row.selfTime - prev!.selfTime;
    totalCalls += calls;
    const counter = { versionId: version.id, oid: row.oid, calls: row.calls, totalTime: row.totalTime, selfTime: row.selfTime };
    moved.push({ ...counter, lastCalledAt: calls > 0 ? now : null, callsDelta: calls });
    counters.set(version.id, counter);
    if (calls > 0 || totalTime > 0) hourly.set(version.id, { calls, totalTime, selfTime });
  }
  // Counters that vanished: function dropped, counters reset for it, or lost in a crash.
  for (const gone of [...counters.values()].filter((c) => !seen.has(c.versionId))) {
    if (!restarted && !statsReset) await event('missing', gone.versionId, { previousCalls: gone.calls });
    await tx.delete(usageCounters).where(and(eq(usageCounters.instanceId, inst.id), eq(usageCounters.versionId, gone.versionId)));
    counters.delete(gone.versionId);
  }

  await writeCounters(tx, inst.id, now, moved);
  await addToRollups(tx, inst.id, now, hourly);
  if (reading.sessions.length > 0) {
    await tx
      .insert(deploymentSightings)
      .values(reading.sessions.map((x) => ({ instanceId: inst.id, ...x, lastSeenAt: now })))
      .onConflictDoUpdate({
        target: [deploymentSightings.app, deploymentSightings.deploymentId, deploymentSightings.instanceId],
        set: { connections: sql`excluded.connections`, lastSeenAt: sql`excluded.last_seen_at` },
      });
  }

  await tx
    .update(instances)
    .set({
      role: target.role,
      systemIdentifier: reading.systemIdentifier ?? inst.systemIdentifier,
      lastAttemptAt: now,
      firstCollectedAt: inst.firstCollectedAt ?? now,
      lastCollectedAt: now,
      lastError: null,
      postmasterStartTime: reading.postmasterStartTime,
      statsReset: reading.statsReset,
      trackFunctions: reading.trackFunctions,
    })
    .where(eq(instances.id, inst.id));

  const warnings: string[] = [];
  if (reading.trackFunctions === 'pl') {
    const sqlVersions = managed.filter((m) => m.language === 'sql').length;
    if (sqlVersions > 0) {
      warnings.push(
        `track_functions is 'pl' on ${label}: calls to the ${sqlVersions} LANGUAGE sql version(s) are not counted there (unknown, not zero); set track_functions = 'all'`,
      );
    }
  }
  if (target.role === 'replica' && !reading.inRecovery) warnings.push(`${label} is configured as a replica but is not in recovery (promoted?)`);
  return {
    result: { label, role: target.role, ok: true, warnings, versionsSeen: reading.rows.length, calls: totalCalls, events, readAt: now },
    applied: cache ? { instanceId: inst.id, at: now, counters } : undefined,
  };
}

/**
 * A quarantine tripwire is a fresh function: any row for it in pg_stat_user_functions means it was
 * called (calls = 0 when the call failed). Recorded once per change, as a 'tripwire' event on the
 * version: the evidence module reads it as "called", the dashboard shows it red, and cleanup puts the
 * version back out of quarantine. Its calls are not added to the version's counts: a forwarded call
 * is counted on the renamed version too.
 */
async function recordTripwire(
  tx: Tx,
  instanceId: number,
  versionId: number,
  row: { oid: number; calls: number },
  event: (kind: string, versionId: number | null, detail: Record<string, unknown>) => Promise<void>,
) {
  const last = await tx.execute<{ oid: number; calls: number }>(sql`
    SELECT (detail->>'oid')::bigint AS oid, (detail->>'calls')::bigint AS calls FROM procver.usage_events
    WHERE instance_id = ${instanceId} AND version_id = ${versionId} AND kind = 'tripwire' ORDER BY id DESC LIMIT 1`);
  const prev = last.rows[0];
  if (prev && Number(prev.oid) === row.oid && Number(prev.calls) === row.calls) return;
  await event('tripwire', versionId, { oid: row.oid, calls: row.calls });
}

async function readCounters(tx: Tx, instanceId: number): Promise<Map<number, Counter>> {
  const r = await tx.execute<{ version_id: string; oid: string; calls: string; total_time: number; self_time: number }>(sql`
    SELECT version_id, oid, calls, total_time, self_time FROM procver.usage_counters WHERE instance_id = ${instanceId}`);
  const counters = new Map<number, Counter>();
  for (const c of r.rows) {
    const versionId = Number(c.version_id);
    counters.set(versionId, { versionId, oid: Number(c.oid), calls: Number(c.calls), totalTime: Number(c.total_time), selfTime: Number(c.self_time) });
  }
  return counters;
}
