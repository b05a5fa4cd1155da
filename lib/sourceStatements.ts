import { sql } from 'drizzle-orm';
import { pushBindings, type BindingsPushed } from './bindings';
import { QUARANTINE_EXPLAINED } from './cleanup/tripwire';
import type { CompiledVersion, CompileResult } from './compile/compile';
import type { GrantPolicy } from './config';
import type { Tx } from './db/client';
import { ProcverError } from './errors';
import { pushEntryPoints, type EntryPointsPushed } from './entryPoints';
import { pushProperties, type PropertiesPushed } from './properties';

export interface StatementsPushed {
  properties: PropertiesPushed;
  bindings: BindingsPushed;
  entryPoints: EntryPointsPushed;
}

/**
 * The push step after the versions exist: properties on new versions (and on every version when
 * they changed), entry points re-pointed, bindings moved. Same transaction as the versions.
 */
export async function pushSourceStatements(
  tx: Tx,
  compiled: CompileResult,
  created: CompiledVersion[],
  opts: { actor: string; grants: GrantPolicy },
): Promise<StatementsPushed> {
  const s = compiled.statements;
  const needIds = s.bindings.length > 0 || s.entryPoints.length > 0;
  const ids = new Map<string, number>();
  if (needIds) {
    const r = await tx.execute<{ key: string; id: number }>(sql`
      SELECT v.schema || '.' || v.physical_name AS key, v.id FROM procver.versions v
      JOIN unnest(${sql.param(compiled.versions.map((v) => v.schema))}::text[], ${sql.param(compiled.versions.map((v) => v.physicalName))}::text[]) AS w(schema, name)
        ON w.schema = v.schema AND w.name = v.physical_name`);
    for (const row of r.rows) ids.set(row.key, Number(row.id));
  }
  await refuseQuarantinedTargets(tx, compiled);
  const properties = await pushProperties(tx, compiled.versions, created, s.properties, opts.grants, opts.actor);
  const entryPoints = await pushEntryPoints(tx, compiled.versions, s.entryPoints, s.properties, opts.grants, ids, opts.actor);
  const bindings = await pushBindings(tx, s.bindings, ids, opts.actor);
  return { properties, bindings, entryPoints };
}

/**
 * A binding or entry point must never be pointed at a version cleanup has quarantined: under its
 * name stands only the tripwire (a trigger would then call the tripwire, which refuses trigger
 * calls, and the binding's dependency would block the drop and the release). Bring it back first.
 */
async function refuseQuarantinedTargets(tx: Tx, compiled: CompileResult): Promise<void> {
  const s = compiled.statements;
  const byKey = new Map(compiled.versions.map((v) => [`${v.schema}.${v.name}(${v.args})`, `${v.schema}.${v.physicalName}`]));
  const targets = new Map<string, string>();
  for (const b of s.bindings) for (const v of b.versions) targets.set(v, b.identity);
  for (const e of s.entryPoints) {
    const v = byKey.get(e);
    if (v) targets.set(v, `the entry point ${e}`);
  }
  if (targets.size === 0) return;
  const r = await tx.execute<{ key: string }>(sql`
    SELECT v.schema || '.' || v.physical_name AS key FROM procver.versions v
    WHERE v.quarantine_name IS NOT NULL AND v.schema || '.' || v.physical_name = ANY(${sql.param([...targets.keys()])}::text[])
    ORDER BY 1`);
  if (r.rows.length === 0) return;
  throw new ProcverError(
    'conflict',
    `push refused: the sources point ${r.rows.length} binding(s) or entry point(s) at versions cleanup has quarantined (${QUARANTINE_EXPLAINED}); restore them first, nothing was pushed`,
    r.rows.map((x) => `${targets.get(x.key)} → ${x.key}: procver restore ${x.key} --reason <why>`),
  );
}
