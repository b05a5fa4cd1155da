import type { CompileOptions, CompileResult } from '../compile/compile';
import { ProcverError } from '../errors';
import { compileStatementLines } from './statementsReport';

/** The options `compile` and `push` share. */
export const compileArgOptions = {
  schema: { type: 'string', value: '<name>', description: 'schema of definitions whose name is not qualified (default public)' },
  'search-path': { type: 'string', value: '<path>', description: 'the path unqualified calls resolve through, e.g. "app, public" (or PROCVER_SEARCH_PATH)' },
  strict: { type: 'boolean', description: 'turn warnings (dynamic SQL, names off the path) into errors' },
  'skip-other': { type: 'boolean', description: 'skip (and list) statements that belong to your migration tool: tables, indexes, views …' },
} as const;

/**
 * A search path as PostgreSQL writes it (`app, "My Schema", public`): unquoted names fold to
 * lower case. `$user` is left out: the compiler cannot know who will run the code.
 */
export function parseSearchPath(text: string, setting: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    if (item.startsWith('"')) {
      if (!item.endsWith('"') || item.length < 2) throw new ProcverError('config', `${setting}: unterminated quoted schema name ${item}; write e.g. app, "My Schema", public`);
      const name = item.slice(1, -1).replaceAll('""', '"');
      if (name !== '$user') out.push(name);
    } else if (item !== '$user') out.push(item.toLowerCase());
  }
  if (out.length === 0) throw new ProcverError('config', `${setting} names no schema; write e.g. app, public`);
  return out;
}

export function compileOptionsFrom(
  values: { schema?: string; 'search-path'?: string; strict?: boolean; 'skip-other'?: boolean },
  env: Record<string, string | undefined> = process.env,
): CompileOptions {
  const path = values['search-path'] ?? env['PROCVER_SEARCH_PATH'];
  const setting = values['search-path'] !== undefined ? '--search-path' : 'PROCVER_SEARCH_PATH';
  return {
    defaultSchema: values.schema,
    searchPath: path !== undefined ? parseSearchPath(path, setting) : undefined,
    strict: values.strict === true,
    skipOther: values['skip-other'] === true,
  };
}

/**
 * Notices and warnings go to stderr, so the outputs on stdout stay clean; then what compile did with
 * the statements that are not functions (skipped ones once each, properties, bindings).
 */
export function printCompileMessages(result: CompileResult): void {
  for (const n of result.notices) console.error(`notice: ${n}`);
  for (const w of result.warnings) console.error(`warning: ${w}`);
  for (const line of compileStatementLines(result.statements)) console.log(line);
}
