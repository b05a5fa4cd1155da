import type { CompileOptions, CompileResult } from '../compile/compile';
import { fileSettings, parseSearchPath, readEnv, type ConfigFile, type Env } from '../config';
import { compileStatementLines } from './statementsReport';

/** The options `compile` and `push` share. */
export const compileArgOptions = {
  schema: { type: 'string', value: '<name>', description: 'schema of definitions whose name is not qualified (default public)' },
  'search-path': {
    type: 'string',
    value: '<path>',
    description: 'the path unqualified calls resolve through, e.g. "app, public" (or PROCVER_SEARCH_PATH, or searchPath in procver.config.json)',
  },
  strict: { type: 'boolean', description: 'turn warnings (dynamic SQL, names off the path) into errors (or strict in procver.config.json)' },
  'skip-other': {
    type: 'boolean',
    description: 'skip (and list) statements that belong to your migration tool: tables, indexes, views … (or skipOther in procver.config.json)',
  },
} as const;

export { parseSearchPath } from '../config';

/**
 * Flags, then the environment, then procver.config.json. The file's searchPath reaches this
 * through PROCVER_SEARCH_PATH (loadSettings fills the variable in from the file where it is unset).
 */
export function compileOptionsFrom(
  values: { schema?: string; 'search-path'?: string; strict?: boolean; 'skip-other'?: boolean },
  env: Env = readEnv(),
  file: ConfigFile = fileSettings(),
): CompileOptions {
  const path = values['search-path'] ?? env.PROCVER_SEARCH_PATH;
  const setting = values['search-path'] !== undefined ? '--search-path' : 'PROCVER_SEARCH_PATH';
  return {
    defaultSchema: values.schema ?? file.schema,
    searchPath: path !== undefined ? parseSearchPath(path, setting) : undefined,
    strict: values.strict === true || file.strict === true,
    skipOther: values['skip-other'] === true || file.skipOther === true,
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
