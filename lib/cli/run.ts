import { ProcverError, exitCodes } from '../errors';
import { runCommand, usage } from './commands';

/**
 * Runs one procver command line and returns its exit code; errors are printed on stderr, never
 * thrown. main.ts calls it for the real process; the tests call it in-process (test/helpers/cli.ts).
 */
export async function runCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage);
    return command ? 0 : 1;
  }
  try {
    return await runCommand(command, rest);
  } catch (e) {
    if (e instanceof ProcverError) {
      process.stderr.write(`procver: ${e.message}\n`);
      for (const d of e.details) process.stderr.write(`  ${d}\n`);
      return exitCodes[e.code];
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`procver: ${e.message}\n\n${usage}`);
      return 64;
    }
    const err = e as Error & { code?: string };
    // Errors from PostgreSQL carry a SQLSTATE; show the message, not a stack.
    process.stderr.write(`procver: ${err.code && /^[0-9A-Z]{5}$/.test(err.code) ? `database error ${err.code}: ` : ''}${err.message}\n`);
    if (process.env.PROCVER_DEBUG) process.stderr.write(`${err.stack}\n`);
    return 70;
  }
}
