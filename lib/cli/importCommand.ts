import { parseArgs } from 'node:util';
import { databaseUrl } from '../config';
import { createPool } from '../db/client';
import { ProcverError } from '../errors';
import { importDatabase, writeImport } from '../import';

/** `procver import [--schema S …] --out DIR`: sources for procver, read from the database in DATABASE_URL. */
export async function importCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { schema: { type: 'string', multiple: true }, out: { type: 'string' } } });
  if (!values.out) throw new ProcverError('invalid_input', 'missing --out <dir>: where to write the imported sources');
  const schemas = values.schema?.flatMap((s) => s.split(',').map((x) => x.trim())).filter(Boolean);
  const pool = createPool(databaseUrl(), 1);
  const result = await importDatabase(pool, { schemas }).finally(() => pool.end());
  const written = await writeImport(result, values.out);
  console.log(`imported ${result.functions} function(s) and procedure(s) and ${result.bindings} binding(s)`);
  for (const w of written) console.log(`  wrote ${w}`);
  for (const l of result.leftOut) console.log(`  left out ${l}`);
  console.log('views, column defaults and CHECK constraints that call these functions stay with your migration tool: see "Adopting procver" in the README');
  return 0;
}
