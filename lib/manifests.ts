import { sql } from 'drizzle-orm';
import { manifestSchema, type Manifest } from './compile/manifest';
import type { Db, Tx } from './db/client';
import { ProcverError } from './errors';

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

type ManifestProblem = 'missing' | 'hash_mismatch' | 'retired' | 'dropped' | 'absent_from_database';

export interface ResolvedEntry {
  label: string;
  physicalName: string;
  versionId: number | null;
  problem: ManifestProblem | null;
  message: string;
}

/** Looks up every manifest entry in the registry and in pg_proc, in one query. */
export async function resolveManifest(db: Db | Tx, manifest: Manifest): Promise<ResolvedEntry[]> {
  const entries = manifest.procedures;
  if (entries.length === 0) return [];
  const rows = await db.execute<{
    ord: number;
    version_id: number | null;
    hash: string | null;
    status: string | null;
    present: boolean;
  }>(sql`
    SELECT m.ord::int AS ord, v.id AS version_id, v.hash, v.status::text AS status,
      EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = m.schema AND p.proname = m.physical_name) AS present
    FROM unnest(${sql.param(entries.map((e) => e.schema))}::text[], ${sql.param(entries.map((e) => e.physicalName))}::text[])
      WITH ORDINALITY AS m(schema, physical_name, ord)
    LEFT JOIN procver.versions v ON v.schema = m.schema AND v.physical_name = m.physical_name
    ORDER BY m.ord`);
  return rows.rows.map((r) => {
    const e = entries[r.ord - 1]!;
    const label = `${e.schema}.${e.name}(${e.args})`;
    const base = { label, physicalName: e.physicalName, versionId: r.version_id === null ? null : Number(r.version_id) };
    if (r.version_id === null) return { ...base, problem: 'missing' as const, message: `${e.physicalName} was never pushed; run \`procver push\`` };
    if (r.hash !== e.hash) return { ...base, problem: 'hash_mismatch' as const, message: `${e.physicalName} is registered with a different hash` };
    if (r.status === 'dropped') return { ...base, problem: 'dropped' as const, message: `${e.physicalName} was dropped by cleanup; restore it` };
    if (!r.present) return { ...base, problem: 'absent_from_database' as const, message: `${e.physicalName} is registered but missing from the database; push again to re-create it` };
    if (r.status === 'retired') return { ...base, problem: 'retired' as const, message: `${e.physicalName} is retired; restore it before deploying` };
    return { ...base, problem: null, message: 'ok' };
  });
}

/** The CI gate: every version a build references exists and is live. */
export async function checkManifest(db: Db, manifest: Manifest): Promise<{ ok: boolean; problems: ResolvedEntry[]; total: number }> {
  const resolved = await resolveManifest(db, manifest);
  const problems = resolved.filter((r) => r.problem !== null);
  return { ok: problems.length === 0, problems, total: resolved.length };
}
