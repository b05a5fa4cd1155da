import { defineCommand, parseOptions, required } from '../command';
import { withDb } from '../db';

const options = {
  manifest: { type: 'string', value: '<file>', description: "the build's procver.manifest.json" },
  json: { type: 'boolean', description: 'print the result as JSON' },
} as const;

export const command = defineCommand({
  name: 'check',
  summary: 'CI gate: exit 0 when every version the manifest references exists, is live and has not drifted; exit 1 listing the others and what brings each back.',
  usage: ['check --manifest <file> [--json]'],
  options,
  async run(argv) {
    const { values } = parseOptions(options, argv);
    const [{ readManifestFile }, { checkManifest }] = await Promise.all([import('../manifestFile'), import('../../manifests')]);
    const manifest = await readManifestFile(required(values, 'manifest'));
    const result = await withDb((db) => checkManifest(db, manifest));
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else if (result.ok) console.log(`ok: all ${result.total} referenced version(s) exist and are live`);
    else {
      console.error(`${result.problems.length} of ${result.total} referenced version(s) are not deployable:`);
      for (const p of result.problems) console.error(`  ${p.label}: ${p.message}`);
    }
    return result.ok ? 0 : 1;
  },
});
