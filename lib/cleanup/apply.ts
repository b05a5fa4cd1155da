import { eq, sql } from 'drizzle-orm';
import { writeAudit } from '../audit';
import { fitIdentifier } from '../identifiers';
import { quoteIdent } from '../identifiers';
import type { Db, Tx } from '../db/client';
import { versions } from '../db/schema';
import { lockRegistry } from '../locks';
import type { InstanceTarget } from '../usage/readInstance';
import type { CleanupConfig } from './config';
import { applyRetention } from './retention';
import { forgetReplicaBarriers, NO_BARRIER, NOT_QUARANTINED, recordQuarantineBarriers, replicaBarriersOf } from './barrier';
import { freshReading } from '../usage/collect';
import {
  actionFor,
  dependentsCheck,
  deploymentsCheck,
  inFlightCheck,
  oldestTransactions,
  planCleanup,
  refuseUnresolvableWindows,
  retiredCheck,
  usageCheck,
  type Candidate,
  type CleanupPlan,
  type PlanRow,
} from './plan';
import { unquarantine } from './restore';
import { signature, takeDropSnapshot } from './snapshot';
import { createTripwire, dropTripwire, standingTripwires } from './tripwire';
import { pgCode, pgReason } from '../db/pgError';

export interface ApplyResult {
  physicalName: string;
  schema: string;
  outcome: 'quarantined' | 'dropped' | 'released' | 'kept';
  detail: string;
}

/** `<name>__<hash10>__quarantined`, within 63 bytes; the hash keeps it unique. */
export function quarantineNameFor(physicalName: string): string {
  const cut = physicalName.lastIndexOf('__');
  return fitIdentifier(physicalName.slice(0, cut), `__${physicalName.slice(cut + 2)}__quarantined`);
}

/** The plan's candidate row for a version, as a step re-reads it under its row lock. */
async function candidateOf(tx: Tx, v: typeof versions.$inferSelect): Promise<Candidate> {
  return {
    id: v.id,
    schema: v.schema,
    physical_name: v.physicalName,
    quarantine_name: v.quarantineName,
    quarantined_at: v.quarantinedAt?.toISOString() ?? null,
    quarantine_barrier_at: v.quarantineBarrierAt?.toISOString() ?? null,
    quarantine_barrier_lsn: v.quarantineBarrierLsn,
    replica_barriers: (await replicaBarriersOf(tx, [v.id])).get(v.id) ?? {},
    status_changed_at: v.statusChangedAt.toISOString(),
    language: v.language,
    may_be_inlined: v.mayBeInlined,
    revision: v.revision,
    procedure: '',
  };
}

/**
 * Every check the plan made, made again inside the step's transaction with a reading taken right
 * before it: the step goes ahead only if the plan would still decide the same action.
 */
async function recheck(tx: Tx, v: typeof versions.$inferSelect, row: PlanRow, targets: InstanceTarget[], config: CleanupConfig, readAfter: Date): Promise<string | null> {
  const now = new Date((await tx.execute<{ now: string }>(sql`SELECT now()::text AS now`)).rows[0]!.now);
  const c = await candidateOf(tx, v);
  const quarantinedAt = v.quarantinedAt;
  // One after the other: they share the step's transaction.
  const deployments = await deploymentsCheck(tx, c, now, config);
  const usage = await usageCheck(tx, c, targets, now, config, readAfter);
  const dependents = await dependentsCheck(tx, c);
  const oldest = quarantinedAt ? await oldestTransactions(targets) : [];
  const tripwireStands = (await standingTripwires(tx, [{ schema: v.schema, physicalName: v.physicalName }])).size === 1;
  const checks = [retiredCheck(c, now, config), deployments, usage, dependents, inFlightCheck(c, quarantinedAt, oldest, now, config, tripwireStands)];
  if (actionFor(checks, v.quarantineName !== null) === row.action) return null;
  return checks
    .filter((x) => x.verdict !== 'pass' && !(x.name === 'in_flight' && row.action === 'quarantine'))
    .flatMap((x) => x.detail)
    .join('; ');
}

/** Runs one step in its own short transaction: a lock it cannot get quickly keeps the version. */
async function step<T>(db: Db, config: CleanupConfig, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql.raw(`SET LOCAL lock_timeout = '${Math.max(1, Math.round(config.lockTimeoutMs))}ms'`));
    await lockRegistry(tx);
    return fn(tx);
  });
}

/**
 * Carries out a plan: puts back what was called in quarantine, quarantines what may be
 * quarantined, drops what may be dropped, each in its own transaction after a fresh reading of every
 * instance, re-checking everything the plan checked. A version whose step fails is kept.
 */
export async function applyCleanup(
  db: Db,
  plan: CleanupPlan,
  actor: string,
  targets: InstanceTarget[],
  onProgress?: (done: number, total: number) => void,
): Promise<ApplyResult[]> {
  refuseUnresolvableWindows(plan.config);
  // A quarantine whose barrier could not be recorded right after it committed gets it now (later is
  // only more cautious). If that fails too, those versions stay kept, and the plan says why.
  await recordQuarantineBarriers(db).catch(() => undefined);
  const todo = plan.rows.filter((r) => r.action !== 'keep');
  const results: ApplyResult[] = [];
  for (const row of todo) {
    try {
      if (row.action === 'release') results.push(await release(db, plan.config, row, actor));
      else {
        // Evidence up to the moment of this step's decision, not the plan's.
        const readAfter = await freshReading(db, targets);
        const act = row.action === 'quarantine' ? quarantine : drop;
        results.push(await act(db, plan.config, row, actor, targets, readAfter));
      }
    } catch (e) {
      // Never drizzle's own message: it carries the SQL.
      const why = pgCode(e) === '55P03' ? 'could not get a lock in time' : pgReason(e);
      results.push({ physicalName: row.physicalName, schema: row.schema, outcome: 'kept', detail: `kept: ${why}` });
    }
    onProgress?.(results.length, todo.length);
  }
  return results;
}

async function quarantine(db: Db, config: CleanupConfig, row: PlanRow, actor: string, targets: InstanceTarget[], readAfter: Date): Promise<ApplyResult> {
  const keep = (detail: string): ApplyResult => ({ physicalName: row.physicalName, schema: row.schema, outcome: 'kept', detail });
  const qname = quarantineNameFor(row.physicalName);
  const done = await step(db, config, async (tx) => {
    const [v] = await tx.select().from(versions).where(eq(versions.id, row.versionId)).for('update');
    if (!v || v.status !== 'retired' || v.quarantineName || v.revision !== row.revision) return keep('kept: changed since the plan was made');
    const changed = await recheck(tx, v, row, targets, config, readAfter);
    if (changed !== null) return keep(`kept: ${changed}`);
    const fn = await signature(tx, v.schema, v.physicalName);
    if (!fn) return keep('kept: the function is not in the database');
    // Two functions under one name (an overload that got there first) could not be told apart to drop
    // or rename back: the name must be free.
    const taken = await signature(tx, v.schema, qname, { any: true });
    if (taken) return keep(`kept: ${taken.sig} already uses the quarantine name ${v.schema}.${qname}; rename or drop it first`);
    await tx.execute(sql.raw(`ALTER ROUTINE ${fn.sig} RENAME TO ${quoteIdent(qname)}`));
    const tripwire = await createTripwire(tx, v.schema, v.physicalName, qname, fn.oid);
    // now() is this transaction's start: before anyone can call the tripwire (it exists for others
    // once this commits), so the evidence period that starts here misses none of its calls.
    await tx
      .update(versions)
      .set({ quarantineName: qname, quarantinedAt: sql`now()`, ...NO_BARRIER, revision: sql`${versions.revision} + 1` })
      .where(eq(versions.id, v.id));
    await forgetReplicaBarriers(tx, [v.id]);
    await writeAudit(tx, {
      actor,
      action: 'version.quarantine',
      targetType: 'version',
      target: `${v.schema}.${v.physicalName}`,
      reason: `cleanup: every check passed; renamed, with a tripwire under the old name that ${tripwire.forwards ? 'forwards and counts every call' : 'counts and refuses every call'}, before the drop`,
      before: { name: v.physicalName },
      after: { name: qname, tripwire: tripwire.forwards ? 'forwards' : 'raises', checks: row.checks.map((c) => ({ check: c.name, verdict: c.verdict })) },
    });
    return null;
  });
  if (done) return done;
  const quarantined: ApplyResult = {
    physicalName: row.physicalName,
    schema: row.schema,
    outcome: 'quarantined',
    detail: `renamed to ${qname}; its tripwire watches the old name`,
  };
  // The quarantine has committed (with its audit entry): whatever happens now, it is quarantined.
  try {
    await recordQuarantineBarriers(db, row.versionId);
  } catch (e) {
    return { ...quarantined, detail: `${quarantined.detail}; ${BARRIER_MISSING} (${pgReason(e)})` };
  }
  return quarantined;
}

const BARRIER_MISSING = 'the moment its rename committed could not be recorded, so its drop waits until a later applied run records it';

/** Something called a quarantined version (or a deployment needs it): back under its name, retired and kept. */
async function release(db: Db, config: CleanupConfig, row: PlanRow, actor: string): Promise<ApplyResult> {
  return step(db, config, async (tx) => {
    const [v] = await tx.select().from(versions).where(eq(versions.id, row.versionId)).for('update');
    if (!v || v.status !== 'retired' || !v.quarantineName || v.revision !== row.revision) {
      return { physicalName: row.physicalName, schema: row.schema, outcome: 'kept' as const, detail: 'kept: changed since the plan was made' };
    }
    await unquarantine(tx, v);
    await tx
      .update(versions)
      .set({ ...NOT_QUARANTINED, revision: sql`${versions.revision} + 1` })
      .where(eq(versions.id, v.id));
    await forgetReplicaBarriers(tx, [v.id]);
    const why = row.checks.filter((c) => c.verdict === 'fail' && (c.name === 'usage' || c.name === 'deployments')).flatMap((c) => c.detail);
    await writeAudit(tx, {
      actor,
      action: 'version.unquarantine',
      targetType: 'version',
      target: `${v.schema}.${v.physicalName}`,
      reason: `cleanup: still in use during quarantine (${why.join('; ')}); back under its name, retired and kept`,
      before: { name: v.quarantineName },
      after: { name: v.physicalName, status: 'retired' },
    });
    return { physicalName: v.physicalName, schema: v.schema, outcome: 'released' as const, detail: `put back under its name, still retired: ${why.join('; ')}` };
  });
}

async function drop(db: Db, config: CleanupConfig, row: PlanRow, actor: string, targets: InstanceTarget[], readAfter: Date): Promise<ApplyResult> {
  return step(db, config, async (tx) => {
    const keep = (detail: string): ApplyResult => ({ physicalName: row.physicalName, schema: row.schema, outcome: 'kept', detail });
    const [v] = await tx.select().from(versions).where(eq(versions.id, row.versionId)).for('update');
    if (!v || v.status !== 'retired' || !v.quarantineName || v.revision !== row.revision) return keep('kept: changed since the plan was made');
    const changed = await recheck(tx, v, row, targets, config, readAfter);
    if (changed !== null) return keep(`kept: ${changed}`);
    const fn = await signature(tx, v.schema, v.quarantineName);
    if (!fn) return keep('kept: the quarantined function is not in the database');

    // The snapshot is the renamed version's own code, never its tripwire's (nor drifted code).
    const snapshot = await takeDropSnapshot(tx, v.id, fn.oid);
    await dropTripwire(tx, v.schema, v.physicalName);
    await tx.execute(sql.raw(`DROP ROUTINE ${fn.sig} RESTRICT`));
    await tx
      .update(versions)
      .set({ status: 'dropped', dropSnapshot: snapshot, droppedAt: sql`now()`, oid: null, statusChangedAt: sql`now()`, revision: sql`${versions.revision} + 1` })
      .where(eq(versions.id, v.id));
    await writeAudit(tx, {
      actor,
      action: 'version.drop',
      targetType: 'version',
      target: `${v.schema}.${v.physicalName}`,
      reason: 'cleanup: quarantine stayed silent (its tripwire was never called) and every check passed',
      before: { name: v.quarantineName, ...snapshot },
      after: { status: 'dropped', checks: row.checks.map((c) => ({ check: c.name, verdict: c.verdict })) },
    });
    return {
      physicalName: v.physicalName,
      schema: v.schema,
      outcome: 'dropped' as const,
      detail: `dropped ${fn.sig} and its tripwire; restore with procver restore ${v.schema}.${v.physicalName}`,
    };
  });
}

/** Plan and (optionally) apply in one call: what the CLI and the dashboard run. An applied run is audited. */
export type CleanupProgress = (step: 'apply' | 'retire', done: number, total: number) => void;

export async function runCleanup(db: Db, targets: InstanceTarget[], config: CleanupConfig, opts: { apply: boolean; actor: string; onProgress?: CleanupProgress }) {
  const plan = await planCleanup(db, targets, config);
  if (!opts.apply) return { plan, results: [] as ApplyResult[], retired: [] as Awaited<ReturnType<typeof applyRetention>> };
  const results = await applyCleanup(db, plan, opts.actor, targets, (done, total) => opts.onProgress?.('apply', done, total));
  // Retired now, so their quiet window starts now: a later run drops them once every check holds.
  const retired = config.retention ? await applyRetention(db, plan.retire, config.retention, opts.actor, (done, total) => opts.onProgress?.('retire', done, total)) : [];
  const count = (o: ApplyResult['outcome']) => results.filter((r) => r.outcome === o).length;
  await db.transaction((tx) =>
    writeAudit(tx, {
      actor: opts.actor,
      action: 'cleanup.run',
      targetType: 'registry',
      target: 'cleanup',
      after: {
        retired: plan.rows.length,
        quarantined: count('quarantined'),
        dropped: count('dropped'),
        released: count('released'),
        kept: plan.rows.length - count('quarantined') - count('dropped') - count('released'),
        retiredByPolicy: retired.filter((r) => r.outcome === 'retired').length,
      },
    }),
  );
  return { plan, results, retired };
}
