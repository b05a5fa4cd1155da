import { describe, expect, it } from 'vitest';
import { migrate, pendingMigrations, registryMigrations, requireMigrated } from '../../lib/db/migrate';
import { pushVersions } from '../../lib/push';
import { createTestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

describe('registry migrations', () => {
  it('refuses to work on a database without the registry, then migrates once', async () => {
    const t = await createTestDatabase({ migrated: false });
    await expect(requireMigrated(t.pool)).rejects.toThrow(/run `procver migrate` first/);
    expect(await migrate(t.pool)).toBe(registryMigrations().length);
    expect(await migrate(t.pool)).toBe(0);
    await expect(requireMigrated(t.pool)).resolves.toBeUndefined();
    const tables = await t.pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'procver' ORDER BY 1`);
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['audit_log', 'deployment_versions', 'deployments', 'instances', 'procedures', 'usage_samples', 'versions']),
    );
  });

  it('is safe when two processes migrate at once', async () => {
    const t = await createTestDatabase({ migrated: false });
    const applied = await Promise.all([migrate(t.pool), migrate(t.pool), migrate(t.pool)]);
    expect(applied.reduce((a, b) => a + b, 0)).toBe(registryMigrations().length);
    expect(await pendingMigrations(t.pool)).toEqual([]);
  });

  it('stores no regprocedure or other reg* columns (pg_upgrade refuses them)', async () => {
    const t = await createTestDatabase();
    const r = await t.pool.query(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'procver' AND udt_name LIKE 'reg%'`,
    );
    expect(r.rows).toEqual([]);
  });

  it('derives the daily, per-procedure and all-time rollups from the hourly rows of an older registry', async () => {
    const t = await createTestDatabase({ migrated: false });
    const before = registryMigrations().findIndex((m) => m.sql.some((q) => q.includes('"usage_daily"')));
    expect(before).toBe(2); // 0002_usage_rollups: the registry before it had hourly rows only
    await migrate(t.pool, { upTo: before });
    const compiled = await compileFiles({
      'f.sql': `CREATE FUNCTION app.f() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
CREATE FUNCTION app.g() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 2; END $$;`,
    });
    await pushVersions(t.db, compiled, { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' });
    await t.pool.query(`INSERT INTO procver.instances (label, host, port, role) VALUES ('a', 'a', 1, 'primary'), ('b', 'b', 1, 'replica')`);
    // 23:00 and 01:00 UTC fall on two days; two instances and two versions add up per procedure.
    await t.pool.query(`
      INSERT INTO procver.usage_hourly (instance_id, version_id, hour, calls, total_time, self_time)
      SELECT i.id, v.id, h, 10 * i.id + v.id, 1, 1
      FROM procver.instances i, procver.versions v, unnest(ARRAY['2026-11-20 23:00Z', '2026-11-21 01:00Z', '2026-11-21 02:00Z']::timestamptz[]) h`);
    await migrate(t.pool);

    const daily = await t.pool.query(`
      SELECT v.physical_name LIKE 'f\\_\\_%' AS f, d.day::text, sum(d.calls)::int AS calls
      FROM procver.usage_daily d JOIN procver.versions v ON v.id = d.version_id GROUP BY 1, 2 ORDER BY 1 DESC, 2`);
    const hourly = await t.pool.query(`
      SELECT v.physical_name LIKE 'f\\_\\_%' AS f, (h.hour AT TIME ZONE 'UTC')::date::text AS day, sum(h.calls)::int AS calls
      FROM procver.usage_hourly h JOIN procver.versions v ON v.id = h.version_id GROUP BY 1, 2 ORDER BY 1 DESC, 2`);
    expect(daily.rows).toEqual(hourly.rows);
    expect(daily.rows.map((r) => r.day)).toEqual(['2026-11-20', '2026-11-21', '2026-11-20', '2026-11-21']);
    const perProcedure = await t.pool.query(`SELECT day::text, sum(calls)::int AS calls FROM procver.procedure_calls_daily GROUP BY 1 ORDER BY 1`);
    const total = await t.pool.query(`SELECT (hour AT TIME ZONE 'UTC')::date::text AS day, sum(calls)::int AS calls FROM procver.usage_hourly GROUP BY 1 ORDER BY 1`);
    expect(perProcedure.rows).toEqual(total.rows);
    const hours = await t.pool.query(`SELECT count(*)::int AS n, count(DISTINCT procedure_id)::int AS procs FROM procver.procedure_calls_hourly`);
    expect(hours.rows[0]).toEqual({ n: 6, procs: 2 });
    // The all-time totals (the Prometheus counters) start from the same history.
    const totals = await t.pool.query(`SELECT version_id::int, instance_id, calls::int FROM procver.usage_totals ORDER BY 1, 2`);
    const sums = await t.pool.query(`SELECT version_id::int, instance_id, sum(calls)::int AS calls FROM procver.usage_hourly GROUP BY 1, 2 ORDER BY 1, 2`);
    expect(totals.rows).toHaveLength(4);
    expect(totals.rows).toEqual(sums.rows);
  });
});
