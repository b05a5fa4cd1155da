import { defineCommand, parseOptions, positional, required } from '../command';
import { withDb } from '../db';

const options = {
  reason: { type: 'string', value: '<text>', description: 'why (recorded in the audit log)' },
  override: { type: 'boolean', description: 'retire even while a live or pending deployment, a binding or an entry point uses it (the audit log records that)' },
} as const;

export const command = defineCommand({
  name: 'retire',
  summary: 'Mark a version retired (refused while a live or pending deployment, a binding or an entry point uses it, unless --override, which the audit log records).',
  usage: ['retire <physical-name> --reason <text> [--override]'],
  options,
  async run(argv) {
    const { values, positionals } = parseOptions(options, argv, true);
    const name = positional(positionals, 'version: procver retire <physical-name> --reason <text>');
    const reason = required(values, 'reason');
    const [{ actor }, { retireVersion }] = await Promise.all([import('../../config'), import('../../versions')]);
    const r = await withDb((db) => retireVersion(db, { name, reason, actor: actor(), override: values.override === true }));
    console.log(`${r.schema}.${r.physicalName} is ${r.status}`);
    for (const d of r.overriddenDeployments) console.log(`  warning: still referenced by ${d}`);
    return 0;
  },
});
