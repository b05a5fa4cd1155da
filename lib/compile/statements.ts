import type { Definition, Diagnostic } from './definitions';
import { isComment, qualifiedName, quoteIdent, scanTokens, type ScanToken } from './parser';
import type { SourceText } from './sourceText';
import { statementLabel } from './statementLabel';
import { formatTypeName, type TypeNameNode } from './types';

/**
 * Statements in the sources that are not CREATE FUNCTION / CREATE PROCEDURE: properties of a
 * managed procedure (GRANT, REVOKE, COMMENT, OWNER), bindings (triggers, event triggers,
 * aggregates, operators, policies that call one), and everything else, which belongs to the
 * team's migration tool and is refused unless skipped.
 */
export interface OtherStatement {
  source: SourceText;
  stmt: Record<string, unknown>;
  /** the statement's tokens, comments included, with file byte offsets */
  tokens: ScanToken[];
  where: string;
}

/** A change to a procedure that every one of its versions carries (not part of the hash). */
export type PropertyChange =
  | { kind: 'grant' | 'revoke'; privilege: 'EXECUTE' | 'ALL'; grantees: string[]; grantOption: boolean; cascade: boolean }
  | { kind: 'comment'; comment: string | null }
  | { kind: 'owner'; role: string };

export interface SourceProperty {
  /** the procedure's identity, `schema.name(args)` */
  procedure: string;
  change: PropertyChange;
  where: string;
}

export type BindingKind = 'trigger' | 'event trigger' | 'aggregate' | 'operator' | 'policy';

/**
 * When a trigger or event trigger fires, as pg_trigger.tgenabled / pg_event_trigger.evtenabled
 * store it: O (enabled, what CREATE gives), D (disabled), R (ENABLE REPLICA), A (ENABLE ALWAYS).
 */
export type FiringState = 'O' | 'D' | 'R' | 'A';

const FIRING_CLAUSE: Record<FiringState, string> = { O: 'ENABLE', D: 'DISABLE', R: 'ENABLE REPLICA', A: 'ENABLE ALWAYS' };
const FIRING_OF_SUBTYPE: Record<string, FiringState> = { AT_EnableTrig: 'O', AT_DisableTrig: 'D', AT_EnableReplicaTrig: 'R', AT_EnableAlwaysTrig: 'A' };

/**
 * The statement that sets a trigger's (`on` its table's SQL name) or event trigger's firing state:
 * what import writes after the CREATE and push runs after creating or moving the binding.
 */
export function firingStateSql(trigger: { name: string; on?: string; only?: boolean }, state: FiringState): string {
  const name = quoteIdent(trigger.name);
  if (trigger.on === undefined) return `ALTER EVENT TRIGGER ${name} ${FIRING_CLAUSE[state]}`;
  return `ALTER TABLE ${trigger.only ? 'ONLY ' : ''}${trigger.on} ${FIRING_CLAUSE[state]} TRIGGER ${name}`;
}

/**
 * The catalogs bindings live in, and how to find one there by name: the SELECT of its OID, given
 * SQL expressions for its name parts (literals when compiled into a probe, registry columns when
 * push looks for a binding that left the sources).
 */
const OBJECT_LOOKUP = {
  pg_trigger: ([rel, name]: string[]) => `SELECT oid FROM pg_trigger WHERE tgrelid = to_regclass(${rel}) AND tgname = ${name}`,
  pg_event_trigger: ([name]: string[]) => `SELECT oid FROM pg_event_trigger WHERE evtname = ${name}`,
  pg_policy: ([rel, name]: string[]) => `SELECT oid FROM pg_policy WHERE polrelid = to_regclass(${rel}) AND polname = ${name}`,
  pg_proc: ([signature]: string[]) => `SELECT to_regprocedure(${signature})::oid`,
  pg_operator: ([signature]: string[]) => `SELECT to_regoperator(${signature})::oid`,
};

export type BindingCatalog = keyof typeof OBJECT_LOOKUP;
export const BINDING_CATALOGS = Object.keys(OBJECT_LOOKUP) as BindingCatalog[];

/** Where a binding is in the database: its catalog and the name parts its lookup takes (a table's SQL name and the object's name, or a signature). */
export interface BindingObject {
  catalog: BindingCatalog;
  name: string[];
}

/** The SELECT giving the OID of the object named by these SQL expressions in this catalog (no row or NULL when there is none). */
export function objectOidSql(catalog: BindingCatalog, nameSql: string[]): string {
  return OBJECT_LOOKUP[catalog](nameSql);
}

const objectLiteralSql = (o: BindingObject) => objectOidSql(o.catalog, o.name.map(quoteLiteral));

/** SQL expressions over the database that tell whether a binding is as push left it. */
export interface BindingProbe {
  /** boolean: it is there (under its name) */
  exists: string;
  /** boolean: PostgreSQL records it as depending on each of its versions */
  calls: string;
  /** triggers and event triggers: its firing state there (tgenabled / evtenabled), NULL when missing */
  state: string | null;
}

/** A binding with its statements rewritten to call the versions compiled from the same sources. */
export interface CompiledBinding {
  kind: BindingKind;
  /** what it is, e.g. "trigger touch on app.items": unique among bindings */
  identity: string;
  /** identities of the managed procedures it calls */
  procedures: string[];
  /** `schema.physical_name` of the versions it calls */
  versions: string[];
  /** what push runs to create it or point it at these versions (replace, or drop and create) */
  statements: string[];
  /** how push checks it in the database, unchanged in the sources, before leaving it alone */
  probe: BindingProbe;
  /** triggers and event triggers: the firing state the sources declare (O without an ALTER) */
  declaredState?: FiringState;
  /** where push finds it in the database, recorded with it in the registry */
  object: BindingObject;
  where: string;
}

export interface SkippedStatement {
  where: string;
  label: string;
}

export interface StatementsResult {
  properties: SourceProperty[];
  bindings: CompiledBinding[];
  /** identities of the procedures kept under their logical name as forwarders */
  entryPoints: string[];
  /** statements skipped with --skip-other, each listed once */
  skipped: SkippedStatement[];
  /** transaction control and SET: skipped without asking */
  notices: string[];
}

export interface StatementOptions {
  defaultSchema: string;
  /** skip statements that belong to the migration tool instead of refusing them */
  skipOther?: boolean;
  /** procedures to keep as entry points: `schema.name(args)`, or `schema.name` for every overload */
  entryPoints?: string[];
}

interface Reference {
  start: number;
  end: number;
  procedure: Definition;
}

interface PendingBinding {
  kind: BindingKind;
  identity: string;
  source: SourceText;
  span: [number, number];
  /** CREATE [OR REPLACE] [CONSTRAINT]: rewritten to what push runs */
  createSpan: [number, number];
  create: string;
  drop: string | null;
  /** the catalog it is in and its name there, for checking what it calls in the database */
  object: BindingObject;
  references: Reference[];
  where: string;
  /** triggers and event triggers: the name, its table's SQL name (triggers), and the column of its firing state */
  firing?: { name: string; on?: string; column: 'tgenabled' | 'evtenabled' };
  /** the firing state an ALTER … TRIGGER in the sources declares (O without one), and whether it said ONLY */
  state: FiringState;
  only?: boolean;
}

/** What ALTER TABLE … ENABLE/DISABLE TRIGGER or ALTER EVENT TRIGGER … ENABLE/DISABLE declares for a binding. */
interface FiringDeclaration {
  identity: string;
  state: FiringState;
  /** ALTER TABLE ONLY (pg_dump writes it for tables that are not partitions): not passed on to partitions */
  only?: boolean;
}

/** What classifyStatements hands over to the step that knows every physical name. */
export interface ClassifiedStatements {
  properties: SourceProperty[];
  bindings: PendingBinding[];
  entryPoints: string[];
  skipped: SkippedStatement[];
  notices: string[];
}

const key = (d: Pick<Definition, 'schema' | 'name' | 'args'>) => `${d.schema}.${d.name}(${d.args})`;
const names = (list: unknown): string[] => ((list ?? []) as { String: { sval: string } }[]).map((n) => n.String.sval);

/** Resolves a function a statement names, the way calls in bodies are resolved: name, schema, argument count. */
class Resolver {
  private byName = new Map<string, Definition[]>();
  constructor(
    definitions: Definition[],
    private defaultSchema: string,
  ) {
    for (const d of definitions) this.byName.set(d.name, [...(this.byName.get(d.name) ?? []), d]);
  }

  /**
   * The managed procedure meant, null if none; throws (with the reason) if several fit.
   * `preferArgs`: the argument types PostgreSQL looks the name up with, where it does (aggregate
   * support functions): among several that fit, the one taking exactly those is PostgreSQL's choice.
   */
  resolve(
    qualified: string[],
    arity: number | null,
    exactArgs?: string,
    preferArgs?: string,
    fix = 'name its argument types, as in FUNCTION f(integer)',
  ): Definition | null {
    const name = qualified[qualified.length - 1]!;
    const schema = qualified.length > 1 ? qualified[qualified.length - 2]! : null;
    let c = this.byName.get(name) ?? [];
    if (schema !== null) c = c.filter((d) => d.schema === schema);
    else if (new Set(c.map((d) => d.schema)).size > 1) c = c.filter((d) => d.schema === this.defaultSchema);
    if (exactArgs !== undefined) c = c.filter((d) => d.args === exactArgs);
    else if (arity !== null) c = c.filter((d) => arity >= d.minArgs && arity <= d.maxArgs);
    const exact = c.filter((d) => d.args === preferArgs);
    if (exact.length === 1) return exact[0]!;
    if (c.length > 1) {
      throw new Error(`${qualified.join('.')} is ambiguous between managed overloads ${c.map(key).join(' and ')}; ${fix}`);
    }
    return c[0] ?? null;
  }
}

export function classifyStatements(
  others: OtherStatement[],
  definitions: Definition[],
  options: StatementOptions,
  diagnostics: Diagnostic[],
  entryPoints: string[],
): ClassifiedStatements {
  const resolver = new Resolver(definitions, options.defaultSchema);
  const out: ClassifiedStatements = { properties: [], bindings: [], entryPoints, skipped: [], notices: [] };
  const quiet = new Map<string, number>();
  const seenBindings = new Map<string, string>();
  const triggers = triggersCallingManaged(others, resolver, options.defaultSchema);
  const searchPaths = new SearchPaths(others, options.defaultSchema);
  for (const d of definitions) {
    const path = d.ast.funcname.length > 1 ? null : searchPaths.inEffect(d.source, d.stmtSpan[0]);
    if (path) diagnostics.push({ where: d.where, message: searchPathMessage(d.name, path, options.defaultSchema) });
  }
  /** binding identity -> where its firing state is declared, and the declaration */
  const firing = new Map<string, FiringDeclaration & { where: string }>();

  for (const o of others) {
    const label = statementLabel(o.stmt, o.tokens);
    const kind = Object.keys(o.stmt)[0]!;
    if (kind === 'TransactionStmt' || kind === 'VariableSetStmt') {
      quiet.set(label, (quiet.get(label) ?? 0) + 1);
      continue;
    }
    let outcome: 'handled' | 'other' = 'other';
    let why = '';
    try {
      const properties = propertiesOf(o, resolver);
      const states = properties ? null : firingStatesOf(o, options.defaultSchema);
      if (properties) {
        out.properties.push(...properties);
        outcome = 'handled';
      } else if (states) {
        if (declareFiring(o, states, triggers, firing)) outcome = 'handled';
        else why = ': it names no trigger defined in these sources';
      } else {
        const binding = bindingOf(o, resolver, options.defaultSchema);
        if (binding) {
          const unqualified = unqualifiedObject(o);
          const path = unqualified ? searchPaths.inEffect(o.source, startOf(o)) : null;
          if (path && unqualified) diagnostics.push({ where: o.where, message: searchPathMessage(unqualified.what, path, options.defaultSchema, unqualified.outcome) });
          const first = seenBindings.get(binding.identity);
          if (first) diagnostics.push({ where: o.where, message: `duplicate ${binding.identity}; first defined at ${first}` });
          seenBindings.set(binding.identity, o.where);
          out.bindings.push(binding);
          outcome = 'handled';
        }
      }
    } catch (e) {
      diagnostics.push({ where: o.where, message: `${label}: ${(e as Error).message}` });
      continue;
    }
    if (outcome === 'handled') continue;
    if (isFunctionStatement(o.stmt)) why = ': it names no procedure defined in these sources';
    if (options.skipOther) out.skipped.push({ where: o.where, label });
    else {
      diagnostics.push({
        where: o.where,
        message: `${label} is not managed by procver${why}; it belongs to your migration tool (pass --skip-other to skip such statements)`,
      });
    }
  }
  for (const b of out.bindings) {
    const declared = firing.get(b.identity);
    if (declared) Object.assign(b, { state: declared.state, only: declared.only });
  }
  if (quiet.size > 0) {
    const list = [...quiet].map(([l, n]) => (n > 1 ? `${l} ×${n}` : l)).join(', ');
    out.notices.push(`skipped ${list}: push runs in its own transaction and settings do not carry over; unqualified names use the schema ${options.defaultSchema}`);
  }
  return out;
}

/** `SET search_path …`: the path's first schema (null for another setting, or none named). */
function searchPathSet(o: OtherStatement): string | null | undefined {
  const node = o.stmt['VariableSetStmt'] as { name?: string; args?: { A_Const?: { sval?: { sval: string } } }[] } | undefined;
  if (node?.name !== 'search_path') return undefined;
  return node.args?.[0]?.A_Const?.sval?.sval ?? null;
}

const startOf = (o: OtherStatement) => o.tokens.find((t) => !isComment(t))?.start ?? 0;

/**
 * `SET search_path = app` does not carry over to push, so an unqualified name after it (up to the
 * file's next SET search_path, which replaces it) would be taken from the default schema, not
 * where the file meant it: definitions and the objects of bindings are refused, naming both places.
 */
class SearchPaths {
  private readonly sets = new Map<SourceText, { at: number; first: string | null; where: string }[]>();

  constructor(
    others: OtherStatement[],
    private readonly defaultSchema: string,
  ) {
    for (const o of others) {
      const first = searchPathSet(o);
      if (first === undefined) continue;
      this.sets.set(o.source, [...(this.sets.get(o.source) ?? []), { at: startOf(o), first, where: o.where }]);
    }
  }

  /** The SET search_path in effect at byte `at` of a file, if it names another schema first. */
  inEffect(source: SourceText, at: number): { first: string; where: string } | null {
    const before = (this.sets.get(source) ?? []).filter((x) => x.at < at);
    const last = before[before.length - 1];
    return last?.first && last.first !== this.defaultSchema ? { first: last.first, where: last.where } : null;
  }
}

function searchPathMessage(what: string, path: { first: string; where: string }, defaultSchema: string, outcome = 'created in'): string {
  return `${what} is not schema-qualified and follows SET search_path = ${path.first} (${path.where}), which push does not run: it would be ${outcome} ${defaultSchema}; qualify it or pass --schema ${path.first}`;
}

/** The unqualified name a trigger or policy is on (looked up), or an aggregate or operator has (created), if any. */
function unqualifiedObject(o: OtherStatement): { what: string; outcome: string } | null {
  const kind = Object.keys(o.stmt)[0]!;
  const node = o.stmt[kind] as Record<string, unknown>;
  if (kind === 'CreateTrigStmt' || kind === 'CreatePolicyStmt') {
    const rel = (kind === 'CreateTrigStmt' ? node['relation'] : node['table']) as { schemaname?: string; relname: string };
    const name = kind === 'CreateTrigStmt' ? `trigger ${node['trigname'] as string}` : `policy ${node['policy_name'] as string}`;
    return rel.schemaname === undefined ? { what: `the table ${rel.relname} of ${name}`, outcome: 'looked up in' } : null;
  }
  const defnames = kind === 'DefineStmt' ? names(node['defnames']) : [];
  return defnames.length === 1 ? { what: defnames[0]!, outcome: 'created in' } : null;
}

/**
 * `ALTER TABLE t DISABLE TRIGGER x` (or ENABLE [REPLICA | ALWAYS]) and `ALTER EVENT TRIGGER x
 * DISABLE` …: the firing state of each trigger named; null for any other statement, including
 * ALTER TABLE with other subcommands and ENABLE/DISABLE TRIGGER ALL or USER.
 */
function firingStatesOf(o: OtherStatement, defaultSchema: string): FiringDeclaration[] | null {
  const kind = Object.keys(o.stmt)[0]!;
  if (kind === 'AlterEventTrigStmt') {
    const node = o.stmt[kind] as { trigname: string; tgenabled: FiringState };
    return [{ identity: `event trigger ${node.trigname}`, state: node.tgenabled }];
  }
  if (kind !== 'AlterTableStmt') return null;
  const node = o.stmt[kind] as {
    relation: { schemaname?: string; relname: string; inh?: boolean };
    objtype: string;
    cmds: { AlterTableCmd: { subtype: string; name?: string } }[];
  };
  if (node.objtype !== 'OBJECT_TABLE' || !node.cmds.every((c) => FIRING_OF_SUBTYPE[c.AlterTableCmd.subtype] !== undefined)) return null;
  const rel = relationName(node.relation, defaultSchema);
  return node.cmds.map((c) => ({
    identity: `trigger ${c.AlterTableCmd.name!} on ${rel.display}`,
    state: FIRING_OF_SUBTYPE[c.AlterTableCmd.subtype]!,
    only: node.relation.inh !== true,
  }));
}

/**
 * Records the firing states an ALTER declares for triggers of these sources (the ALTER may come
 * before or after its CREATE). False when it names none of them: it is the migration tool's, like
 * any other statement; one that names ours and others, or repeats a state, is refused.
 */
function declareFiring(o: OtherStatement, states: FiringDeclaration[], triggers: Set<string>, firing: Map<string, FiringDeclaration & { where: string }>): boolean {
  const theirs = states.filter((s) => !triggers.has(s.identity)).map((s) => s.identity);
  if (theirs.length === states.length) return false;
  if (theirs.length > 0) throw new Error(`names triggers of these sources and others (${theirs.join(', ')}); split it into one statement per trigger`);
  for (const s of states) {
    const first = firing.get(s.identity);
    if (first) throw new Error(`the firing state of ${s.identity} is declared twice; first at ${first.where}`);
    firing.set(s.identity, { ...s, where: o.where });
  }
  return true;
}

/** Identities of the triggers and event triggers in the sources that call a managed procedure. */
function triggersCallingManaged(others: OtherStatement[], resolver: Resolver, defaultSchema: string): Set<string> {
  const found = new Set<string>();
  for (const o of others) {
    const t = triggerOf(o, defaultSchema);
    if (!t) continue;
    try {
      if (resolver.resolve(t.funcname, 0)) found.add(t.identity);
    } catch {
      found.add(t.identity); // ambiguous: the CREATE is refused with the reason
    }
  }
  return found;
}

/** CREATE TRIGGER / CREATE EVENT TRIGGER: its identity, table and the function it executes; null for other statements. */
function triggerOf(o: OtherStatement, defaultSchema: string): { identity: string; name: string; rel?: { display: string; sql: string }; funcname: string[] } | null {
  const kind = Object.keys(o.stmt)[0]!;
  if (kind !== 'CreateTrigStmt' && kind !== 'CreateEventTrigStmt') return null;
  const node = o.stmt[kind] as { trigname: string; funcname: unknown; relation?: { schemaname?: string; relname: string } };
  if (kind === 'CreateEventTrigStmt') return { identity: `event trigger ${node.trigname}`, name: node.trigname, funcname: names(node.funcname) };
  const rel = relationName(node.relation!, defaultSchema);
  return { identity: `trigger ${node.trigname} on ${rel.display}`, name: node.trigname, rel, funcname: names(node.funcname) };
}

/** Statements about functions that would be properties or bindings if they named a managed one. */
function isFunctionStatement(stmt: Record<string, unknown>): boolean {
  const kind = Object.keys(stmt)[0]!;
  const node = stmt[kind] as Record<string, unknown>;
  const fn = (t: unknown) => t === 'OBJECT_FUNCTION' || t === 'OBJECT_PROCEDURE' || t === 'OBJECT_ROUTINE';
  if (kind === 'GrantStmt') return fn(node['objtype']) && node['targtype'] === 'ACL_TARGET_OBJECT';
  if (kind === 'CommentStmt') return fn(node['objtype']);
  if (kind === 'AlterOwnerStmt') return fn(node['objectType']);
  return ['CreateTrigStmt', 'CreateEventTrigStmt', 'CreatePolicyStmt', 'DefineStmt'].includes(kind);
}

interface ObjectWithArgs {
  objname: { String: { sval: string } }[];
  objargs?: { TypeName: TypeNameNode }[];
  args_unspecified?: boolean;
}

function procedureNamed(o: OtherStatement, obj: ObjectWithArgs, resolver: Resolver): Definition | null {
  const qualified = names(obj.objname);
  if (obj.args_unspecified || obj.objargs === undefined) {
    // GRANT … ON FUNCTION f without parentheses: PostgreSQL requires it to be unique, so do we.
    return resolver.resolve(qualified, null);
  }
  const args = obj.objargs.map((a) => formatTypeName(a.TypeName, o.where)).join(', ');
  return resolver.resolve(qualified, null, args);
}

function roleSql(r: { RoleSpec?: { roletype: string; rolename?: string } } | { roletype: string; rolename?: string }): string {
  const spec = 'RoleSpec' in r ? r.RoleSpec! : (r as { roletype: string; rolename?: string });
  switch (spec.roletype) {
    case 'ROLESPEC_PUBLIC':
      return 'PUBLIC';
    case 'ROLESPEC_CURRENT_USER':
      return 'CURRENT_USER';
    case 'ROLESPEC_CURRENT_ROLE':
      return 'CURRENT_ROLE';
    case 'ROLESPEC_SESSION_USER':
      return 'SESSION_USER';
    default:
      return quoteIdent(spec.rolename ?? '');
  }
}

/** GRANT/REVOKE … ON FUNCTION, COMMENT ON FUNCTION, ALTER FUNCTION … OWNER TO on managed procedures; null if it is none of these. */
function propertiesOf(o: OtherStatement, resolver: Resolver): SourceProperty[] | null {
  const kind = Object.keys(o.stmt)[0]!;
  const node = o.stmt[kind] as Record<string, unknown>;
  const fnType = (t: unknown) => t === 'OBJECT_FUNCTION' || t === 'OBJECT_PROCEDURE' || t === 'OBJECT_ROUTINE';
  if (kind === 'GrantStmt' && fnType(node['objtype']) && node['targtype'] === 'ACL_TARGET_OBJECT') {
    const objects = (node['objects'] as { ObjectWithArgs: ObjectWithArgs }[]).map((x) => procedureNamed(o, x.ObjectWithArgs, resolver));
    if (objects.every((d) => d === null)) return null;
    if (objects.some((d) => d === null)) throw new Error('names managed and unmanaged functions together; split it into one statement per function');
    if (node['grantor']) throw new Error('GRANTED BY is not supported for properties: every version is granted by the role that pushes it');
    const privs = (node['privileges'] as { AccessPriv: { priv_name?: string } }[] | undefined) ?? [];
    const change: PropertyChange = {
      kind: node['is_grant'] ? 'grant' : 'revoke',
      privilege: privs.length === 0 ? 'ALL' : 'EXECUTE',
      grantees: (node['grantees'] as { RoleSpec: { roletype: string; rolename?: string } }[]).map(roleSql),
      grantOption: node['grant_option'] === true,
      cascade: node['behavior'] === 'DROP_CASCADE',
    };
    return objects.map((d) => ({ procedure: key(d!), change, where: o.where }));
  }
  if (kind === 'CommentStmt' && fnType(node['objtype'])) {
    const d = procedureNamed(o, (node['object'] as { ObjectWithArgs: ObjectWithArgs }).ObjectWithArgs, resolver);
    if (!d) return null;
    return [{ procedure: key(d), change: { kind: 'comment', comment: (node['comment'] as string | undefined) ?? null }, where: o.where }];
  }
  if (kind === 'AlterOwnerStmt' && fnType(node['objectType'])) {
    const d = procedureNamed(o, (node['object'] as { ObjectWithArgs: ObjectWithArgs }).ObjectWithArgs, resolver);
    if (!d) return null;
    return [{ procedure: key(d), change: { kind: 'owner', role: roleSql(node['newowner'] as { roletype: string }) }, where: o.where }];
  }
  return null;
}

/** The SQL that applies a property to one routine (its regprocedure text or schema-qualified signature). */
export function propertySql(change: PropertyChange, routine: string): string {
  switch (change.kind) {
    case 'grant':
      return `GRANT ${change.privilege} ON ROUTINE ${routine} TO ${change.grantees.join(', ')}${change.grantOption ? ' WITH GRANT OPTION' : ''}`;
    case 'revoke':
      return `REVOKE ${change.grantOption ? 'GRANT OPTION FOR ' : ''}${change.privilege} ON ROUTINE ${routine} FROM ${change.grantees.join(', ')}${change.cascade ? ' CASCADE' : ''}`;
    case 'comment':
      return `COMMENT ON ROUTINE ${routine} IS ${change.comment === null ? 'NULL' : quoteLiteral(change.comment)}`;
    case 'owner':
      return `ALTER ROUTINE ${routine} OWNER TO ${change.role}`;
  }
}

export function quoteLiteral(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

const codeTokens = (o: OtherStatement) => o.tokens.filter((t) => !isComment(t));

/** The byte span of a (possibly schema-qualified) name starting at `location`. */
function nameSpanAt(code: ScanToken[], location: number): [number, number] {
  const i = code.findIndex((t) => t.start === location);
  if (i < 0) throw new Error('could not find the function name in the statement');
  const qualified = code[i + 1]?.text === '.';
  return [code[i]!.start, code[qualified ? i + 2 : i]!.end];
}

/** The name after the last EXECUTE FUNCTION|PROCEDURE (triggers and event triggers). */
function executedNameSpan(code: ScanToken[]): [number, number] {
  for (let i = code.length - 2; i >= 0; i--) {
    const w = code[i + 1]!.text.toUpperCase();
    if (code[i]!.text.toUpperCase() === 'EXECUTE' && (w === 'FUNCTION' || w === 'PROCEDURE')) return nameSpanAt(code, code[i + 2]!.start);
  }
  throw new Error('could not find EXECUTE FUNCTION in the statement');
}

/** CREATE [OR REPLACE] [CONSTRAINT]: the span push rewrites. */
function createSpan(code: ScanToken[]): [number, number] {
  let end = 0;
  if (code[1]?.text.toUpperCase() === 'OR' && code[2]?.text.toUpperCase() === 'REPLACE') end = 2;
  return [code[0]!.start, code[end]!.end];
}

/**
 * Aggregate support functions: how many arguments each takes (n = the aggregate's), and the
 * argument types PostgreSQL looks it up with (lookup_agg_function), given the state types and the
 * aggregate's argument types; null where they depend on more (FINALFUNC_EXTRA).
 */
interface AggregateSupport {
  arity: (n: number) => number | null;
  types: (state: string | null, mstate: string | null, args: string[]) => (string | null)[] | null;
}
const aggregateFunctions: Record<string, AggregateSupport> = {
  sfunc: { arity: (n) => n + 1, types: (s, _m, a) => [s, ...a] },
  msfunc: { arity: (n) => n + 1, types: (_s, m, a) => [m, ...a] },
  minvfunc: { arity: (n) => n + 1, types: (_s, m, a) => [m, ...a] },
  finalfunc: { arity: () => null, types: () => null },
  mfinalfunc: { arity: () => null, types: () => null },
  combinefunc: { arity: () => 2, types: (s) => [s, s] },
  serialfunc: { arity: () => 1, types: () => ['internal'] },
  deserialfunc: { arity: () => 2, types: () => ['bytea', 'internal'] },
};

interface DefElem {
  defname: string;
  arg?: { TypeName?: TypeNameNode & { location?: number } };
}

function relationName(rel: { schemaname?: string; relname: string }, defaultSchema: string): { display: string; sql: string } {
  const schema = rel.schemaname ?? defaultSchema;
  return { display: `${schema}.${rel.relname}`, sql: qualifiedName(schema, rel.relname) };
}

/** A trigger, event trigger, aggregate, operator or policy that calls a managed procedure; null otherwise. */
function bindingOf(o: OtherStatement, resolver: Resolver, defaultSchema: string): PendingBinding | null {
  const kind = Object.keys(o.stmt)[0]!;
  const node = o.stmt[kind] as Record<string, unknown>;
  const code = codeTokens(o);
  const last = code[code.length - 1]!;
  const span: [number, number] = [code[0]!.start, last.text === ';' ? code[code.length - 2]!.end : last.end];
  const base = { source: o.source, span, createSpan: createSpan(code), where: o.where, state: 'O' as FiringState };
  // A binding names its function without argument types (a trigger's EXECUTE FUNCTION f(), an
  // aggregate's SFUNC = f, an operator's FUNCTION = f): the way out of an ambiguity is the exact
  // types PostgreSQL looks it up with, where it does, or distinct names.
  const one = (qualified: string[], arity: number | null, at: [number, number], preferArgs?: string): Reference[] => {
    // (Qualifying would not help: the overloads left are in one schema.)
    const ways = [
      ...(preferArgs === undefined ? [] : [`declare the one it means with exactly (${preferArgs}) (the types PostgreSQL looks it up with)`]),
      'give the overloads different names',
    ];
    const fix = ways.join(', or ');
    const d = resolver.resolve(qualified, arity, undefined, preferArgs, fix);
    return d ? [{ start: at[0], end: at[1], procedure: d }] : [];
  };

  const trigger = triggerOf(o, defaultSchema);
  if (kind === 'CreateTrigStmt' && trigger) {
    const references = one(trigger.funcname, 0, executedNameSpan(code));
    if (references.length === 0) return null;
    const name = trigger.name;
    const rel = trigger.rel!;
    const constraint = node['isconstraint'] === true;
    return {
      ...base,
      kind: 'trigger',
      identity: trigger.identity,
      // Constraint triggers cannot be replaced in place.
      create: constraint ? 'CREATE CONSTRAINT' : 'CREATE OR REPLACE',
      createSpan: constraint ? [code[0]!.start, code.find((t) => t.text.toUpperCase() === 'CONSTRAINT')!.end] : base.createSpan,
      drop: constraint ? `DROP TRIGGER IF EXISTS ${quoteIdent(name)} ON ${rel.sql}` : null,
      object: { catalog: 'pg_trigger', name: [rel.sql, name] },
      firing: { name, on: rel.sql, column: 'tgenabled' },
      references,
    };
  }
  if (kind === 'CreateEventTrigStmt' && trigger) {
    const references = one(trigger.funcname, 0, executedNameSpan(code));
    if (references.length === 0) return null;
    const name = trigger.name;
    return {
      ...base,
      kind: 'event trigger',
      identity: trigger.identity,
      create: 'CREATE',
      drop: `DROP EVENT TRIGGER IF EXISTS ${quoteIdent(name)}`,
      object: { catalog: 'pg_event_trigger', name: [name] },
      firing: { name, column: 'evtenabled' },
      references,
    };
  }
  if (kind === 'CreatePolicyStmt') {
    const references: Reference[] = [];
    for (const call of funcCalls([node['qual'], node['with_check']])) {
      references.push(...one(names(call.funcname), call.args?.length ?? 0, nameSpanAt(code, call.location)));
    }
    if (references.length === 0) return null;
    const rel = relationName(node['table'] as { schemaname?: string; relname: string }, defaultSchema);
    const name = node['policy_name'] as string;
    return {
      ...base,
      kind: 'policy',
      identity: `policy ${name} on ${rel.display}`,
      create: 'CREATE',
      drop: `DROP POLICY IF EXISTS ${quoteIdent(name)} ON ${rel.sql}`,
      object: { catalog: 'pg_policy', name: [rel.sql, name] },
      references,
    };
  }
  if (kind === 'DefineStmt' && (node['kind'] === 'OBJECT_AGGREGATE' || node['kind'] === 'OBJECT_OPERATOR')) {
    const defs = ((node['definition'] ?? []) as { DefElem: DefElem }[]).map((d) => d.DefElem);
    const qualified = names(node['defnames']);
    const schema = qualified.length > 1 ? qualified[0]! : defaultSchema;
    const objName = qualified[qualified.length - 1]!;
    const typeOf = (d: DefElem | undefined) => (d?.arg?.TypeName ? formatTypeName(d.arg.TypeName, o.where) : null);
    const references: Reference[] = [];
    if (node['kind'] === 'OBJECT_AGGREGATE') {
      const params = ((node['args'] as { List?: { items?: { FunctionParameter: { argType: TypeNameNode } }[] } }[] | undefined)?.[0]?.List?.items ?? []).map(
        (p) => p.FunctionParameter.argType,
      );
      const argTypes = params.map((p) => formatTypeName(p, o.where));
      const state = typeOf(defs.find((d) => d.defname.toLowerCase() === 'stype'));
      const mstate = typeOf(defs.find((d) => d.defname.toLowerCase() === 'mstype'));
      for (const d of defs) {
        const support = aggregateFunctions[d.defname.toLowerCase()];
        const t = d.arg?.TypeName;
        if (!support || !t || t.location === undefined) continue;
        const types = support.types(state, mstate, argTypes);
        const preferArgs = types?.every((x) => x !== null) ? types.join(', ') : undefined;
        references.push(...one(names(t.names), support.arity(params.length), nameSpanAt(code, t.location), preferArgs));
      }
      if (references.length === 0) return null;
      const args = params.length === 0 ? '*' : argTypes.join(', ');
      return {
        ...base,
        kind: 'aggregate',
        identity: `aggregate ${schema}.${objName}(${args})`,
        create: 'CREATE OR REPLACE',
        drop: null,
        // regprocedure spells agg(*) with no arguments; to_regprocedure raises on `*`.
        object: { catalog: 'pg_proc', name: [`${qualifiedName(schema, objName)}(${argTypes.join(', ')})`] },
        references,
      };
    }
    const left = typeOf(defs.find((d) => d.defname.toLowerCase() === 'leftarg'));
    const right = typeOf(defs.find((d) => d.defname.toLowerCase() === 'rightarg'));
    for (const d of defs) {
      const t = d.arg?.TypeName;
      if ((d.defname.toLowerCase() !== 'function' && d.defname.toLowerCase() !== 'procedure') || !t || t.location === undefined) continue;
      references.push(...one(names(t.names), (left ? 1 : 0) + (right ? 1 : 0), nameSpanAt(code, t.location)));
    }
    if (references.length === 0) return null;
    const signature = `${left ?? 'NONE'}, ${right ?? 'NONE'}`;
    return {
      ...base,
      kind: 'operator',
      identity: `operator ${schema}.${objName}(${signature})`,
      create: 'CREATE',
      drop: `DROP OPERATOR IF EXISTS ${quoteIdent(schema)}.${objName} (${signature})`,
      object: { catalog: 'pg_operator', name: [`${quoteIdent(schema)}.${objName}(${signature})`] },
      references,
    };
  }
  return null;
}

interface FuncCallNode {
  funcname: unknown;
  args?: unknown[];
  location: number;
}

/** Every function call in expression trees. */
function funcCalls(roots: unknown[]): FuncCallNode[] {
  const found: FuncCallNode[] = [];
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      for (const [k, v] of Object.entries(n)) {
        if (k === 'FuncCall') found.push(v as FuncCallNode);
        walk(v);
      }
    }
  };
  walk(roots);
  return found;
}

/** Procedures marked `-- procver:entry-point` right before their definition, or listed in the options. */
/** The definitions kept as forwarders under their logical names (`schema.name(args)`): marked, or listed in the options. */
export function entryPointsOf(definitions: Definition[], options: Pick<StatementOptions, 'entryPoints'>, diagnostics: Diagnostic[]): string[] {
  const chosen = new Set<string>();
  for (const d of definitions) if (leadingComments(d).some((t) => t.text.replace(/^--/, '').trim() === ENTRY_POINT_DIRECTIVE)) chosen.add(key(d));
  for (const wanted of options.entryPoints ?? []) {
    const matches = definitions.filter((d) => key(d) === wanted || `${d.schema}.${d.name}` === wanted);
    if (matches.length === 0) diagnostics.push({ where: 'entry points setting', message: `${wanted} names no procedure in these sources` });
    for (const d of matches) chosen.add(key(d));
  }
  return [...chosen].sort();
}

export const ENTRY_POINT_DIRECTIVE = 'procver:entry-point';

/**
 * Whether the binding exists, whether PostgreSQL records it as depending on each of these versions,
 * and (triggers, event triggers) how it fires.
 */
function probeSql(b: PendingBinding, versions: { schema: string; physicalName: string; args: string }[]): BindingProbe {
  const oid = objectLiteralSql(b.object);
  const calls = versions.map(
    (v) => `EXISTS (SELECT 1 FROM pg_depend WHERE classid = '${b.object.catalog}'::regclass AND objid = (${oid})
      AND refclassid = 'pg_proc'::regclass AND refobjid = to_regprocedure(${quoteLiteral(`${qualifiedName(v.schema, v.physicalName)}(${v.args})`)}))`,
  );
  return {
    exists: `(${oid}) IS NOT NULL`,
    calls: calls.join(' AND '),
    // The trigger's own state only: a partition's clone may be set on its own (pg_dump writes that as an
    // ALTER on the partition, which is the migration tool's), and re-creating the trigger to undo it
    // would do so at every push. A move re-creates it and sets those back (lib/bindings.ts).
    state: b.firing ? `SELECT ${b.firing.column}::text FROM ${b.object.catalog} WHERE oid = (${oid})` : null,
  };
}

/**
 * The `--` comments on the lines right above a definition (the parser starts a statement at its
 * first token, so they are outside it): the block of blank and comment lines, scanned on its own.
 */
function leadingComments(d: Definition): ScanToken[] {
  const bytes = d.source.bytes;
  // Start of the line at `end` (exclusive), walking back one line at a time: linear in what it reads.
  const lineStart = (end: number) => (end <= 0 ? 0 : bytes.lastIndexOf(0x0a, end - 1) + 1);
  let from = lineStart(d.stmtSpan[0]);
  while (from > 0) {
    const previous = lineStart(from - 1);
    if (!/^\s*(--.*)?$/.test(d.source.slice(previous, from - 1))) break;
    from = previous;
  }
  const block = d.source.slice(from, d.stmtSpan[0]);
  if (!block.includes(ENTRY_POINT_DIRECTIVE)) return [];
  try {
    const tokens = scanTokens(block);
    return tokens.every(isComment) ? tokens.filter((t) => t.tokenName === 'SQL_COMMENT') : [];
  } catch {
    return [];
  }
}

/** Rewrites each binding to call the versions compiled from the same sources. */
export function compileBindings(pending: PendingBinding[], physical: (procedure: string) => { schema: string; physicalName: string; args: string }): CompiledBinding[] {
  return pending.map((b) => {
    const edits = [
      { start: b.createSpan[0], end: b.createSpan[1], text: b.create },
      ...b.references.map((r) => {
        const v = physical(key(r.procedure));
        return { start: r.start, end: r.end, text: qualifiedName(v.schema, v.physicalName) };
      }),
    ].sort((x, y) => x.start - y.start);
    let text = '';
    let at = b.span[0];
    for (const e of edits) {
      text += b.source.slice(at, e.start) + e.text;
      at = e.end;
    }
    text += b.source.slice(at, b.span[1]);
    const procedures = [...new Set(b.references.map((r) => key(r.procedure)))].sort();
    return {
      kind: b.kind,
      identity: b.identity,
      procedures,
      versions: procedures.map((p) => {
        const v = physical(p);
        return `${v.schema}.${v.physicalName}`;
      }),
      // CREATE [OR REPLACE] leaves a trigger enabled (O): another state is set right after it.
      statements: [...(b.drop ? [b.drop] : []), text, ...(b.firing && b.state !== 'O' ? [firingStateSql({ ...b.firing, only: b.only }, b.state)] : [])],
      probe: probeSql(b, procedures.map(physical)),
      ...(b.firing ? { declaredState: b.state } : {}),
      object: b.object,
      where: b.where,
    };
  });
}
