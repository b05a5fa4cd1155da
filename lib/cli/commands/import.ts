import { ProcverError } from '../../errors';
import { defineCommand, parseOptions } from '../command';

const options = {
  schema: {
    type: 'string',
    value: '<name>',
    multiple: true,
    description: 'import only these schemas (repeat, or comma-separated; default: every schema but system ones and procver)',
  },
  out: { type: 'string', value: '<dir>', description: 'where to write the sources' },
} as const;

export const command = defineCommand({
  name: 'import',
  summary:
    'Write sources procver compiles from the database in DATABASE_URL: its functions (pg_get_functiondef), their grants, comments and owners, and the triggers, aggregates … that call them.',
  usage: ['import [--schema <name> ...] --out <dir>'],
  options,
  async run(argv) {
    const { values } = parseOptions(options, argv);
    if (!values.out) throw new ProcverError('invalid_input', 'missing --out <dir>: where to write the imported sources');
    const schemas = values.schema?.flatMap((s) => s.split(',').map((x) => x.trim())).filter(Boolean);
    const [{ databaseUrl }, { createPool }, { importDatabase, writeImport }] = await Promise.all([
      import('../../config'),
      import('../../db/client'),
      import('../../import'),
    ]);
    const pool = createPool(databaseUrl(), 1);
    const result = await importDatabase(pool, { schemas }).finally(() => pool.end());
    const written = await writeImport(result, values.out);
    console.log(`imported ${result.functions} function(s) and procedure(s) and ${result.bindings} binding(s)`);
    for (const w of written) console.log(`  wrote ${w}`);
    for (const l of result.leftOut) console.log(`  left out ${l}`);
    console.log('views, column defaults and CHECK constraints that call these functions stay with your migration tool: see "Adopting procver" in the README');
    return 0;
  },
});
