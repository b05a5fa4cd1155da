import { defineCommand, parseOptions } from '../command';
import { withDb } from '../db';
import { progressBar } from '../print';

const options = {
  apply: { type: 'boolean', description: 'carry out the plan (default: print it only)' },
  json: { type: 'boolean', description: 'print the plan and the results as JSON' },
  'quiet-window': { type: 'string', value: '<7d>', description: 'how long a retired version must be silent (overrides PROCVER_QUIET_WINDOW)' },
  quarantine: { type: 'string', value: '<1d>', description: 'how long a quarantined version waits before the drop (overrides PROCVER_QUARANTINE)' },
} as const;

export const command = defineCommand({
  name: 'cleanup',
  summary:
    'Plan (default) or carry out the removal of retired versions: every check is printed; a version is renamed into quarantine first and dropped only after it stayed silent.',
  usage: ['cleanup [--apply] [--json] [--quiet-window <7d>] [--quarantine <1d>]'],
  options,
  async run(argv) {
    const { values } = parseOptions(options, argv);
    const [{ actor, usageTargets }, { runCleanup }, { cleanupConfig }, { printPlan }] = await Promise.all([
      import('../../config'),
      import('../../cleanup/apply'),
      import('../../cleanup/config'),
      import('../cleanupPlan'),
    ]);
    const config = cleanupConfig(undefined, { quietWindow: values['quiet-window'], quarantine: values.quarantine });
    const targets = usageTargets();
    return withDb(async (db) => {
      const bars = { apply: progressBar('quarantining and dropping'), retire: progressBar('retiring by the retention policy') };
      if (process.stderr.isTTY) process.stderr.write('checking every retired version…\n');
      const { plan, results, retired } = await runCleanup(db, targets, config, {
        apply: values.apply === true,
        actor: actor(),
        onProgress: (step, done, total) => {
          bars[step].update(done, total);
          if (done === total) bars[step].done();
        },
      });
      if (values.json) {
        console.log(JSON.stringify({ plan, results, retired }, null, 2));
        return 0;
      }
      printPlan(plan, values.apply === true);
      for (const r of [...results, ...retired]) console.log(`${r.outcome.padEnd(11)} ${r.schema}.${r.physicalName}: ${r.detail}`);
      return 0;
    });
  },
});
