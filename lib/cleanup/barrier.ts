import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client';

/**
 * A quarantine's barriers: the moments after which no transaction can still have resolved the
 * version's old name to the version itself. On the primary, `quarantine_barrier_at` (its clock,
 * recorded right after the rename committed) with `quarantine_barrier_lsn` (its WAL position then);
 * on each replica, `replica_barriers` (that replica's clock, the first reading that found it had
 * replayed that far). None is a change of the version's state (no audit entry): a later barrier only
 * makes the drop wait longer. Every path that starts or ends a quarantine clears them here.
 */

/** No barrier recorded: how a quarantine starts (the next step records them). */
export const NO_BARRIER = { quarantineBarrierAt: null, quarantineBarrierLsn: null } as const;

/** The registry's quarantine columns of a version that is not (or no longer) quarantined. */
export const NOT_QUARANTINED = { quarantineName: null, quarantinedAt: null, ...NO_BARRIER } as const;

/** Forgets the replicas' barriers of these versions: with the columns above, in the same transaction. */
export async function forgetReplicaBarriers(tx: Tx, versionIds: number[]): Promise<void> {
  if (versionIds.length === 0) return;
  await tx.execute(sql`DELETE FROM procver.replica_barriers WHERE version_id = ANY(${sql.param(versionIds)}::bigint[])`);
}

/**
 * Records the barrier of every quarantined version that lacks one (or only this version's), after
 * the quarantine committed: any transaction that started before it may still hold the old name's
 * plan (calling the version itself, its calls unpublished until it ends), so the drop waits for all
 * of them to end. clock_timestamp() is read after this statement's snapshot, which already sees the
 * quarantine committed, so it is never earlier than the commit. The WAL position is the insert
 * position, not pg_current_wal_lsn() (the write position): with synchronous_commit off a commit is
 * visible before its record is written, and the insert position is past it even then. A version
 * quarantined before the WAL position was kept gets one now (later: more cautious).
 */
export async function recordQuarantineBarriers(db: Db | Tx, versionId?: number): Promise<void> {
  await db.execute(sql`
    UPDATE procver.versions
    SET quarantine_barrier_at = coalesce(quarantine_barrier_at, clock_timestamp()),
        quarantine_barrier_lsn = coalesce(quarantine_barrier_lsn, pg_current_wal_insert_lsn())
    WHERE status = 'retired' AND quarantine_name IS NOT NULL AND (quarantine_barrier_at IS NULL OR quarantine_barrier_lsn IS NULL)
      ${versionId === undefined ? sql`` : sql`AND id = ${versionId}`}`);
}

/**
 * A reading of a replica found it had replayed up to `replayLsn` by `readAt` (its own clock, read
 * after the position): every quarantine whose WAL position it has reached was applied there by
 * then. The earliest such reading is kept (each is a moment no earlier than the real one).
 */
export async function recordReplicaReplay(tx: Tx, instanceId: number, replayLsn: string, readAt: Date): Promise<void> {
  await tx.execute(sql`
    INSERT INTO procver.replica_barriers AS b (version_id, instance_id, replayed_at)
    SELECT id, ${instanceId}, ${readAt.toISOString()}::timestamptz FROM procver.versions
    WHERE status = 'retired' AND quarantine_name IS NOT NULL AND quarantine_barrier_lsn <= ${replayLsn}::pg_lsn
      AND NOT EXISTS (SELECT 1 FROM procver.replica_barriers x WHERE x.version_id = versions.id AND x.instance_id = ${instanceId})
    ON CONFLICT (version_id, instance_id) DO UPDATE SET replayed_at = least(b.replayed_at, excluded.replayed_at)`);
}

/** Each version's replica barriers: instance label → when that replica had applied the rename. */
export async function replicaBarriersOf(db: Db | Tx, versionIds: number[]): Promise<Map<number, Record<string, string>>> {
  const out = new Map<number, Record<string, string>>();
  if (versionIds.length === 0) return out;
  const r = await db.execute<{ version_id: number; label: string; replayed_at: string }>(sql`
    SELECT b.version_id, i.label, b.replayed_at::text AS replayed_at FROM procver.replica_barriers b
    JOIN procver.instances i ON i.id = b.instance_id WHERE b.version_id = ANY(${sql.param(versionIds)}::bigint[])`);
  for (const row of r.rows) {
    const id = Number(row.version_id);
    out.set(id, { ...out.get(id), [row.label]: row.replayed_at });
  }
  return out;
}

/** A pg_lsn's text (`16/B374D848`) as a byte position. */
export function lsnBytes(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}
