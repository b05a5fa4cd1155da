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
import { signature, takeDropSnapshot } from './snapshot';
import { dependentsCheck, planCleanup, usageCheck, type CleanupPlan, type PlanRow } from './plan';

export interface ApplyResult {
  physicalName: string;
  schema: string;
  outcome: 'quarantined' | 'dropped' | 'kept';
  detail: string;
}

/** `<name>__<hash10>__quarantined`, within 63 bytes; the hash keeps it unique. */
export function quarantineNameFor(physicalName: string): string {
  const cut = physicalName.lastIndexOf('__');
  return fitIdentifier(physicalName.slice(0, cut), `__${physicalName.slice(cut + 2)}__quarantined`);
}

/** Re-reads the usage evidence inside the step's transaction: a call may have been collected since the plan. */
async function usageStillSilent(tx: Tx, v: typeof versions.$inferSelect, targets: InstanceTarget[], config: CleanupConfig): Promise<string | null> {
  const now = new Date((await tx.execute<{ now: string }>(sql`SELECT now()::text AS now`)).rows[0]!.now);
  const check = await usageCheck(
    tx,
    {
      id: v.id,
      schema: v.schema,
      physical_name: v.physicalName,
      quarantine_name: v.quarantineName,
      quarantined_at: v.quarantinedAt?.toISOString() ?? null,
      status_changed_at: v.statusChangedAt.toISOString(),
      language: v.language,
      may_be_inlined: v.mayBeInlined,
      revision: v.revision,
      procedure: '',
    },
    targets,
    now,
    config,
  );
  return check.verdict === 'pass' ? null : check.detail.join('; ');
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
 * Carries out a plan: quarantines what may be quarantined, drops what may be dropped, each in
 * its own transaction that re-checks what can change meanwhile. A version whose step fails is kept.
 */
export async function applyCleanup(
  db: Db,
  plan: CleanupPlan,
  actor: string,
  targets: InstanceTarget[],
  onProgress?: (done: number, total: number) => void,
): Promise<ApplyResult[]> {
  const todo = plan.rows.filter((r) => r.action !== 'keep');
  const results: ApplyResult[] = [];
  for (const row of todo) {
    try {
      results.push(row.action === 'quarantine' ? await quarantine(db, plan.config, row, actor, targets) : await drop(db, plan.config, row, actor, targets));
    } catch (e) {
      const err = e as Error & { code?: string };
      const why = err.code === '55P03' ? 'could not get a lock in time' : err.message;
      results.push({ physicalName: row.physicalName, schema: row.schema, outcome: 'kept', detail: `kept: ${why}` });
    }
    onProgress?.(results.length, todo.length);
  }
  return results;
}

async function quarantine(db: Db, config: CleanupConfig, row: PlanRow, actor: string, targets: InstanceTarget[]): Promise<ApplyResult> {
  const keep = (detail: string): ApplyResult => ({ physicalName: row.physicalName, schema: row.schema, outcome: 'kept', detail });
  const qname = quarantineNameFor(row.physicalName);
  const done = await step(db, config, async (tx) => {
    const [v] = await tx.select().from(versions).where(eq(versions.id, row.versionId)).for('update');
    if (!v || v.status !== 'retired' || v.quarantineName || v.revision !== row.revision) return keep('kept: changed since the plan was made');
    const deps = await dependentsCheck(tx, { id: v.id, schema: v.schema, physical_name: v.physicalName, quarantine_name: null });
    if (deps.verdict !== 'pass') return keep(`kept: ${deps.detail.join('; ')}`);
    const usage = await usageStillSilent(tx, v, targets, config);
    if (usage) return keep(`kept: ${usage}`);
    const fn = await signature(tx, v.schema, v.physicalName);
    if (!fn) return keep('kept: the function is not in the database');
    await tx.execute(sql.raw(`ALTER ROUTINE ${fn.sig} RENAME TO ${quoteIdent(qname)}`));
    await tx
      .update(versions)
      .set({ quarantineName: qname, quarantinedAt: sql`now()`, revision: sql`${versions.revision} + 1` })
      .where(eq(versions.id, v.id));
    await writeAudit(tx, {
      actor,
      action: 'version.quarantine',
      targetType: 'version',
      target: `${v.schema}.${v.physicalName}`,
      reason: 'cleanup: every check passed; renamed so that any remaining caller fails loudly before the drop',
      before: { name: v.physicalName },
      after: { name: qname, checks: row.checks.map((c) => ({ check: c.name, verdict: c.verdict })) },
    });
    return null;
  });
  if (done) return done;
  // The barrier is set after the rename committed: any transaction that started before this
  // moment may still hold the old name's plan, so the drop waits for all of them to end.
  await db.update(versions).set({ quarantinedAt: sql`now()` }).where(eq(versions.id, row.versionId));
  return { physicalName: row.physicalName, schema: row.schema, outcome: 'quarantined', detail: `renamed to ${qname}` };
}

async function drop(db: Db, config: CleanupConfig, row: PlanRow, actor: string, targets: InstanceTarget[]): Promise<ApplyResult> {
  return step(db, config, async (tx) => {
    const keep = (detail: string): ApplyResult => ({ physicalName: row.physicalName, schema: row.schema, outcome: 'kept', detail });
    const [v] = await tx.select().from(versions).where(eq(versions.id, row.versionId)).for('update');
    if (!v || v.status !== 'retired' || !v.quarantineName || v.revision !== row.revision) return keep('kept: changed since the plan was made');
    // Re-check what can change between the plan and now, inside this transaction.
    const deps = await dependentsCheck(tx, { id: v.id, schema: v.schema, physical_name: v.physicalName, quarantine_name: v.quarantineName });
    if (deps.verdict !== 'pass') return keep(`kept: ${deps.detail.join('; ')}`);
    const usage = await usageStillSilent(tx, v, targets, config);
    if (usage) return keep(`kept: ${usage}`);
    const older = await tx.execute<{ n: number }>(sql`
      SELECT (SELECT count(*) FROM pg_stat_activity WHERE xact_start < ${v.quarantinedAt!.toISOString()}::timestamptz AND pid <> pg_backend_pid())
           + (SELECT count(*) FROM pg_prepared_xacts WHERE prepared < ${v.quarantinedAt!.toISOString()}::timestamptz) AS n`);
    if (Number(older.rows[0]!.n) > 0) return keep('kept: a transaction older than the quarantine is still open');
    const fn = await signature(tx, v.schema, v.quarantineName);
    if (!fn) return keep('kept: the quarantined function is not in the database');

    const snapshot = await takeDropSnapshot(tx, v.id, fn.oid);
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
      reason: 'cleanup: quarantine stayed silent and every check passed',
      before: { name: v.quarantineName, ...snapshot },
      after: { status: 'dropped', checks: row.checks.map((c) => ({ check: c.name, verdict: c.verdict })) },
    });
    return { physicalName: v.physicalName, schema: v.schema, outcome: 'dropped' as const, detail: `dropped ${fn.sig}; restore with procver restore ${v.schema}.${v.physicalName}` };
  });
}

/** Plan and (optionally) apply in one call: what the CLI and the dashboard run. An applied run is audited. */
export type CleanupProgress = (step: 'apply' | 'retire', done: number, total: number) => void;

export async function runCleanup(
  db: Db,
  targets: InstanceTarget[],
  config: CleanupConfig,
  opts: { apply: boolean; actor: string; onProgress?: CleanupProgress },
) {
  const plan = await planCleanup(db, targets, config);
  if (!opts.apply) return { plan, results: [] as ApplyResult[], retired: [] as Awaited<ReturnType<typeof applyRetention>> };
  const results = await applyCleanup(db, plan, opts.actor, targets, (done, total) => opts.onProgress?.('apply', done, total));
  // Retired now, so their quiet window starts now: a later run drops them once every check holds.
  const retired = config.retention
    ? await applyRetention(db, plan.retire, config.retention, opts.actor, (done, total) => opts.onProgress?.('retire', done, total))
    : [];
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
        kept: plan.rows.length - count('quarantined') - count('dropped'),
        retiredByPolicy: retired.filter((r) => r.outcome === 'retired').length,
      },
    }),
  );
  return { plan, results, retired };
}
