import { qualifiedName, quoteIdent } from '../parser';
import type { CompiledVersion } from '../compile';
import type { SqlParam } from './signature';
import { isPseudo } from '../pseudoTypes';
import { compositeColumns, paramEncoding, paramType, resultType, type Catalog } from './typeMap';

/**
 * The typed client in procs.ts: `call['shop.get_customer'](pool, 7)`. Each entry sends its
 * arguments with explicit casts (so overloads resolve as the compiler resolved them), names a
 * scalar result after the logical procedure (never the version), and returns the value, the row
 * or the rows. The generated code imports nothing: a frontend has no run-time dependency on procver.
 */

/** 0 nothing, 1 one value, 2 a value per row, 3 one row, 4 rows: how the generated code reads the result. */
type ResultMode = 0 | 1 | 2 | 3 | 4;

interface CallPlan {
  /** SQL before and after the argument list */
  head: string;
  tail: string;
  mode: ResultMode;
  /** TypeScript type the promise resolves to */
  returns: string;
  /** every argument the SQL passes, in declaration order (a procedure's OUT arguments included) */
  args: PlanArg[];
  /** the result column a value is read from: the logical procedure's name */
  column: string | null;
}

interface PlanArg {
  name: string | null;
  cast: string | null;
  /** a procedure's OUT argument: passed as a typed NULL, never by the caller */
  out: boolean;
  variadic: boolean;
  encoding: 0 | 1 | 2;
  tsType: string;
  /** may be left out in a positional call */
  optional: boolean;
  hasDefault: boolean;
}

const TS_RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for function if ' +
    'import in instanceof new null return super switch this throw true try typeof var void while with as implements interface ' +
    'let package private protected public static yield await any boolean number string symbol unknown never object db'
  ).split(' '),
);

/**
 * The cast for an argument (none for a polymorphic one). format_type() prints `character` and `bit` without their length, but a
 * cast to those spellings means length 1 (truncating `character`); the internal names carry no length.
 */
function castFor(type: string | null): string | null {
  if (type === null) return null;
  const element = type.endsWith('[]') ? type.slice(0, -2) : type;
  if (isPseudo(element)) return null; // nothing casts to anyelement & co.: PostgreSQL infers the type
  const internal = element === 'character' ? 'bpchar' : element === 'bit' ? '"bit"' : element;
  return internal + type.slice(element.length);
}

/** `T | null`: SQL values may be NULL (no NOT NULL reaches a function's result or arguments). */
const nullable = (t: string) => (t === 'unknown' ? t : `${t} | null`);
const identifier = (s: string) => /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s);
const propertyKey = (s: string) => (identifier(s) ? s : JSON.stringify(s));

function rowType(columns: { name: string | null; type: string | null }[], catalog: Catalog): string {
  if (columns.some((c) => c.name === null)) return 'Record<string, unknown>'; // PostgreSQL invents names for unnamed OUT arguments
  return `{ ${columns.map((c) => `${propertyKey(c.name!)}: ${nullable(resultType(c.type, catalog))}`).join('; ')} }`;
}

/** How to call one version, or null when it cannot be called from a client (trigger functions). */
export function planCall(v: CompiledVersion, catalog: Catalog): CallPlan | null {
  const { params, returns } = v.signature;
  const target = qualifiedName(v.schema, v.physicalName);
  const procedure = v.kind === 'procedure';
  if (!procedure && (returns?.type === 'trigger' || returns?.type === 'event_trigger')) return null;

  const inputs = (p: SqlParam) => p.mode === 'in' || p.mode === 'inout' || p.mode === 'variadic';
  const passed = params.filter((p) => inputs(p) || (procedure && p.mode === 'out'));
  const args: PlanArg[] = passed.map((p, i) => {
    const out = p.mode === 'out';
    // Positional arguments may be left out only at the end, and never before an OUT argument CALL must pass.
    const optional = !out && passed.slice(i).every((q) => q.mode !== 'out' && q.hasDefault);
    const encoding = paramEncoding(p.type, catalog);
    return {
      name: p.name,
      cast: castFor(p.type),
      out,
      variadic: p.mode === 'variadic',
      encoding: encoding === 'json' ? 1 : encoding === 'json[]' ? 2 : 0,
      tsType: paramType(p.type, catalog),
      optional,
      hasDefault: p.hasDefault,
    };
  });

  const outputs = params.filter((p) => p.mode === 'out' || p.mode === 'inout' || p.mode === 'table');
  const alias = ` AS ${quoteIdent(v.name)}`;
  if (procedure) {
    if (outputs.length === 0) return { head: `CALL ${target}(`, tail: ')', mode: 0, returns: 'void', args, column: null };
    return { head: `CALL ${target}(`, tail: ')', mode: 3, returns: rowType(outputs, catalog), args, column: null };
  }
  const set = returns?.setof === true || params.some((p) => p.mode === 'table');
  if (outputs.length > 1 || params.some((p) => p.mode === 'table')) {
    const row = rowType(outputs, catalog);
    return { head: `SELECT * FROM ${target}(`, tail: ')', mode: set ? 4 : 3, returns: set ? `${row}[]` : row, args, column: null };
  }
  // One OUT argument: PostgreSQL returns its type, as if RETURNS named it.
  const type = outputs.length === 1 ? outputs[0]!.type : (returns?.type ?? null);
  if (type === 'void') return { head: `SELECT ${target}(`, tail: ')', mode: 0, returns: 'void', args, column: null };
  const columns = compositeColumns(type, catalog);
  if (columns) {
    const row = rowType(columns, catalog);
    return { head: `SELECT * FROM ${target}(`, tail: ')', mode: set ? 4 : 3, returns: set ? `${row}[]` : row, args, column: null };
  }
  const value = nullable(type !== null && isPseudo(type) ? 'unknown' : resultType(type, catalog));
  return {
    head: `SELECT ${target}(`,
    tail: `)${alias}`,
    mode: set ? 2 : 1,
    returns: set ? (value === 'unknown' ? 'unknown[]' : `(${value})[]`) : value,
    args,
    column: v.name,
  };
}

function tsParamName(a: PlanArg, i: number, taken: Set<string>): string {
  let n = a.name !== null && identifier(a.name) && !TS_RESERVED.has(a.name) ? a.name : `arg${i + 1}`;
  while (taken.has(n)) n = `${n}_`;
  taken.add(n);
  return n;
}

/** One typed entry: positional call, and `.named` where every argument has a name. */
function renderEntry(constName: string, v: CompiledVersion, plan: CallPlan): string[] {
  const spec = plan.args.map(
    (a) => `[${JSON.stringify(a.name === null ? null : quoteIdent(a.name))}, ${JSON.stringify(a.cast)}, ${a.out ? 1 : 0}, ${a.variadic ? 1 : 0}, ${a.encoding}]`,
  );
  const callerArgs = plan.args.filter((a) => !a.out);
  const taken = new Set<string>();
  const names = callerArgs.map((a, i) => tsParamName(a, i, taken));
  const positional = callerArgs.map((a, i) => `${names[i]}${a.optional ? '?' : ''}: ${nullable(a.tsType)}`);
  const returns = `Promise<${plan.returns}>`;
  const lines = [
    `/** ${`${v.schema}.${v.name}(${v.args}) → ${qualifiedName(v.schema, v.physicalName)}`.replaceAll('*/', '*\\/')} */`,
    `const ${constName}_sql: Statement = [${JSON.stringify(plan.head)}, ${JSON.stringify(plan.tail)}, ${plan.mode}, [${spec.join(', ')}], ${JSON.stringify(plan.column)}];`,
  ];
  const fn = `(db: Queryable${positional.map((p) => `, ${p}`).join('')}): ${returns} => run(db, ${constName}_sql, [${names.join(', ')}])`;
  const namedOk = callerArgs.length > 0 && plan.args.every((a) => a.name !== null);
  if (!namedOk) {
    lines.push(`const ${constName} = ${fn};`, '');
    return lines;
  }
  const fields = callerArgs.map((a) => `${propertyKey(a.name!)}${a.hasDefault ? '?' : ''}: ${nullable(a.tsType)}`);
  lines.push(
    `const ${constName} = Object.assign(${fn}, {`,
    `  /** by argument name; arguments with defaults may be left out */`,
    `  named: (db: Queryable, args: { ${fields.join('; ')} }): ${returns} => runNamed(db, ${constName}_sql, args),`,
    `});`,
    '',
  );
  return lines;
}

/** Deployment identity and the call helpers: fixed text, the same in every procs.ts. */
const RUNTIME = `/** Anything with node-postgres' \`query(text, values)\`: a pg Pool, Client or PoolClient. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** What pg parses json and jsonb into. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What pg parses an interval into (postgres-interval); absent fields are zero. */
export interface PgInterval {
  years?: number;
  months?: number;
  days?: number;
  hours?: number;
  minutes?: number;
  seconds?: number;
  milliseconds?: number;
}

/**
 * [SQL before the arguments, SQL after them, result (0 nothing, 1 a value, 2 a value per row, 3 a row,
 * 4 rows), arguments: [SQL name, cast, OUT, VARIADIC, encoding (1 JSON, 2 JSON elements)], value column]
 */
type Statement = readonly [string, string, 0 | 1 | 2 | 3 | 4, readonly (readonly [string | null, string | null, 0 | 1, 0 | 1, 0 | 1 | 2])[], string | null];

function encode(value: unknown, encoding: 0 | 1 | 2): unknown {
  if (value === null || value === undefined) return null;
  // pg would send a JavaScript array as a PostgreSQL array, not as JSON.
  if (encoding === 1) return JSON.stringify(value);
  if (encoding === 2) return (value as unknown[]).map((v) => (v === null || v === undefined ? null : JSON.stringify(v)));
  return value;
}

function slot(arg: Statement[3][number], values: unknown[], value: unknown): string {
  const cast = arg[1] === null ? '' : \`::\${arg[1]}\`;
  if (arg[2] === 1) return \`NULL\${cast}\`;
  values.push(encode(value, arg[4]));
  return \`\${arg[3] === 1 ? 'VARIADIC ' : ''}$\${values.length}\${cast}\`;
}

async function execute(db: Queryable, s: Statement, list: string[], values: unknown[]): Promise<never> {
  const { rows } = await db.query(\`\${s[0]}\${list.join(', ')}\${s[1]}\`, values);
  // A value is read from the column named after the logical procedure (never the version).
  const value = (r: unknown) => (r as Record<string, unknown>)[s[4] ?? ''];
  switch (s[2]) {
    case 0:
      return undefined as never;
    case 1:
      return (rows.length > 0 ? value(rows[0]) : null) as never;
    case 2:
      return rows.map(value) as never;
    case 3:
      return rows[0] as never;
    default:
      return rows as never;
  }
}

function run(db: Queryable, s: Statement, given: unknown[]): Promise<never> {
  // Arguments left out at the end take their defaults.
  let n = given.length;
  while (n > 0 && given[n - 1] === undefined) n--;
  const values: unknown[] = [];
  const list: string[] = [];
  let i = 0;
  for (const arg of s[3]) {
    if (arg[2] === 1) list.push(slot(arg, values, null));
    else if (i < n) list.push(slot(arg, values, given[i++]));
    else break;
  }
  return execute(db, s, list, values);
}

function runNamed(db: Queryable, s: Statement, args: Record<string, unknown>): Promise<never> {
  const values: unknown[] = [];
  const list: string[] = [];
  const names = s[3].map((a) => (a[0] !== null && a[0].startsWith('"') ? a[0].slice(1, -1).replaceAll('""', '"') : a[0]));
  s[3].forEach((arg, i) => {
    const value = args[names[i]!];
    if (arg[2] === 1 || value !== undefined) list.push(\`\${arg[0]} => \${slot(arg, values, value)}\`);
  });
  return execute(db, s, list, values);
}

const env = (name: string): string | undefined =>
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];

/**
 * \`<app>@<deployment>\`, the application_name by which the procver dashboard sees a deployment
 * connected ("seen live"). From PROCVER_APP and PROCVER_DEPLOYMENT unless passed.
 */
export function applicationName(identity: { app?: string; deployment?: string } = {}): string {
  const app = identity.app ?? env('PROCVER_APP');
  const deployment = identity.deployment ?? env('PROCVER_DEPLOYMENT');
  if (!app || !deployment) {
    throw new Error('procver: set PROCVER_APP and PROCVER_DEPLOYMENT (or pass { app, deployment }) to name this deployment\\'s database sessions');
  }
  if (app.includes('@')) throw new Error(\`procver: the app name "\${app}" must not contain "@" (it separates app and deployment)\`);
  const name = \`\${app}@\${deployment}\`;
  // PostgreSQL replaces other characters with "?" and cuts application_name at 63 bytes.
  if (!/^[\\x20-\\x7e]{1,63}$/.test(name)) {
    throw new Error(\`procver: application_name "\${name}" must be at most 63 printable ASCII characters, or PostgreSQL changes it\`);
  }
  return name;
}

/** pg Pool or Client options with application_name set to \`<app>@<deployment>\` (see applicationName). */
export function poolConfig<T extends object>(config: T, identity?: { app?: string; deployment?: string }): T & { application_name: string } {
  return { ...config, application_name: applicationName(identity) };
}
`;

/** The typed client part of procs.ts, versions in the order given (the caller sorts them). */
export function renderClient(sorted: CompiledVersion[], catalog: Catalog): string[] {
  const lines: string[] = [RUNTIME];
  const counts = new Map<string, number>();
  for (const v of sorted) counts.set(`${v.schema}.${v.name}`, (counts.get(`${v.schema}.${v.name}`) ?? 0) + 1);
  const keys: string[] = [];
  sorted.forEach((v, i) => {
    const plan = planCall(v, catalog);
    if (!plan) return;
    const constName = `call${i}`;
    lines.push(...renderEntry(constName, v, plan));
    keys.push(`  ${JSON.stringify(`${v.schema}.${v.name}(${v.args})`)}: ${constName},`);
    if (counts.get(`${v.schema}.${v.name}`) === 1) keys.push(`  ${JSON.stringify(`${v.schema}.${v.name}`)}: ${constName},`);
  });
  lines.push(
    '/**',
    " * A typed function for every procedure this build calls: `await call['shop.get_customer'](pool, 7)`.",
    " * Overloads by signature, as in `procedures`: `call['shop.describe(integer)']`.",
    ' */',
    'export const call = {',
    ...keys,
    '} as const;',
    '',
  );
  return lines;
}
