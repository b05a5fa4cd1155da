import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client';
import { ProcverError } from '../errors';
import { qualifiedName, quoteIdent } from '../identifiers';

/**
 * The quarantine tripwire. A quarantined version is renamed (`…__quarantined`), and a PL/pgSQL
 * function takes its old name: PostgreSQL counts its calls (track_functions 'pl' or 'all', and a
 * PL/pgSQL function is never inlined), so a caller procver missed is *seen* during the quarantine.
 * It forwards each call to the renamed version, so that caller also keeps working: when in doubt,
 * keep (no outage for a caller we missed). Shapes a forwarder cannot serve (trigger functions,
 * `SETOF record` without OUT parameters, pseudo-type results) get a tripwire that raises instead;
 * PostgreSQL still shows it in pg_stat_user_functions after a failed call (calls = 0), so it is seen
 * all the same.
 *
 * The tripwire is created in the quarantine's transaction, dropped in the drop's and in the
 * restore's, and its comment marks it so that nothing else under the old name is ever taken for it.
 */
export const TRIPWIRE_MARK = 'procver quarantine tripwire';

/**
 * What a quarantined version is, in the words every message uses: calls to it do not fail (most
 * shapes are forwarded), but it runs behind a stand-in and is on its way to being dropped.
 */
export const QUARANTINE_EXPLAINED =
  'renamed by cleanup, and until its drop a tripwire stands in under its name, counting each call and forwarding it (or, for a trigger or pseudo-type function it cannot forward, refusing it)';

type Shape = {
  kind: string;
  retset: boolean;
  volatile: string;
  parallel: string;
  cost: number;
  rows: number;
  nargs: number;
  variadic: boolean;
  args: string;
  result: string | null;
  rettype: string;
  modes: string[] | null;
  owner: string;
  acl: string | null;
  grants: { grantee: string | null; grantable: boolean }[] | null;
};

const dollarQuote = (body: string) => {
  let tag = 'tripwire';
  while (body.includes(`$${tag}$`)) tag += '_';
  return `$${tag}$${body}$${tag}$`;
};

/** The columns of `Shape`, for a pg_proc row `p`. */
const SHAPE = sql`
  p.prokind::text AS kind, p.proretset AS retset, p.provolatile::text AS volatile, p.proparallel::text AS parallel,
  p.procost::float8 AS cost, p.prorows::float8 AS rows, p.pronargs::int AS nargs, p.provariadic <> 0 AS variadic,
  pg_get_function_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS result, p.prorettype::regtype::text AS rettype,
  p.proargmodes::text[] AS modes, pg_get_userbyid(p.proowner) AS owner, p.proacl::text AS acl,
  (SELECT json_agg(json_build_object('grantee', CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END,
                                     'grantable', a.is_grantable))
   FROM aclexplode(p.proacl) a WHERE a.grantee <> p.proowner) AS grants`;

/**
 * Whether the tripwire a quarantine would put under each name (`schema.name`, the version not yet
 * quarantined) could forward calls, or would have to refuse them: the same decision createTripwire
 * makes. A name with no function, or several, under it is left out (unknown).
 */
export async function tripwireWouldForward(db: Db | Tx, names: { schema: string; name: string }[]): Promise<Map<string, boolean>> {
  if (names.length === 0) return new Map();
  const r = await db.execute<Shape & { key: string; n: number }>(sql`
    SELECT n.nspname || '.' || p.proname AS key, count(*) OVER (PARTITION BY p.pronamespace, p.proname)::int AS n, ${SHAPE}
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    JOIN unnest(${sql.param(names.map((x) => x.schema))}::text[], ${sql.param(names.map((x) => x.name))}::text[]) AS o(schema, name)
      ON o.schema = n.nspname AND o.name = p.proname`);
  return new Map(r.rows.filter((s) => s.n === 1).map((s) => [s.key, forwardingBody(s, 'x') !== null]));
}

/** What the forwarder's body runs, or null when it can only raise. */
function forwardingBody(s: Shape, target: string): string | null {
  const modes = s.modes ?? Array.from({ length: s.nargs }, () => 'i');
  const arg = (i: number) => `${s.variadic && modes[i] === 'v' ? 'VARIADIC ' : ''}$${i + 1}`;
  if (s.kind === 'p') return `CALL ${target}(${modes.map((_, i) => arg(i)).join(', ')});`;
  const ins = modes.flatMap((m, i) => (m === 'i' || m === 'b' || m === 'v' ? [arg(i)] : [])).join(', ');
  const outs = modes.flatMap((m, i) => (m === 'o' || m === 'b' || m === 't' ? [`$${i + 1}`] : []));
  const pseudo = ['trigger', 'event_trigger', 'internal', 'language_handler', 'fdw_handler', 'table_am_handler', 'index_am_handler', 'tsm_handler', 'cstring'];
  if (pseudo.includes(s.rettype)) return null;
  if (s.retset) return s.rettype === 'record' && outs.length === 0 ? null : `RETURN QUERY SELECT * FROM ${target}(${ins});`;
  if (outs.length > 0) return `SELECT * FROM ${target}(${ins}) INTO ${outs.join(', ')};`;
  if (s.rettype === 'void') return `PERFORM ${target}(${ins});`;
  return `RETURN ${target}(${ins});`;
}

/**
 * Creates the tripwire under `schema.physicalName` for the version now named `schema.quarantineName`
 * (same arguments, defaults and result; owner and privileges copied). Returns whether it forwards.
 */
export async function createTripwire(tx: Tx, schema: string, physicalName: string, quarantineName: string, quarantinedOid: number): Promise<{ forwards: boolean }> {
  const r = await tx.execute<Shape>(sql`SELECT ${SHAPE} FROM pg_proc p WHERE p.oid = ${quarantinedOid}::oid`);
  const s = r.rows[0];
  if (!s) throw new ProcverError('conflict', `${schema}.${quarantineName} is not in the database`);
  const target = qualifiedName(schema, quarantineName);
  const forward = forwardingBody(s, target);
  const body = `BEGIN\n  ${
    forward ?? `RAISE EXCEPTION 'procver: %.% is quarantined (retired, about to be dropped); restore it with procver restore', ${lit(schema)}, ${lit(physicalName)};`
  }\n${s.kind === 'p' || forward?.startsWith('PERFORM') || forward?.startsWith('SELECT') ? '  RETURN;\n' : ''}END`;
  const name = qualifiedName(schema, physicalName);
  // Never STRICT: a strict function is not even entered for NULL arguments, so such calls would
  // not be counted; the renamed version still applies its own strictness.
  const attributes =
    s.kind === 'p'
      ? ''
      : ` ${{ i: 'IMMUTABLE', s: 'STABLE', v: 'VOLATILE' }[s.volatile]} CALLED ON NULL INPUT PARALLEL ${{ s: 'SAFE', r: 'RESTRICTED', u: 'UNSAFE' }[s.parallel]} COST ${s.cost}${s.retset ? ` ROWS ${s.rows}` : ''}`;
  const header = s.kind === 'p' ? `CREATE PROCEDURE ${name}(${s.args})` : `CREATE FUNCTION ${name}(${s.args}) RETURNS ${s.result}`;
  await tx.execute(sql.raw(`${header} LANGUAGE plpgsql${attributes} SECURITY INVOKER AS ${dollarQuote(body)}`));
  const created = await tx.execute<{ sig: string }>(sql`
    SELECT p.oid::regprocedure::text AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ${schema} AND p.proname = ${physicalName}`);
  const sig = created.rows[0]!.sig;
  await tx.execute(sql.raw(`ALTER ROUTINE ${sig} OWNER TO ${quoteIdent(s.owner)}`));
  // Whoever may call the version may call its tripwire (and nobody else).
  if (s.acl !== null) {
    await tx.execute(sql.raw(`REVOKE ALL ON ROUTINE ${sig} FROM PUBLIC`));
    for (const g of s.grants ?? []) {
      await tx.execute(sql.raw(`GRANT EXECUTE ON ROUTINE ${sig} TO ${g.grantee === null ? 'PUBLIC' : quoteIdent(g.grantee)}`));
    }
  }
  await tx.execute(
    sql.raw(
      `COMMENT ON ROUTINE ${sig} IS ${lit(`${TRIPWIRE_MARK} for ${schema}.${physicalName}: ${forward ? 'forwards to' : 'raises; the code is in'} ${schema}.${quarantineName}`)}`,
    ),
  );
  return { forwards: forward !== null };
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Every function under `schema.physicalName` (a tripwire's name) and whether it is marked as one. */
async function underOldName(tx: Tx, schema: string, physicalName: string) {
  const r = await tx.execute<{ sig: string; comment: string | null }>(sql`
    SELECT p.oid::regprocedure::text AS sig, obj_description(p.oid, 'pg_proc') AS comment
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ${schema} AND p.proname = ${physicalName}`);
  return r.rows.map((f) => ({ ...f, tripwire: f.comment?.startsWith(TRIPWIRE_MARK) === true }));
}

/**
 * Which of these old names (`schema.physicalName`) have procver's tripwire, and nothing else, under
 * them. A quarantine is evidence only while its tripwire stands there to see the calls.
 */
export async function standingTripwires(db: Db | Tx, names: { schema: string; physicalName: string }[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const r = await db.execute<{ schema: string; name: string }>(sql`
    SELECT n.nspname AS schema, p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    JOIN unnest(${sql.param(names.map((x) => x.schema))}::text[], ${sql.param(names.map((x) => x.physicalName))}::text[]) AS o(schema, name)
      ON o.schema = n.nspname AND o.name = p.proname
    GROUP BY 1, 2 HAVING count(*) = 1 AND bool_and(coalesce(obj_description(p.oid, 'pg_proc'), '') LIKE ${`${TRIPWIRE_MARK}%`})`);
  return new Set(r.rows.map((x) => `${x.schema}.${x.name}`));
}

/** Drops the tripwire under `schema.physicalName`, if there is one; anything else under that name is an error. */
export async function dropTripwire(tx: Tx, schema: string, physicalName: string): Promise<void> {
  for (const f of await underOldName(tx, schema, physicalName)) {
    if (!f.tripwire) {
      throw new ProcverError('conflict', `${f.sig} is in the database under the quarantined version's name and is not procver's tripwire; rename or drop it first`);
    }
    await tx.execute(sql.raw(`DROP ROUTINE ${f.sig}`));
  }
}
