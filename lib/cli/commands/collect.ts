import { ProcverError } from '../../errors';
import type { InstanceResult } from '../../usage/collect';
import { defineCommand, parseOptions } from '../command';
import { withDb } from '../db';
import { evidenceSettings } from '../../usage/evidence';
import { parseDuration } from '../../durations';

const options = {
  once: { type: 'boolean', description: 'collect once and exit (for cron); exit 1 if an instance could not be read' },
  interval: {
    type: 'string',
    value: '<duration>',
    description: 'time between collections when long-running, as PROCVER_COLLECT_INTERVAL writes it (30s, 5m) or bare seconds (default PROCVER_COLLECT_INTERVAL, 30s)',
  },
} as const;

/**
 * The collector's interval: --interval (a duration like PROCVER_COLLECT_INTERVAL's, or bare seconds),
 * else PROCVER_COLLECT_INTERVAL, the same interval cleanup assumes when it refuses windows too short to resolve.
 */
export function collectIntervalMs(flag: string | undefined): number {
  const ms = flag === undefined ? evidenceSettings().collectIntervalMs : parseDuration(flag, '--interval', { bareSeconds: true });
  if (ms <= 0) throw new ProcverError('invalid_input', `--interval must be longer than 0 (got "${flag}")`);
  return ms;
}

function printCollect(results: InstanceResult[]): void {
  for (const r of results) {
    if (r.ok) {
      const events = r.events.length > 0 ? `; events: ${[...new Set(r.events)].join(', ')}` : '';
      console.log(`${r.role} ${r.label}: ${r.versionsSeen} version(s) with counters, +${r.calls} call(s)${events}`);
    } else console.error(`${r.role} ${r.label}: GAP: ${r.error}`);
    for (const w of r.warnings) console.error(`  warning: ${w}`);
  }
}

export const command = defineCommand({
  name: 'collect',
  summary:
    'Read call counters (pg_stat_user_functions) from the primary and PROCVER_REPLICA_URLS into the registry; every --interval seconds until SIGTERM, or once (cron). Warns about drifted versions.',
  usage: ['collect [--once] [--interval <duration>]'],
  options,
  async run(argv) {
    const { values } = parseOptions(options, argv);
    const interval = collectIntervalMs(values.interval) / 1000;
    const [{ usageRetention, usageTargets }, { CounterCache, collectUsage }, { driftWatcher }] = await Promise.all([
      import('../../config'),
      import('../../usage/collect'),
      import('../printDrift'),
    ]);
    const targets = usageTargets();
    const retention = usageRetention();
    return withDb(async (db) => {
      const drift = driftWatcher(db);
      if (values.once) {
        const results = await collectUsage(db, targets, retention);
        printCollect(results);
        await drift();
        return results.every((r) => r.ok) ? 0 : 1;
      }
      let stop = false;
      let wake: (() => void) | undefined;
      const onSignal = () => {
        stop = true;
        wake?.();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      console.log(`collecting from ${targets.length} instance(s) every ${interval} s; stop with SIGTERM or Ctrl-C`);
      // A long-running collector keeps the counters it wrote instead of reading them back each pass.
      const cache = new CounterCache();
      while (!stop) {
        printCollect(await collectUsage(db, targets, retention, cache));
        await drift();
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, interval * 1000).unref();
        });
      }
      console.log('collector stopped');
      return 0;
    });
  },
});
