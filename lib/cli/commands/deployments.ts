import { ProcverError } from '../../errors';
import { defineCommand, parseOptions, required } from '../command';
import { withDb } from '../db';
import { table } from '../print';

const options = {
  app: { type: 'string', value: '<app>', description: 'the frontend app' },
  id: { type: 'string', value: '<deployment-id>', description: 'the deployment (build) id' },
  manifest: { type: 'string', value: '<file>', description: "the build's procver.manifest.json" },
  live: { type: 'boolean', description: 'add: put it live at once (refused while it references retired or quarantined versions)' },
  override: { type: 'boolean', description: 'add --live: put it live although it references retired versions (audited); never past a quarantined one' },
  json: { type: 'boolean', description: 'list: print JSON' },
} as const;

export const command = defineCommand({
  name: 'deployments',
  summary:
    'Register frontend deployments (saying which versions are retired, quarantined or drifted), put one live (also how you roll back; the live one becomes previous), list them.',
  usage: [
    'deployments add --app <app> --id <deployment-id> --manifest <file> [--live] [--override]',
    'deployments live --app <app> --id <deployment-id>',
    'deployments list [--app <app>] [--json]',
  ],
  options,
  async run(argv) {
    const [sub, ...rest] = argv;
    const { values } = parseOptions(options, rest);
    const [{ actor }, { addDeployment, listDeployments, markLive }] = await Promise.all([import('../../config'), import('../../deployments')]);
    switch (sub) {
      case 'add': {
        const { readManifestFile } = await import('../manifestFile');
        const { checkDeploymentKey } = await import('../../deploymentNames');
        const { app, id } = checkDeploymentKey(required(values, 'app'), required(values, 'id'));
        const manifest = await readManifestFile(required(values, 'manifest'));
        const r = await withDb((db) =>
          addDeployment(db, { app, deploymentId: id, manifest, live: values.live === true, override: values.override === true, actor: actor() }),
        );
        console.log(`registered ${app}/${id} (${r.versions} version(s))${values.live ? ', now live' : ', pending'}`);
        for (const w of r.warnings) console.log(`  warning: ${w.problem} ${w.label}: ${w.message}`);
        return 0;
      }
      case 'live': {
        const app = required(values, 'app');
        const id = required(values, 'id');
        const r = await withDb((db) => markLive(db, app, id, actor()));
        console.log(`${app}/${id} is live${r.previous ? `; ${app}/${r.previous} is now previous (rollback target)` : ''}`);
        return 0;
      }
      case 'list': {
        const rows = await withDb((db) => listDeployments(db, values.app));
        if (values.json) {
          console.log(JSON.stringify(rows, null, 2));
          return 0;
        }
        if (rows.length === 0) {
          console.log('no deployments registered');
          return 0;
        }
        console.log(
          table(
            ['app', 'deployment', 'status', 'versions', 'retired', 'dropped', 'live since'],
            rows.map((r) => [r.app, r.deploymentId, r.status, String(r.versions), String(r.retired), String(r.dropped), r.liveAt?.toISOString() ?? '']),
          ),
        );
        return 0;
      }
      default:
        throw new ProcverError('invalid_input', 'usage: procver deployments add|live|list …');
    }
  },
});
