import { defineCommand, parseOptions, positional } from '../command';

const options = {
  out: { type: 'string', value: '<dir>', description: 'where procver.manifest.json, procs.ts and procver.sql go (default: <dir>)' },
  schema: { type: 'string', value: '<name>', description: 'schema for unqualified names (default public)' },
} as const;

export const command = defineCommand({
  name: 'compile',
  summary:
    'Compile every .sql file under <dir> (default: "sources" in procver.config.json); write procver.manifest.json, procs.ts and procver.sql. Nothing is written if any file fails.',
  usage: ['compile [<dir>] [--out <dir>] [--schema <name>]'],
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
    const result = await compileDirectory(dir, { defaultSchema: values.schema ?? file.schema });
    const written = await writeOutputs(result, values.out ?? file.out ?? dir);
    console.log(`compiled ${result.versions.length} definition(s) from ${result.files} file(s)`);
    for (const w of written) console.log(`  wrote ${w}`);
    return 0;
  },
});
