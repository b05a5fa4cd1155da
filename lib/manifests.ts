import { sql } from 'drizzle-orm';
import { manifestSchema, type Manifest } from './compile/manifest';
import type { Db, Tx } from './db/client';
import { describeDrift, findDrift } from './drift';
import { ProcverError } from './errors';
import { QUARANTINE_EXPLAINED } from './cleanup/tripwire';

/** Validates a manifest from any source (file, request body); `label` names it in errors. */
export function parseManifest(raw: unknown, label: string): Manifest {
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ProcverError(
      'invalid_input',
      `${label} is not a procver manifest`,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return parsed.data;
}

export type ManifestProblem = 'missing' | 'name_mismatch' | 'hash_mismatch' | 'retired' | 'quarantined' | 'dropped' | 'absent_from_database' | 'drifted';

export interface ResolvedEntry {
  label: string;
  physicalName: string;
  versionId: number | null;
  problem: ManifestProblem | null;
  message: string;
}

/** Looks up every manifest entry in the registry and in pg_proc, and checks them for drift. */
export async function resolveManifest(db: Db | Tx, manifest: Manifest): Promise<ResolvedEntry[]> {
  const entries = manifest.procedures;
  if (entries.length === 0) return [];
  const rows = await db.execute<{
    ord: number;
    version_id: number | null;
    hash: string | null;
    status: string | null;
    quarantine_name: string | null;
    registered_as: string | null;
    present: boolean;
  }>(sql`
    SELECT m.ord::int AS ord, v.id AS version_id, v.hash, v.status::text AS status, v.quarantine_name,
      CASE WHEN v.id IS NOT NULL THEN format('%s.%s(%s)', p.schema, p.name, p.args) END AS registered_as,
      EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = m.schema AND p.proname = m.physical_name) AS present
    FROM unnest(${sql.param(entries.map((e) => e.schema))}::text[], ${sql.param(entries.map((e) => e.physicalName))}::text[])
      WITH ORDINALITY AS m(schema, physical_name, ord)
    LEFT JOIN procver.versions v ON v.schema = m.schema AND v.physical_name = m.physical_name
    LEFT JOIN procver.procedures p ON p.id = v.procedure_id
    ORDER BY m.ord`);
  const drift = await findDrift(db, { versionIds: rows.rows.flatMap((r) => (r.version_id === null ? [] : [Number(r.version_id)])) });
  return rows.rows.map((r) => {
    const e = entries[r.ord - 1]!;
    const label = `${e.schema}.${e.name}(${e.args})`;
    const name = `${e.schema}.${e.physicalName}`;
    const restore = `\`procver restore ${name} --reason <why>\``;
    const base = { label, physicalName: e.physicalName, versionId: r.version_id === null ? null : Number(r.version_id) };
    const problem = (p: ManifestProblem, message: string) => ({ ...base, problem: p, message });
    if (r.version_id === null) return problem('missing', `${e.physicalName} was never pushed; run \`procver push\``);
    // Each logical name the build will call must be the procedure the registry has that version for.
    if (r.registered_as !== label) return problem('name_mismatch', `${e.physicalName} is ${r.registered_as} in the registry, not ${label}`);
    if (r.hash !== e.hash) return problem('hash_mismatch', `${e.physicalName} is registered with a different hash`);
    if (r.status === 'dropped') {
      return problem('dropped', `${e.physicalName} was dropped by cleanup; bring it back exactly with ${restore} (or push its source again)`);
    }
    if (r.quarantine_name !== null) {
      return problem(
        'quarantined',
        `${e.physicalName} is retired and in cleanup's quarantine: ${QUARANTINE_EXPLAINED}; it is now named ${r.quarantine_name}; restore it with ${restore}`,
      );
    }
    if (!r.present) {
      return problem(
        'absent_from_database',
        `${e.physicalName} is registered but missing from the database (procver did not remove it); \`procver push\` of its source re-creates it`,
      );
    }
    const d = drift.get(Number(r.version_id));
    if (d) return problem('drifted', `${describeDrift(d)}; put procver's code back, or ship the change as a new version with \`procver push\``);
    if (r.status === 'retired') return problem('retired', `${e.physicalName} is retired; restore it before deploying: ${restore}`);
    return { ...base, problem: null, message: 'ok' };
  });
}

/** The CI gate: every version a build references exists and is live. */
export async function checkManifest(db: Db, manifest: Manifest): Promise<{ ok: boolean; problems: ResolvedEntry[]; total: number }> {
  const resolved = await resolveManifest(db, manifest);
  const problems = resolved.filter((r) => r.problem !== null);
  return { ok: problems.length === 0, problems, total: resolved.length };
}
