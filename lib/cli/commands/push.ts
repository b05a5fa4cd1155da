import { resolve } from 'node:path';
import { defineCommand, parseOptions, positional } from '../command';
import { compileArgOptions, compileOptionsFrom, printCompileMessages } from '../compileOptions';
import { withDb } from '../db';
import { progressBar } from '../print';
import { pushStatementLines } from '../statementsReport';

const options = {
  ...compileArgOptions,
  grant: { type: 'string', value: '<role,...>', description: 'roles granted EXECUTE on every new version (overrides PROCVER_GRANT_EXECUTE)' },
  'revoke-public': { type: 'boolean', description: "revoke PostgreSQL's default EXECUTE for PUBLIC on new versions" },
} as const;

export const command = defineCommand({
  name: 'push',
  summary:
    'Compile, then create every new version and record it in the registry (one transaction); dropped versions of the source are re-created; drifted ones are reported.',
  usage: ['push [<dir>] [--schema <name>] [--search-path <path>] [--strict] [--skip-other] [--grant <role,...>] [--revoke-public]'],
  options,
  async run(argv) {
    const { values, positionals } = parseOptions(options, argv, true);
    const [{ compileDirectory }, { actor, fileSettings, grantPolicy }, { pushVersions }, { printDrift }] = await Promise.all([
      import('../../compile/compile'),
      import('../../config'),
      import('../../push'),
      import('../printDrift'),
    ]);
    const file = fileSettings();
    const dir = positionals[0] ?? file.sources ?? positional(positionals, 'source directory: procver push <dir> (or "sources" in procver.config.json)');
    const compiled = await compileDirectory(dir, compileOptionsFrom(values));
    printCompileMessages(compiled);
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
    for (const c of result.recreated) console.log(`  ↺ ${c} (was dropped or missing; re-created from the registry's source)`);
    for (const line of pushStatementLines(result.statements)) console.log(line);
    printDrift(result.drifted, 'in this push');
    if (result.rehashed.length > 0) {
      const { HASH_SCHEME } = await import('../../compile/normalize');
      console.log(
        `note: ${result.rehashed.length} procedure(s) got a new version because procver's hash rules changed (hash scheme ${HASH_SCHEME}); the code may be the same as their current version, which stays until retired:`,
      );
      for (const r of result.rehashed) console.log(`  ~ ${r}`);
    }
    if (result.retired.length > 0) {
      console.log(`note: ${result.retired.length} version(s) in this push are retired and stay retired until restored:`);
      for (const r of result.retired) console.log(`  - ${r}`);
    }
    return 0;
  },
});
