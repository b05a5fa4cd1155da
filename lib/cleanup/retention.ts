import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { readEnv, type Env } from '../config';
import { evidenceFor } from '../usage/evidence';
import type { InstanceTarget } from '../usage/readInstance';
import { retireVersion } from '../versions';
import { formatDuration, parseDuration } from '../durations';

/**
 * The retention policy retires what nobody would miss, so that cleanup can later drop it after the
 * quiet window and every check. It never drops anything itself, and retiring is reversible.
 * Off unless PROCVER_RETENTION_AFTER is set.
 */
export interface RetentionPolicy {
  /** the newest N versions of every procedure are always kept live */
  keepNewest: number;
  /** pushed longer ago than this, and not called on any instance for this long */
  unusedForMs: number;
}

export function retentionPolicy(env: Env = readEnv()): RetentionPolicy | null {
  const after = env.PROCVER_RETENTION_AFTER;
  if (after === undefined) return null;
  return { keepNewest: env.PROCVER_RETENTION_KEEP ?? 3, unusedForMs: parseDuration(after, 'PROCVER_RETENTION_AFTER') };
}

export function describePolicy(p: RetentionPolicy): string {
  const d = formatDuration(p.unusedForMs);
  return `keep the newest ${p.keepNewest} version(s) of each procedure; retire older ones pushed over ${d} ago, not called on any instance for ${d}, and not referenced by a live, pending or previous deployment, a binding or an entry point`;
}

export interface RetentionCandidate {
  versionId: number;
  schema: string;
  physicalName: string;
  procedure: string;
  revision: number;
  reasons: string[];
}

/**
 * Live versions the policy would retire. Whether a version is unused for the period is the evidence
 * module's decision (the same as the dashboard's and the cleanup plan's): only "silent" counts, so
 * anything unknown (an inlinable SQL function, a gap, reset or restart, an instance unread, stale,
 * removed or read for less than the period, drift) or called (failing callers, a tripwire) keeps it live.
 */
export async function retentionCandidates(db: Db, policy: RetentionPolicy, targets: InstanceTarget[], now: Date, readAfter: Date): Promise<RetentionCandidate[]> {
  const seconds = policy.unusedForMs / 1000;
  if (targets.length === 0) return [];
  const r = await db.execute<{ id: number; schema: string; physical_name: string; procedure: string; revision: number; rank: number; created_at: string }>(sql`
    WITH ranked AS (
      SELECT v.id, row_number() OVER (PARTITION BY v.procedure_id ORDER BY v.created_at DESC, v.id DESC)::int AS rank
      FROM procver.versions v WHERE v.status <> 'dropped')
    SELECT v.id, v.schema, v.physical_name, v.revision, ranked.rank, v.created_at::text,
           p.schema || '.' || p.name || '(' || p.args || ')' AS procedure
    FROM procver.versions v
    JOIN ranked ON ranked.id = v.id
    JOIN procver.procedures p ON p.id = v.procedure_id
    WHERE v.status = 'live'
      AND ranked.rank > ${policy.keepNewest}
      AND v.created_at < ${now.toISOString()}::timestamptz - make_interval(secs => ${seconds})
      AND NOT EXISTS (
        SELECT 1 FROM procver.deployment_versions dv JOIN procver.deployments d ON d.id = dv.deployment_id
        WHERE dv.version_id = v.id AND d.status <> 'archived')
      -- A trigger, aggregate … (binding) or an entry point pointing at it is a reference like a deployment.
      AND NOT EXISTS (SELECT 1 FROM procver.binding_versions bv WHERE bv.version_id = v.id)
      AND NOT EXISTS (SELECT 1 FROM procver.entry_points ep WHERE ep.version_id = v.id)
    ORDER BY p.schema, p.name, p.args, v.created_at`);
  const evidence = await evidenceFor(
    db,
    r.rows.map((x) => Number(x.id)),
    { from: new Date(now.getTime() - policy.unusedForMs), now, targets, readAfter },
  );
  const d = formatDuration(policy.unusedForMs);
  return r.rows
    .filter((x) => evidence.get(Number(x.id))?.verdict === 'silent')
    .map((x) => ({
      versionId: Number(x.id),
      schema: x.schema,
      physicalName: x.physical_name,
      procedure: x.procedure,
      revision: x.revision,
      reasons: [
        `version ${x.rank} by age of ${x.procedure} (the newest ${policy.keepNewest} are kept)`,
        `pushed ${x.created_at.slice(0, 16)} UTC, over ${d} ago`,
        `no call on any instance for ${d} (every configured instance read throughout)`,
        'no live, pending or previous deployment references it',
      ],
    }));
}

/**
 * Retires the candidates, each in its own transaction with its audit entry (the usual retire path:
 * it re-checks the version and refuses one a live or pending deployment references). A version that
 * changed since the list was made is skipped.
 */
export async function applyRetention(
  db: Db,
  candidates: RetentionCandidate[],
  policy: RetentionPolicy,
  actor: string,
  onProgress?: (done: number, total: number) => void,
) {
  const results: { schema: string; physicalName: string; outcome: 'retired' | 'kept'; detail: string }[] = [];
  for (const c of candidates) {
    try {
      await retireVersion(db, {
        name: `${c.schema}.${c.physicalName}`,
        reason: `retention policy: ${describePolicy(policy)}`,
        actor,
        expectedRevision: c.revision,
      });
      results.push({ schema: c.schema, physicalName: c.physicalName, outcome: 'retired', detail: 'retired by the retention policy' });
    } catch (e) {
      results.push({ schema: c.schema, physicalName: c.physicalName, outcome: 'kept', detail: `kept: ${(e as Error).message}` });
    }
    onProgress?.(results.length, candidates.length);
  }
  return results;
}
