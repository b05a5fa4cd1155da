import { parseArgs } from 'node:util';
import { ProcverError } from '../errors';

/**
 * One CLI command, declared. The declaration is all `procver help` and the README check read, so a
 * command module imports nothing heavy at its top: `run` loads what it needs when it is called.
 */
interface OptionSpec {
  type: 'string' | 'boolean';
  /** placeholder for the value in help text, e.g. "<dir>" */
  value?: string;
  /** may be given more than once (the values come as an array) */
  multiple?: boolean;
  description: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface Command {
  name: string;
  /** one line for `procver help` */
  summary: string;
  /** synopsis lines, without the leading "procver " */
  usage: string[];
  options: OptionSpecs;
  run(argv: string[]): Promise<number>;
}

export function defineCommand<C extends Command>(command: C): C {
  return command;
}

/** Parses argv against a command's declared options (node:util parseArgs, strict: an unknown option is an error). */
export function parseOptions<O extends OptionSpecs>(options: O, argv: string[], allowPositionals = false) {
  const config = Object.fromEntries(Object.entries(options).map(([k, o]) => [k, { type: o.type, multiple: o.multiple === true }])) as {
    [K in keyof O]: { type: O[K]['type']; multiple: O[K]['multiple'] extends true ? true : false };
  };
  return parseArgs({ args: argv, allowPositionals, options: config });
}

export function positional(args: string[], what: string): string {
  const value = args[0];
  if (!value) throw new ProcverError('invalid_input', `missing ${what}`);
  return value;
}

export function required(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v.length === 0) throw new ProcverError('invalid_input', `missing --${name}`);
  return v;
}
