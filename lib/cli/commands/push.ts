import { resolve } from 'node:path';
import { defineCommand, parseOptions, positional } from '../command';
import { withDb } from '../db';
import { progressBar } from '../print';
import { printDrift } from '../printDrift';

const options = {
  schema: { type: 'string', value: '<name>', description: 'schema for unqualified names (default public)' },
  grant: { type: 'string', value: '<role,...>', description: 'roles granted EXECUTE on every new version (overrides PROCVER_GRANT_EXECUTE)' },
  'revoke-public': { type: 'boolean', description: "revoke PostgreSQL's default EXECUTE for PUBLIC on new versions" },
  'skip-other': { type: 'boolean', description: 'skip (and list) statements that belong to your migration tool: tables, indexes, views …' },
} as const;

export const command = defineCommand({
  name: 'push',
  summary:
    'Compile, then create every new version and record it in the registry (one transaction); dropped versions of the source are re-created; drifted ones are reported.',
  usage: ['push <dir> [--schema <name>] [--grant <role,...>] [--revoke-public] [--skip-other]'],
  options,
  async run(argv) {
    const { values, positionals } = parseOptions(options, argv, true);
    const dir = positional(positionals, 'source directory: procver push <dir>');
    const [{ compileDirectory }, { actor, grantPolicy }, { pushVersions }, { compileStatementLines, pushStatementLines }] = await Promise.all([
      import('../../compile/compile'),
      import('../../config'),
      import('../../push'),
      import('../statementsReport'),
    ]);
    const compiled = await compileDirectory(dir, { defaultSchema: values.schema, skipOther: values['skip-other'] });
    for (const line of compileStatementLines(compiled.statements)) console.log(line);
    const policy = grantPolicy();
    if (values.grant) policy.roles = values.grant.split(',').map((r) => r.trim()).filter(Boolean);
    if (values['revoke-public']) policy.publicExecute = false;
    const bar = progressBar('creating versions');
    const result = await withDb((db) =>
      pushVersions(db, compiled, { actor: actor(), grants: policy, sourceLabel: resolve(dir), onProgress: bar.update }),
    );
    bar.done();
    console.log(`pushed ${compiled.versions.length} version(s): ${result.created.length} created, ${result.recreated.length} re-created, ${result.unchanged} unchanged`);
    for (const c of result.created) console.log(`  + ${c}`);
    for (const c of result.recreated) console.log(`  ↺ ${c} (was dropped or missing; re-created from the registry's source)`);
    for (const line of pushStatementLines(result.statements)) console.log(line);
    printDrift(result.drifted, 'in this push');
    if (result.retired.length > 0) {
      console.log(`note: ${result.retired.length} version(s) in this push are retired and stay retired until restored:`);
      for (const r of result.retired) console.log(`  - ${r}`);
    }
    return 0;
  },
});
