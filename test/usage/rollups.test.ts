import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { qualifiedName } from '../../lib/compile/parser';
import { pushVersions } from '../../lib/push';
import { usageForVersions } from '../../lib/usage';
import { collectUsage } from '../../lib/usage/collect';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

const push = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' };

async function call(url: string, fn: string, n: number): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  for (let i = 0; i < n; i++) await c.query(`SELECT ${fn}(1)`);
  await c.query('SELECT pg_stat_force_next_flush()');
  await c.end();
}

describe('usage rollups', () => {
  let t: TestDatabase;
  let ids: { a: number; b: number; procA: number; sqlA: string; sqlB: string };
  beforeAll(async () => {
    t = await createTestDatabase();
    // Two versions of one procedure (app.f in two schemas would be two procedures): v1 and v2 of app.f.
    await pushVersions(t.db, await compileFiles({ 'f.sql': `CREATE FUNCTION app.f(x integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN x; END $$;` }), push);
    await pushVersions(
      t.db,
      await compileFiles({ 'f.sql': `CREATE FUNCTION app.f(x integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN x + 1; END $$;` }),
      push,
    );
    const vs = await t.db.query.versions.findMany({ orderBy: (v, { asc }) => [asc(v.id)] });
    ids = {
      a: vs[0]!.id,
      b: vs[1]!.id,
      procA: vs[0]!.procedureId,
      sqlA: qualifiedName(vs[0]!.schema, vs[0]!.physicalName),
      sqlB: qualifiedName(vs[1]!.schema, vs[1]!.physicalName),
    };
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]); // baseline
    await t.pool.query(`UPDATE procver.instances SET first_collected_at = now() - interval '40 days'`); // history covers every window
  });

  it('adds each pass to hourly and daily rows per version, and per procedure over its versions', async () => {
    await call(t.url, ids.sqlA, 3);
    await call(t.url, ids.sqlB, 4);
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    await call(t.url, ids.sqlB, 2);
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);

    const sum = async (q: string) => Number((await t.pool.query(q)).rows[0].n);
    expect(await sum(`SELECT sum(calls) AS n FROM procver.usage_hourly WHERE version_id = ${ids.b}`)).toBe(6);
    expect(await sum(`SELECT sum(calls) AS n FROM procver.usage_daily WHERE version_id = ${ids.b}`)).toBe(6);
    expect(await sum(`SELECT sum(calls) AS n FROM procver.usage_daily WHERE version_id = ${ids.a}`)).toBe(3);
    expect(await sum(`SELECT sum(calls) AS n FROM procver.procedure_calls_hourly WHERE procedure_id = ${ids.procA}`)).toBe(9);
    expect(await sum(`SELECT sum(calls) AS n FROM procver.procedure_calls_daily WHERE procedure_id = ${ids.procA}`)).toBe(9);
    // Each pass lands in the UTC hour and day of its reading (the server's clock, not this process's),
    // so the buckets are derived from the samples: a run across midnight gets two days, and still passes.
    const buckets = async (bucket: string, from: string) =>
      (await t.pool.query(`SELECT ${bucket}::text AS bucket, sum(calls)::int AS calls FROM ${from} WHERE version_id = $1 GROUP BY 1 ORDER BY 1`, [ids.b])).rows;
    const fromSamples = (unit: 'hour' | 'day') =>
      `(SELECT ${unit === 'day' ? `(sampled_at AT TIME ZONE 'UTC')::date` : `date_trunc('hour', sampled_at)`} AS b, calls_delta AS calls, version_id
        FROM procver.usage_samples WHERE calls_delta > 0) s`;
    const daily = await buckets('day', 'procver.usage_daily');
    expect(daily).toEqual(await buckets('b', fromSamples('day')));
    expect(daily.reduce((n, r) => n + r.calls, 0)).toBe(6);
    expect(await buckets('hour', 'procver.usage_hourly')).toEqual(await buckets('b', fromSamples('hour')));
  });

  it('reads 7d and 30d from daily rows, which outlive the hourly ones', async () => {
    // History from before the hourly retention: 20 calls eleven days ago, only in daily rows.
    await t.pool.query(
      `INSERT INTO procver.usage_daily (instance_id, version_id, day, calls, total_time, self_time)
       SELECT id, $1, (now() AT TIME ZONE 'UTC')::date - 11, 20, 2, 2 FROM procver.instances`,
      [ids.a],
    );
    await t.pool.query(
      `INSERT INTO procver.usage_hourly (instance_id, version_id, hour, calls, total_time, self_time)
       SELECT id, $1, date_trunc('hour', now()) - interval '11 days', 20, 2, 2 FROM procver.instances`,
      [ids.a],
    );
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }], { hourlyRetentionDays: 8 });
    const old = await t.pool.query(`SELECT count(*)::int AS n FROM procver.usage_hourly WHERE hour < now() - interval '8 days'`);
    expect(old.rows[0].n).toBe(0);

    const in24h = (await usageForVersions(t.db, [ids.a], '24h')).get(ids.a)!;
    const in7d = (await usageForVersions(t.db, [ids.a], '7d')).get(ids.a)!;
    const in30d = (await usageForVersions(t.db, [ids.a], '30d')).get(ids.a)!;
    expect([in24h.calls, in7d.calls, in30d.calls]).toEqual([3, 3, 23]);
  });
});
