import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { cleanupConfig } from '../../lib/cleanup/config';
import { previewPlan, type PlanPreview } from '../../lib/cleanup/preview';
import { qualifiedName } from '../../lib/compile/parser';
import { readEnv } from '../../lib/config';
import { pushVersions } from '../../lib/push';
import { collectUsage } from '../../lib/usage/collect';
import type { InstanceTarget } from '../../lib/usage/readInstance';
import { retireVersion } from '../../lib/versions';
import { procver } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

const config = cleanupConfig(readEnv({ PROCVER_STATS_FLUSH_DELAY: '1s', PROCVER_COLLECT_INTERVAL: '1s', PROCVER_USAGE_STALE_AFTER: '1s' }), {
  quietWindow: '2s',
  quarantine: '2s',
});
/** A collection interval no busy machine outlasts between two calls ("within the bound", for sure), and windows it can resolve. */
const longInterval = { ...config, collectIntervalMs: 3_600_000, quietWindowMs: 7_200_000, quarantineMs: 7_200_000 };
const viewer = { role: 'viewer' } as const;
const operator = { role: 'operator' } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A database with one retired function, app.f_…(x integer), and its targets; nothing read yet. */
async function scene() {
  const t = await createTestDatabase();
  const c = await compileFiles({ 'a.sql': 'CREATE FUNCTION app.f(x integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN x; END $$;' });
  await pushVersions(t.db, c, { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' });
  const v = c.versions[0]!;
  await retireVersion(t.db, { name: v.physicalName, reason: 'test', actor: 'test' });
  const targets: InstanceTarget[] = [{ url: t.url, role: 'primary' }];
  return { t, targets, physical: v.physicalName, sql: qualifiedName(v.schema, v.physicalName) };
}

/** Calls the function once and publishes the counter, so that any reading taken after it writes a sample. */
async function call(t: TestDatabase, sql: string) {
  const c = new pg.Client({ connectionString: t.url });
  await c.connect();
  try {
    await c.query(`SELECT ${sql}(1)`);
    await c.query('SELECT pg_stat_force_next_flush()');
  } finally {
    await c.end();
  }
}

/** Everything a reading writes: the instances' rows, counters, samples, events and rollups. */
async function readingRows(t: TestDatabase) {
  const r = await t.pool.query(`SELECT
    (SELECT coalesce(json_agg(i ORDER BY i.id), '[]') FROM procver.instances i) AS instances,
    (SELECT coalesce(json_agg(c ORDER BY c.instance_id, c.version_id), '[]') FROM procver.usage_counters c) AS counters,
    (SELECT count(*)::int FROM procver.usage_samples) AS samples,
    (SELECT count(*)::int FROM procver.usage_events) AS events,
    (SELECT count(*)::int FROM procver.usage_hourly) AS hourly`);
  return r.rows[0] as { instances: { last_attempt_at: string; last_collected_at: string }[]; counters: unknown[]; samples: number; events: number; hourly: number };
}

async function lastCollectedAt(t: TestDatabase): Promise<Date> {
  return (await t.pool.query<{ at: Date }>('SELECT last_collected_at AS at FROM procver.instances')).rows[0]!.at;
}

function withPlan(p: PlanPreview) {
  if (p.reading === 'none') throw new Error('expected a plan, got none');
  return p;
}

describe('cleanup preview: who takes a reading', () => {
  it('a viewer takes none: with no reading yet there is no plan, and nothing is written', async () => {
    const s = await scene();
    const before = await readingRows(s.t);
    expect(before).toEqual({ instances: [], counters: [], samples: 0, events: 0, hourly: 0 });
    expect(await previewPlan(s.t.db, s.targets, config, viewer)).toEqual({ reading: 'none' });
    expect(await readingRows(s.t)).toEqual(before);
  });

  it('a viewer sees the plan from the stored reading and its time, writing nothing; a stale one makes usage unknown', async () => {
    const s = await scene();
    await collectUsage(s.t.db, s.targets);
    await call(s.t, s.sql); // a reading now would write the moved counter
    const before = await readingRows(s.t);
    const p = withPlan(await previewPlan(s.t.db, s.targets, config, viewer));
    expect(p.reading).toBe('stored');
    expect(p.readAt).toEqual(await lastCollectedAt(s.t));
    expect(p.plan.rows.map((r) => r.physicalName)).toEqual([s.physical]);
    expect(await readingRows(s.t)).toEqual(before);

    // Older than PROCVER_USAGE_STALE_AFTER (1s here): the stored reading does not count as silence.
    await sleep(1100);
    const stale = withPlan(await previewPlan(s.t.db, s.targets, config, viewer));
    const usage = stale.plan.rows[0]!.checks.find((c) => c.name === 'usage')!;
    expect(usage.verdict).toBe('unknown');
    expect(usage.detail.join(' ')).toMatch(/was last read \d+s ago/);
    expect(await readingRows(s.t)).toEqual(before);

    // The same registry as an operator sees it: the reading the viewer was spared is written.
    expect((await previewPlan(s.t.db, s.targets, config, operator)).reading).toBe('taken');
    const after = await readingRows(s.t);
    expect(after.samples).toBe(before.samples + 1);
    expect(new Date(after.instances[0]!.last_collected_at).getTime()).toBeGreaterThan(new Date(before.instances[0]!.last_collected_at).getTime());
  });

  it('an operator takes a reading, and reuses it while it is younger than the collection interval', async () => {
    const s = await scene();
    const first = withPlan(await previewPlan(s.t.db, s.targets, longInterval, operator));
    expect(first.reading).toBe('taken');
    expect(first.readAt).toEqual(await lastCollectedAt(s.t));
    const taken = await readingRows(s.t);
    expect(taken.instances).toHaveLength(1);

    await call(s.t, s.sql);
    const second = withPlan(await previewPlan(s.t.db, s.targets, longInterval, operator));
    expect(second.reading).toBe('reused');
    expect(second.readAt).toEqual(first.readAt);
    expect(await readingRows(s.t)).toEqual(taken); // the call is not read: no second reading

    // Past the interval (1s), the next view reads again, and sees the call.
    await sleep(1100);
    const third = withPlan(await previewPlan(s.t.db, s.targets, config, operator));
    expect(third.reading).toBe('taken');
    expect(third.readAt!.getTime()).toBeGreaterThan(first.readAt!.getTime());
    expect((await readingRows(s.t)).samples).toBe(taken.samples + 1);
  });

  it('operators arriving together share one reading', async () => {
    const s = await scene();
    const views = await Promise.all([1, 2, 3].map(() => previewPlan(s.t.db, s.targets, longInterval, operator).then(withPlan)));
    expect(views.map((v) => v.reading).sort()).toEqual(['reused', 'reused', 'taken']);
    const at = await lastCollectedAt(s.t);
    expect(views.map((v) => v.readAt)).toEqual([at, at, at]);
  });

  it('the CLI plan reads every instance each time, however recent the last reading', async () => {
    const s = await scene();
    const env = { DATABASE_URL: s.t.url, PROCVER_STATS_FLUSH_DELAY: '1s', PROCVER_COLLECT_INTERVAL: '1h' };
    const attempts: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await procver(['cleanup', '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      attempts.push((await readingRows(s.t)).instances[0]!.last_attempt_at);
    }
    expect(new Date(attempts[1]!).getTime()).toBeGreaterThan(new Date(attempts[0]!).getTime());
  });
});
