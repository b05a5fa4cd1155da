import { sql } from 'drizzle-orm';
import { pushBindings, type BindingsPushed } from './bindings';
import type { CompiledVersion, CompileResult } from './compile/compile';
import type { GrantPolicy } from './config';
import type { Tx } from './db/client';
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
  const properties = await pushProperties(tx, compiled.versions, created, s.properties, opts.grants, opts.actor);
  const entryPoints = await pushEntryPoints(tx, compiled.versions, s.entryPoints, s.properties, opts.grants, ids, opts.actor);
  const bindings = await pushBindings(tx, s.bindings, ids, opts.actor);
  return { properties, bindings, entryPoints };
}
