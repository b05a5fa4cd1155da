import { defineCommand, parseOptions, positional } from '../command';

const options = {
  out: { type: 'string', value: '<dir>', description: 'where procver.manifest.json, procs.ts and procver.sql go (default: <dir>)' },
  schema: { type: 'string', value: '<name>', description: 'schema for unqualified names (default public)' },
  'database-url': {
    type: 'string',
    value: '<url>',
    description: 'read row types, domains and enums from that database for the typed calls in procs.ts (else they are typed unknown)',
  },
  'skip-other': { type: 'boolean', description: 'skip (and list) statements that belong to your migration tool: tables, indexes, views …' },
} as const;

export const command = defineCommand({
  name: 'compile',
  summary: 'Compile every .sql file under <dir>; write procver.manifest.json, procs.ts and procver.sql. Nothing is written if any file fails.',
  usage: ['compile <dir> [--out <dir>] [--schema <name>] [--database-url <url>] [--skip-other]'],
  options,
  async run(argv) {
    const { values, positionals } = parseOptions(options, argv, true);
    const dir = positional(positionals, 'source directory: procver compile <dir>');
    const [{ compileDirectory }, { writeOutputs }, { compileStatementLines }] = await Promise.all([
      import('../../compile/compile'),
      import('../../compile/outputs'),
      import('../statementsReport'),
    ]);
    const result = await compileDirectory(dir, { defaultSchema: values.schema, skipOther: values['skip-other'] });
    const databaseUrl = values['database-url'];
    const types = databaseUrl ? await (await import('../../compile/client/catalog')).readCatalog(databaseUrl, result) : undefined;
    const written = await writeOutputs(result, values.out ?? dir, { catalog: types?.catalog });
    console.log(`compiled ${result.versions.length} definition(s) from ${result.files} file(s)`);
    for (const line of compileStatementLines(result.statements)) console.log(line);
    if (types && types.missing.length > 0) console.log(`note: not in the database, typed unknown in procs.ts: ${types.missing.join(', ')}`);
    for (const w of written) console.log(`  wrote ${w}`);
    return 0;
  },
});
