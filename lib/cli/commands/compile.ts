import { defineCommand, parseOptions, positional } from '../command';
import { compileArgOptions, compileOptionsFrom, printCompileMessages } from '../compileOptions';

const options = {
  out: { type: 'string', value: '<dir>', description: 'where procver.manifest.json, procs.ts and procver.sql go (default: <dir>)' },
  ...compileArgOptions,
  'database-url': {
    type: 'string',
    value: '<url>',
    description: 'read row types, domains and enums from that database for the typed calls in procs.ts (else they are typed unknown)',
  },
} as const;

export const command = defineCommand({
  name: 'compile',
  summary:
    'Compile every .sql file under <dir> (default: "sources" in procver.config.json); write procver.manifest.json, procs.ts and procver.sql. Nothing is written if any file fails.',
  usage: ['compile [<dir>] [--out <dir>] [--schema <name>] [--search-path <path>] [--strict] [--skip-other] [--database-url <url>]'],
  options,
  async run(argv) {
    const { values, positionals } = parseOptions(options, argv, true);
    const [{ compileDirectory }, { writeOutputs }, { fileSettings }] = await Promise.all([
      import('../../compile/compile'),
      import('../../compile/outputs'),
      import('../../config'),
    ]);
    const file = fileSettings();
    const dir = positionals[0] ?? file.sources ?? positional(positionals, 'source directory: procver compile <dir> (or "sources" in procver.config.json)');
    const result = await compileDirectory(dir, compileOptionsFrom(values));
    printCompileMessages(result);
    const databaseUrl = values['database-url'];
    const types = databaseUrl ? await (await import('../../compile/client/catalog')).readCatalog(databaseUrl, result) : undefined;
    const written = await writeOutputs(result, values.out ?? file.out ?? dir, { catalog: types?.catalog });
    console.log(`compiled ${result.versions.length} definition(s) from ${result.files} file(s)`);
    if (types && types.missing.length > 0) console.log(`note: not in the database, typed unknown in procs.ts: ${types.missing.join(', ')}`);
    for (const w of written) console.log(`  wrote ${w}`);
    return 0;
  },
});
