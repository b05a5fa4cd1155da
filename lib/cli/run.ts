import { ProcverError, exitCodes } from '../errors';
import type { Command } from './command';
import { commandHelp, helpText } from './help';
import { loadAllCommands, loadCommand } from './registry';

async function help(topic: string | undefined): Promise<string> {
  const command = topic ? await loadCommand(topic) : undefined;
  return command ? commandHelp(command) : helpText(await loadAllCommands());
}

/**
 * Runs one procver command line and returns its exit code; errors are printed on stderr, never
 * thrown. main.ts calls it for the real process; the tests call it in-process (test/helpers/cli.ts).
 */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  let current: Command | undefined;
  try {
    if (!name || name === 'help' || name === '--help' || name === '-h') {
      process.stdout.write(await help(name === 'help' ? rest[0] : undefined));
      return name ? 0 : 1;
    }
    current = await loadCommand(name);
    if (!current) throw new ProcverError('invalid_input', `unknown command "${name}"; run \`procver help\``);
    if (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h')) {
      process.stdout.write(commandHelp(current));
      return 0;
    }
    // Every setting, from procver.config.json and the environment, is checked before any work starts.
    (await import('../config')).loadSettings();
    return await current.run(rest);
  } catch (e) {
    if (e instanceof ProcverError) {
      process.stderr.write(`procver: ${e.message}\n`);
      for (const d of e.details) process.stderr.write(`  ${d}\n`);
      return exitCodes[e.code];
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`procver: ${e.message}\n\n${current ? commandHelp(current) : await help(undefined)}`);
      return 64;
    }
    const err = e as Error & { query?: unknown };
    // drizzle wraps PostgreSQL's error in one whose message is the query (pages of SQL): show what
    // PostgreSQL said and its SQLSTATE (errors from the server carry a severity), not a stack.
    // PROCVER_DEBUG shows the stack, which begins with the query.
    const wrapped = typeof err.query === 'string' && err.cause instanceof Error;
    const shown = (wrapped ? err.cause : err) as Error & { code?: string; severity?: string };
    const sqlstate = typeof shown.severity === 'string' && typeof shown.code === 'string' ? shown.code : undefined;
    process.stderr.write(`procver: ${sqlstate ? `database error ${sqlstate}: ` : ''}${shown.message}\n`);
    if (process.env.PROCVER_DEBUG) process.stderr.write(`${err.stack}\n`);
    else if (wrapped) process.stderr.write('  (set PROCVER_DEBUG=1 to see the query and the stack)\n');
    return 70;
  }
}
