import { setFlagsFromString } from 'node:v8';
import { loadSettings } from '../config';
import { ProcverError, exitCodes } from '../errors';
import type { Command } from './command';
import { commandHelp, helpText } from './help';
import { loadAllCommands, loadCommand } from './registry';

// libpg-query's 1.7 MB WebAssembly parser: V8's baseline compiler alone starts it in a third of the
// CPU time, and its code is not slower for what procver parses (bench/cli.ts, bench/RESULTS.md).
setFlagsFromString('--liftoff-only');

async function help(topic: string | undefined): Promise<string> {
  const command = topic ? await loadCommand(topic) : undefined;
  return command ? commandHelp(command) : helpText(await loadAllCommands());
}

let current: Command | undefined;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
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
  loadSettings();
  return current.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  async (e: unknown) => {
    if (e instanceof ProcverError) {
      process.stderr.write(`procver: ${e.message}\n`);
      for (const d of e.details) process.stderr.write(`  ${d}\n`);
      process.exitCode = exitCodes[e.code];
    } else if (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`procver: ${e.message}\n\n${current ? commandHelp(current) : await help(undefined)}`);
      process.exitCode = 64;
    } else {
      const err = e as Error & { code?: string };
      // Errors from PostgreSQL carry a SQLSTATE; show the message, not a stack.
      process.stderr.write(`procver: ${err.code && /^[0-9A-Z]{5}$/.test(err.code) ? `database error ${err.code}: ` : ''}${err.message}\n`);
      // Read raw: this handler reports errors, including a bad setting, and must not fail itself.
      if (process.env.PROCVER_DEBUG) process.stderr.write(`${err.stack}\n`);
      process.exitCode = 70;
    }
  },
);
