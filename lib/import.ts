import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { quoteIdent } from './compile/parser';
import { type FiringState, firingStateSql, quoteLiteral } from './compile/statements';
import { ProcverError } from './errors';

/**
 * `procver import`: the sources procver compiles, read from an existing database. Definitions
 * come as pg_get_functiondef gives them; next to each, its owner, grants and comment; then the
 * triggers, event triggers, aggregates, operators and policies that call them (bindings). Left
 * out: extension members, procver's own schema, versions procver already manages, and everything
 * that is not a function (tables, views, defaults: the migration tool's).
 */
export interface ImportOptions {
  /** schemas to read (default: every schema but the system ones and procver) */
  schemas?: string[];
}

export interface ImportResult {
  /** file name (one per schema) -> SQL */
  files: Map<string, string>;
  functions: number;
  bindings: number;
  /** aggregates and operators left out because they call no imported function */
  leftOut: string[];
}

type Row = Record<string, unknown>;

interface ImportedFunction extends Row {
  oid: number;
  schema: string;
  signature: string;
  definition: string;
  owner: string;
  is_current_user: boolean;
  secdef: boolean;
  comment: string | null;
  public_execute: boolean;
  has_acl: boolean;
  grants: { grantee: string; grantable: boolean }[] | null;
}

/** Reads the database in one read-only transaction with search_path = pg_catalog, so every name outside it comes qualified. */
export async function importDatabase(pool: pg.Pool, options: ImportOptions = {}): Promise<ImportResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query("SET LOCAL search_path = 'pg_catalog'");
    const schemas = options.schemas ?? null;
    if (schemas) {
      const found = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[])', [schemas]);
      const missing = schemas.filter((s) => !found.rows.some((r) => r.nspname === s));
      if (missing.length > 0) throw new ProcverError('invalid_input', `--schema: no such schema in the database: ${missing.join(', ')}`);
    }
    const registry = (await client.query<{ present: boolean }>("SELECT to_regclass('procver.versions') IS NOT NULL AS present")).rows[0]!.present;
    const functions = (
      await client.query<ImportedFunction>(
        `SELECT p.oid::int AS oid, n.nspname AS schema,
                format('%s.%s(%s)', quote_ident(n.nspname), quote_ident(p.proname), oidvectortypes(p.proargtypes)) AS signature,
                pg_get_functiondef(p.oid) AS definition, pg_get_userbyid(p.proowner) AS owner, p.proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) AS is_current_user,
                p.prosecdef AS secdef, obj_description(p.oid, 'pg_proc') AS comment, p.proacl IS NOT NULL AS has_acl,
                EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0) AS public_execute,
                (SELECT json_agg(json_build_object('grantee', pg_get_userbyid(a.grantee), 'grantable', a.is_grantable) ORDER BY pg_get_userbyid(a.grantee))
                 FROM aclexplode(p.proacl) a WHERE a.grantee <> 0 AND a.grantee <> p.proowner) AS grants
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE p.prokind IN ('f', 'p') AND ${SCHEMA_FILTER}
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
           ${registry ? 'AND NOT EXISTS (SELECT 1 FROM procver.versions v WHERE v.schema = n.nspname AND p.proname IN (v.physical_name, v.quarantine_name))' : ''}
         ORDER BY n.nspname, p.proname, 3`,
        [schemas],
      )
    ).rows;
    const oids = functions.map((f) => f.oid);
    const bindings = await readBindings(client, oids, schemas);
    await client.query('COMMIT');

    const bySchema = new Map<string, string[]>();
    const add = (schema: string, text: string) => bySchema.set(schema, [...(bySchema.get(schema) ?? []), text]);
    for (const f of functions) add(f.schema, definitionWithProperties(f));
    for (const b of bindings.statements) add(b.schema, `${b.sql};\n`);
    const files = new Map<string, string>();
    for (const [schema, parts] of bySchema) {
      files.set(
        `${schema}.sql`,
        `-- imported by procver from schema ${schema}: functions as pg_get_functiondef gives them,\n-- their owner, grants and comment, and the bindings that call them.\n\n${parts.join('\n')}`,
      );
    }
    return { files, functions: functions.length, bindings: bindings.statements.length, leftOut: bindings.leftOut };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

const SCHEMA_FILTER = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'procver') AND n.nspname NOT LIKE 'pg\\_%'
  AND ($1::text[] IS NULL OR n.nspname = ANY($1::text[]))`;

function definitionWithProperties(f: ImportedFunction): string {
  const lines = [`${f.definition.trimEnd()};`];
  if (!f.is_current_user) lines.push(`ALTER ROUTINE ${f.signature} OWNER TO ${quoteIdent(f.owner)};`);
  if (f.has_acl && !f.public_execute) lines.push(`REVOKE ALL ON ROUTINE ${f.signature} FROM PUBLIC;`);
  if (f.secdef && f.public_execute) {
    // procver takes PUBLIC's EXECUTE from new SECURITY DEFINER versions; the database grants it.
    lines.push('-- SECURITY DEFINER and callable by everyone, as in the database: remove this line to restrict it', `GRANT EXECUTE ON ROUTINE ${f.signature} TO PUBLIC;`);
  }
  for (const g of f.grants ?? []) lines.push(`GRANT EXECUTE ON ROUTINE ${f.signature} TO ${quoteIdent(g.grantee)}${g.grantable ? ' WITH GRANT OPTION' : ''};`);
  if (f.comment !== null) lines.push(`COMMENT ON ROUTINE ${f.signature} IS ${quoteLiteral(f.comment)};`);
  return `${lines.join('\n')}\n`;
}

interface BindingStatement {
  schema: string;
  sql: string;
}

/**
 * Triggers, event triggers, aggregates, operators and policies that call one of the imported
 * functions. Triggers a partition got from its parent's are left out: the parent's creates them.
 */
async function readBindings(client: pg.PoolClient, oids: number[], schemas: string[] | null): Promise<{ statements: BindingStatement[]; leftOut: string[] }> {
  const statements: BindingStatement[] = [];
  const leftOut: string[] = [];
  const q = async <T extends Row>(text: string, params: unknown[] = [oids]) => (await client.query<T>(text, params)).rows;

  // A trigger that is not plainly enabled gets its ALTER … TRIGGER right after the CREATE (which enables it).
  const withState = (create: string, trigger: { name: string; on?: string }, state: FiringState) =>
    state === 'O' ? create : `${create};\n${firingStateSql(trigger, state)}`;

  for (const r of await q<{ schema: string; sql: string; name: string; rel: string; state: FiringState }>(
    `SELECT n.nspname AS schema, pg_get_triggerdef(t.oid, false) AS sql, t.tgname AS name,
            quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS rel, t.tgenabled AS state FROM pg_trigger t
     JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND t.tgfoid = ANY($1::oid[]) ORDER BY n.nspname, c.relname, t.tgname`,
  )) {
    statements.push({ schema: r.schema, sql: withState(r.sql, { name: r.name, on: r.rel }, r.state) });
  }

  for (const r of await q<{ schema: string; name: string; event: string; fn: string; tags: string[] | null; state: FiringState }>(
    `SELECT n.nspname AS schema, e.evtname AS name, e.evtevent AS event, e.evtfoid::regproc::text AS fn, e.evttags AS tags, e.evtenabled AS state
     FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE e.evtfoid = ANY($1::oid[]) ORDER BY e.evtname`,
  )) {
    const when = r.tags ? ` WHEN TAG IN (${r.tags.map(quoteLiteral).join(', ')})` : '';
    statements.push({
      schema: r.schema,
      sql: withState(`CREATE EVENT TRIGGER ${quoteIdent(r.name)} ON ${quoteIdent(r.event)}${when} EXECUTE FUNCTION ${r.fn}()`, { name: r.name }, r.state),
    });
  }

  const aggregates = await q<Row & { schema: string; name: string; args: string; calls_imported: boolean; options: string[] }>(
    `SELECT n.nspname AS schema, quote_ident(n.nspname) || '.' || quote_ident(p.proname) AS name, pg_get_function_identity_arguments(p.oid) AS args,
            (a.aggtransfn = ANY($1::oid[]) OR a.aggfinalfn = ANY($1::oid[]) OR a.aggcombinefn = ANY($1::oid[])) AS calls_imported,
            array_remove(ARRAY[
              'SFUNC = ' || a.aggtransfn::regproc::text,
              'STYPE = ' || format_type(a.aggtranstype, NULL),
              CASE WHEN a.aggfinalfn <> 0 THEN 'FINALFUNC = ' || a.aggfinalfn::regproc::text END,
              CASE WHEN a.aggfinalextra THEN 'FINALFUNC_EXTRA' END,
              CASE WHEN a.aggcombinefn <> 0 THEN 'COMBINEFUNC = ' || a.aggcombinefn::regproc::text END,
              CASE WHEN a.aggserialfn <> 0 THEN 'SERIALFUNC = ' || a.aggserialfn::regproc::text END,
              CASE WHEN a.aggdeserialfn <> 0 THEN 'DESERIALFUNC = ' || a.aggdeserialfn::regproc::text END,
              CASE WHEN a.agginitval IS NOT NULL THEN 'INITCOND = ' || quote_literal(a.agginitval) END,
              CASE WHEN a.aggsortop <> 0 THEN 'SORTOP = ' || a.aggsortop::regoperator::text END,
              CASE p.proparallel WHEN 's' THEN 'PARALLEL = SAFE' WHEN 'r' THEN 'PARALLEL = RESTRICTED' END
            ], NULL) AS options
     FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE a.aggkind = 'n' AND ${SCHEMA_FILTER.replaceAll('$1', '$2')}
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
     ORDER BY 2, 3`,
    [oids, schemas],
  );
  for (const a of aggregates) {
    if (!a.calls_imported) {
      leftOut.push(`aggregate ${a.name}(${a.args}): calls no imported function`);
      continue;
    }
    statements.push({ schema: a.schema, sql: `CREATE AGGREGATE ${a.name}(${a.args || '*'}) (\n  ${a.options.join(',\n  ')}\n)` });
  }

  for (const r of await q<{ schema: string; name: string; options: string[] }>(
    `SELECT n.nspname AS schema, quote_ident(n.nspname) || '.' || o.oprname AS name,
            array_remove(ARRAY[
              'FUNCTION = ' || o.oprcode::regproc::text,
              CASE WHEN o.oprleft <> 0 THEN 'LEFTARG = ' || format_type(o.oprleft, NULL) END,
              CASE WHEN o.oprright <> 0 THEN 'RIGHTARG = ' || format_type(o.oprright, NULL) END,
              CASE WHEN o.oprrest <> 0 THEN 'RESTRICT = ' || o.oprrest::regproc::text END,
              CASE WHEN o.oprjoin <> 0 THEN 'JOIN = ' || o.oprjoin::regproc::text END
            ], NULL) AS options
     FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
     WHERE o.oprcode = ANY($1::oid[]) ORDER BY 2`,
  )) {
    statements.push({ schema: r.schema, sql: `CREATE OPERATOR ${r.name} (${r.options.join(', ')})` });
  }

  for (const r of await q<{ schema: string; name: string; rel: string; restrictive: boolean; cmd: string; roles: string[]; qual: string | null; check: string | null }>(
    `SELECT DISTINCT n.nspname AS schema, pol.polname AS name, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS rel, NOT pol.polpermissive AS restrictive,
            CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS cmd,
            ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END FROM unnest(pol.polroles) r) AS roles,
            pg_get_expr(pol.polqual, pol.polrelid) AS qual, pg_get_expr(pol.polwithcheck, pol.polrelid) AS check
     FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_depend d ON d.classid = 'pg_policy'::regclass AND d.objid = pol.oid AND d.refclassid = 'pg_proc'::regclass
     WHERE d.refobjid = ANY($1::oid[]) ORDER BY 1, 3, 2`,
  )) {
    const parts = [`CREATE POLICY ${quoteIdent(r.name)} ON ${r.rel}`];
    if (r.restrictive) parts.push('AS RESTRICTIVE');
    parts.push(`FOR ${r.cmd} TO ${r.roles.join(', ')}`);
    if (r.qual) parts.push(`USING (${r.qual})`);
    if (r.check) parts.push(`WITH CHECK (${r.check})`);
    statements.push({ schema: r.schema, sql: parts.join(' ') });
  }
  return { statements, leftOut };
}

/** Writes the imported sources, one file per schema; refuses to overwrite a file that is there. */
export async function writeImport(result: ImportResult, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of [...result.files].sort(([a], [b]) => a.localeCompare(b))) {
    const path = join(dir, name);
    await writeFile(path, text, { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EEXIST') throw new ProcverError('conflict', `${path} already exists; import into an empty directory`);
      throw e;
    });
    written.push(path);
  }
  return written;
}
