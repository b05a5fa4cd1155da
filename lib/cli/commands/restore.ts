import { defineCommand, parseOptions, positional, required } from '../command';
import { withDb } from '../db';

const options = {
  reason: { type: 'string', value: '<text>', description: 'why (recorded in the audit log)' },
  deployment: { type: 'string', value: '<app>/<id>', description: 'restore every retired or dropped version this deployment references' },
} as const;

export const command = defineCommand({
  name: 'restore',
  summary:
    'Put a version back to live: a retired one at once, a quarantined one renamed back, a dropped one re-created exactly; quarantined or dropped versions it calls come back first. With --deployment: every retired or dropped version that deployment references (before rolling back to it), in one transaction.',
  usage: ['restore <physical-name> --reason <text>', 'restore --deployment <app>/<id> --reason <text>'],
  options,
  async run(argv) {
    const { values, positionals } = parseOptions(options, argv, true);
    const [{ actor }, { restoreDeploymentVersions }, { restoreVersion }] = await Promise.all([
      import('../../config'),
      import('../../deployments'),
      import('../../versions'),
    ]);
    if (values.deployment) {
      const { parseDeploymentRef } = await import('../../deploymentNames');
      const { app, id } = parseDeploymentRef(values.deployment);
      const reason = required(values, 'reason');
      const restored = await withDb((db) => restoreDeploymentVersions(db, app, id, reason, actor()));
      console.log(restored.length === 0 ? `${app}/${id} references no retired or dropped version` : `restored ${restored.length} version(s) for ${app}/${id}:`);
      for (const r of restored) console.log(`  ${r.name}${r.calledBy ? ` (called by ${r.calledBy})` : ''}`);
      return 0;
    }
    const name = positional(positionals, 'version: procver restore <physical-name> --reason <text>');
    const reason = required(values, 'reason');
    const r = await withDb((db) => restoreVersion(db, { name, reason, actor: actor() }));
    console.log(`${r.schema}.${r.physicalName} is ${r.status}`);
    for (const d of r.overriddenDeployments) console.log(`  warning: still referenced by ${d}`);
    for (const c of r.restoredCallees) console.log(`  also restored ${c}, which it calls (cleanup had quarantined or dropped it)`);
    return 0;
  },
});
