import { parseArgs } from 'node:util';
import { ProcverError, exitCodes } from '../errors';
import { runCommand, usage } from './commands';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage);
    return command ? 0 : 1;
  }
  return runCommand(command, rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof ProcverError) {
      process.stderr.write(`procver: ${e.message}\n`);
      for (const d of e.details) process.stderr.write(`  ${d}\n`);
      process.exitCode = exitCodes[e.code];
    } else if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`procver: ${e.message}\n\n${usage}`);
      process.exitCode = 64;
    } else {
      const err = e as Error & { code?: string };
      // Errors from PostgreSQL carry a SQLSTATE; show the message, not a stack.
      process.stderr.write(`procver: ${err.code && /^[0-9A-Z]{5}$/.test(err.code) ? `database error ${err.code}: ` : ''}${err.message}\n`);
      if (process.env.PROCVER_DEBUG) process.stderr.write(`${err.stack}\n`);
      process.exitCode = 70;
    }
  },
);

export { parseArgs };
