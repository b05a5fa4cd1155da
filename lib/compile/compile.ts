import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ProcverError } from '../errors';
import { fitIdentifier } from '../identifiers';
import { findCalls, type CallContext, type CallSite, type OwnNameQualifier } from './calls';
import { dollarQuoted, parseDefinitions, type Definition, type Diagnostic } from './definitions';
import { mayBeInlined } from './inlining';
import { normalizedDefinition, normalizeTokens } from './normalize';
import { loadParser, qualifiedName, quoteIdent } from './parser';
import { SourceText } from './sourceText';
import { signatureOf, type Signature } from './client/signature';
import { classifyStatements, compileBindings, entryPointsOf, type OtherStatement, type StatementOptions, type StatementsResult } from './statements';

const HASH_PREFIX_LENGTH = 10;

export interface CompiledVersion {
  schema: string;
  name: string;
  args: string;
  kind: 'function' | 'procedure';
  language: string;
  /** arguments and result, for the typed client in procs.ts */
  signature: Signature;
  hash: string;
  physicalName: string;
  securityDefiner: boolean;
  /** PostgreSQL may inline its calls, which the function counters then never see */
  mayBeInlined: boolean;
  /** the CREATE statement as it is executed: physical name, calls rewritten */
  source: string;
  normalized: string;
  /** physical names of the managed definitions this one calls */
  callees: string[];
  where: string;
}

export interface CompileResult {
  versions: CompiledVersion[];
  files: number;
  /** `file:line:col: message` for what compiles but may fail at run time (dynamic SQL naming managed procedures) */
  warnings: string[];
  /** `file:line:col: message` for what was skipped (psql meta-commands) */
  notices: string[];
  /** properties, bindings, entry points and skipped statements (lib/compile/statements.ts) */
  statements: StatementsResult;
}

export interface CompileOptions extends Partial<StatementOptions> {
  /** schema of definitions whose name is not qualified (default public) */
  defaultSchema?: string;
  /**
   * The search path unqualified calls resolve through, as push runs with it (default `public`;
   * pg_catalog is searched first unless listed). A definition's own SET search_path wins.
   */
  searchPath?: string[];
  /** warnings are errors */
  strict?: boolean;
}

async function listSqlFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string) => {
    const entries = await readdir(d, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.endsWith('.sql') && e.name !== 'procver.sql') found.push(p);
    }
  };
  await walk(dir);
  return found.sort();
}

/** Paths in messages: relative to the working directory when inside it, else absolute. */
function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(p);
}

/** `<name>__<hash prefix>`, the name shortened (never the hash) so the whole fits 63 bytes. */
export function physicalNameFor(name: string, hash: string): string {
  return fitIdentifier(name, `__${hash.slice(0, HASH_PREFIX_LENGTH)}`);
}

export async function compileDirectory(dir: string, options: CompileOptions = {}): Promise<CompileResult> {
  const paths = await listSqlFiles(dir);
  const sources = await Promise.all(paths.map(async (p) => new SourceText(displayPath(p), await readFile(p, 'utf8'))));
  return compileSources(sources, options);
}

export async function compileSources(sources: SourceText[], options: CompileOptions = {}): Promise<CompileResult> {
  await loadParser();
  const diagnostics: Diagnostic[] = [];
  const notices: Diagnostic[] = [];
  const definitions: Definition[] = [];
  const others: OtherStatement[] = [];
  for (const s of sources) {
    const r = parseDefinitions(s, options.defaultSchema ?? 'public', notices);
    definitions.push(...r.definitions);
    others.push(...r.others);
    diagnostics.push(...r.diagnostics);
  }

  const byIdentity = new Map<string, Definition>();
  for (const d of definitions) {
    const key = `${d.schema}.${d.name}(${d.args})`;
    const previous = byIdentity.get(key);
    if (previous) diagnostics.push({ where: d.where, message: `duplicate definition of ${key}; first defined at ${previous.where}` });
    else byIdentity.set(key, d);
  }
  const unique = [...byIdentity.values()];
  const byName = new Map<string, Definition[]>();
  for (const d of unique) byName.set(d.name, [...(byName.get(d.name) ?? []), d]);

  const entryPoints = entryPointsOf(unique, options, diagnostics);
  const ctx: CallContext = { byName, searchPath: options.searchPath ?? ['public'], diagnostics, warnings: [], entryPoints: new Set(entryPoints) };
  const calls = new Map<Definition, CallSite[]>();
  const ownNames = new Map<Definition, OwnNameQualifier[]>();
  for (const d of unique) {
    const found = findCalls(d, ctx);
    calls.set(d, found.calls);
    ownNames.set(d, found.ownName);
  }
  if (options.strict) diagnostics.push(...ctx.warnings.map((w) => ({ ...w, message: `${w.message} (--strict)` })));

  const order = calleesFirst(unique, calls, diagnostics);
  const classified = classifyStatements(others, unique, { ...options, defaultSchema: options.defaultSchema ?? 'public' }, diagnostics, entryPoints);
  if (diagnostics.length > 0) throw compileFailed(diagnostics);

  const compiled = new Map<Definition, CompiledVersion>();
  for (const d of order) compiled.set(d, compileOne(d, calls.get(d) ?? [], ownNames.get(d) ?? [], compiled));

  const seen = new Map<string, CompiledVersion>();
  for (const v of compiled.values()) {
    const key = `${v.schema}.${v.physicalName}`;
    const other = seen.get(key);
    if (other) {
      diagnostics.push({
        where: v.where,
        message: `physical name ${key} collides with ${other.schema}.${other.name}(${other.args}) at ${other.where}; rename one of them`,
      });
    }
    seen.set(key, v);
  }
  if (diagnostics.length > 0) throw compileFailed(diagnostics);
  const lines = (ds: Diagnostic[]) => ds.map((d) => `${d.where}: ${d.message}`);
  const byKey = new Map([...compiled.values()].map((v) => [`${v.schema}.${v.name}(${v.args})`, v]));
  const statements: StatementsResult = { ...classified, bindings: compileBindings(classified.bindings, (p) => byKey.get(p)!) };
  return { versions: [...compiled.values()], files: sources.length, warnings: options.strict ? [] : lines(ctx.warnings), notices: lines(notices), statements };
}

function compileFailed(diagnostics: Diagnostic[]): ProcverError {
  const lines = diagnostics.map((d) => `${d.where}: ${d.message}`);
  return new ProcverError('compile_failed', `compile failed with ${lines.length} error(s); nothing was written`, lines);
}

/** Topological order, callees before callers; a cycle of two or more definitions is refused. */
function calleesFirst(defs: Definition[], calls: Map<Definition, CallSite[]>, diagnostics: Diagnostic[]): Definition[] {
  const order: Definition[] = [];
  const state = new Map<Definition, 'visiting' | 'done'>();
  const stack: Definition[] = [];
  const label = (d: Definition) => `${d.schema}.${d.name}(${d.args})`;
  const visit = (d: Definition): void => {
    const s = state.get(d);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(d)), d].map(label).join(' -> ');
      diagnostics.push({
        where: d.where,
        message: `mutual recursion is not supported (each version's hash depends on its callees' hashes): ${cycle}`,
      });
      return;
    }
    state.set(d, 'visiting');
    stack.push(d);
    for (const c of calls.get(d) ?? []) if (c.callee !== d) visit(c.callee);
    stack.pop();
    state.set(d, 'done');
    order.push(d);
  };
  // localeCompare's order, through one collator and each label made once (10,000 definitions sort in ms)
  const labels = new Map(defs.map((d) => [d, label(d)]));
  const collator = new Intl.Collator();
  const sorted = [...defs].sort((a, b) => collator.compare(labels.get(a)!, labels.get(b)!));
  for (const d of sorted) visit(d);
  return order;
}

function compileOne(def: Definition, calls: CallSite[], ownName: OwnNameQualifier[], compiled: Map<Definition, CompiledVersion>): CompiledVersion {
  const calleeSql = (c: CallSite) => {
    const v = compiled.get(c.callee);
    return v ? qualifiedName(v.schema, v.physicalName) : '$self';
  };
  const body = def.body;
  const bodySpace = body.kind === 'atomic' ? 'file' : 'body';
  const inBody = calls.filter((c) => c.space === bodySpace && (body.kind !== 'atomic' || c.start >= body.tokens[0]!.start));
  const normalBody = body.kind === 'opaque' ? null : normalizeTokens(body.tokens, inBody, calleeSql, def.language === 'plpgsql');
  const inTrees = new Map<object, string>(calls.map((c) => [c.node, calleeSql(c)]));
  const normalized = normalizedDefinition(def.ast, def.schema, def.language, normalBody, inTrees);
  const hash = createHash('sha256').update(normalized).digest('hex');
  const physicalName = physicalNameFor(def.name, hash);
  const self = qualifiedName(def.schema, physicalName);
  const finalSql = (c: CallSite) => (c.callee === def ? self : calleeSql(c));
  return {
    schema: def.schema,
    name: def.name,
    args: def.args,
    kind: def.kind,
    language: def.language,
    signature: signatureOf(def.ast, def.where),
    hash,
    physicalName,
    securityDefiner: def.securityDefiner,
    mayBeInlined: mayBeInlined(def.ast, def.language, body.kind === 'string' ? body.text : null, body.kind === 'string' ? body.parsed : undefined),
    source: rewriteStatement(
      def,
      calls,
      finalSql,
      self,
      ownName.map((q) => ({ ...q, text: quoteIdent(physicalName) })),
    ),
    normalized,
    callees: [...new Set(calls.filter((c) => c.callee !== def).map((c) => compiled.get(c.callee)!.physicalName))].sort(),
    where: def.where,
  };
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function applyEdits(text: Buffer, base: number, end: number, edits: Edit[]): string {
  let out = '';
  let at = base;
  for (const e of [...edits].sort((a, b) => a.start - b.start || a.end - b.end)) {
    out += text.subarray(at, e.start).toString('utf8') + e.text;
    at = e.end;
  }
  return out + text.subarray(at, end).toString('utf8');
}

function callEdits(calls: CallSite[], callSql: (c: CallSite) => string): Edit[] {
  const edits: Edit[] = [];
  for (const c of calls) {
    edits.push({ start: c.start, end: c.end, text: callSql(c) });
    if (c.keepName) edits.push({ start: c.keepName.at, end: c.keepName.at, text: c.keepName.text });
  }
  return edits;
}

/**
 * The original statement with CREATE (no OR REPLACE), the physical name, rewritten calls and
 * `ownName` edits (parameters qualified with the function's name get its physical name).
 */
function rewriteStatement(def: Definition, calls: CallSite[], callSql: (c: CallSite) => string, self: string, ownName: (Edit & { space: 'file' | 'body' })[]): string {
  const edits: Edit[] = [
    { start: def.createSpan[0], end: def.createSpan[1], text: 'CREATE' },
    { start: def.nameSpan[0], end: def.nameSpan[1], text: self },
    ...callEdits(
      calls.filter((c) => c.space === 'file'),
      callSql,
    ),
    ...ownName.filter((q) => q.space === 'file'),
  ];
  const body = def.body;
  const inBody = [
    ...callEdits(
      calls.filter((c) => c.space === 'body'),
      callSql,
    ),
    ...ownName.filter((q) => q.space === 'body'),
  ];
  if (body.kind === 'string' && inBody.length > 0) {
    const bytes = Buffer.from(body.text, 'utf8');
    edits.push({
      start: body.token.start,
      end: body.token.end,
      text: dollarQuoted(
        applyEdits(bytes, 0, bytes.length, inBody),
        body.contentOffset === null ? undefined : body.token.text.slice(0, body.token.text.indexOf('$', 1) + 1),
      ),
    });
  }
  return applyEdits(def.source.bytes, def.stmtSpan[0], def.stmtSpan[1], edits);
}
