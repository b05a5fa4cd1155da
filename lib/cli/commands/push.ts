import { resolve } from 'node:path';
import { defineCommand, parseOptions, positional } from '../command';
import { withDb } from '../db';
import { progressBar } from '../print';

const options = {
  schema: { type: 'string', value: '<name>', description: 'schema for unqualified names (default public)' },
  grant: { type: 'string', value: '<role,...>', description: 'roles granted EXECUTE on every new version (overrides PROCVER_GRANT_EXECUTE)' },
  'revoke-public': { type: 'boolean', description: "revoke PostgreSQL's default EXECUTE for PUBLIC on new versions" },
} as const;

export const command = defineCommand({
  name: 'push',
  summary: 'Compile, then create every new version and record it in the registry (one transaction).',
  usage: ['push [<dir>] [--schema <name>] [--grant <role,...>] [--revoke-public]'],
  options,
  async run(argv) {
    const { values, positionals } = parseOptions(options, argv, true);
    const [{ compileDirectory }, { actor, fileSettings, grantPolicy }, { pushVersions }] = await Promise.all([
      import('../../compile/compile'),
      import('../../config'),
      import('../../push'),
    ]);
    const file = fileSettings();
    const dir = positionals[0] ?? file.sources ?? positional(positionals, 'source directory: procver push <dir> (or "sources" in procver.config.json)');
    const compiled = await compileDirectory(dir, { defaultSchema: values.schema ?? file.schema });
    const policy = grantPolicy();
    if (values.grant)
      policy.roles = values.grant
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean);
    if (values['revoke-public']) policy.publicExecute = false;
    const bar = progressBar('creating versions');
    const result = await withDb((db) => pushVersions(db, compiled, { actor: actor(), grants: policy, sourceLabel: resolve(dir), onProgress: bar.update }));
    bar.done();
    console.log(`pushed ${compiled.versions.length} version(s): ${result.created.length} created, ${result.recreated.length} re-created, ${result.unchanged} unchanged`);
    for (const c of result.created) console.log(`  + ${c}`);
    for (const c of result.recreated) console.log(`  ↺ ${c} (was dropped or missing)`);
    if (result.retired.length > 0) {
      console.log(`note: ${result.retired.length} version(s) in this push are retired and stay retired until restored:`);
      for (const r of result.retired) console.log(`  - ${r}`);
    }
    return 0;
  },
});
