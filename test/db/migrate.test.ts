import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate, registryMigrations, registryState, requireMigrated, unknownMigrationsMessage } from '../../lib/db/migrate';
import { readiness } from '../../lib/ready';
import { findDrift } from '../../lib/drift';
import { createTestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

/**
 * What a push did on an older registry: the functions and their registry rows, written with the
 * columns every registry version has (today's push writes today's columns).
 */
async function pushToOlderRegistry(pool: pg.Pool, files: Record<string, string>): Promise<void> {
  const compiled = await compileFiles(files);
  for (const v of compiled.versions) {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${v.schema}`);
    await pool.query(v.source);
    await pool.query(
      `WITH p AS (INSERT INTO procver.procedures (schema, name, args, kind) VALUES ($1, $2, $3, $4) RETURNING id)
       INSERT INTO procver.versions (procedure_id, hash, schema, physical_name, language, source, normalized, pushed_by)
       SELECT p.id, $5, $1, $6, $7, $8, $9, 'test' FROM p`,
      [v.schema, v.name, v.args, v.kind, v.hash, v.physicalName, v.language, v.source, v.normalized],
    );
  }
}

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

  it('refuses to work on a registry a newer procver migrated, naming the fix', async () => {
    const t = await createTestDatabase();
    await expect(requireMigrated(t.pool)).resolves.toBeUndefined();
    await t.pool.query(`INSERT INTO procver.__drizzle_migrations (hash, created_at) VALUES ('a-migration-from-a-newer-procver', 0)`);
    await expect(requireMigrated(t.pool)).rejects.toMatchObject({
      code: 'not_migrated',
      message:
        'the procver registry in this database has 1 migration(s) this procver does not know: a newer procver (or another build) migrated it; run that procver, or upgrade this one (every procver that works on one registry must be the same version)',
    });
    // The dashboard's readiness says the same: a load balancer sends it no traffic.
    const ready = await readiness(t.pool, 60_000);
    expect(ready.ready).toBe(false);
    expect(ready.checks.registry).toEqual({ ok: false, detail: unknownMigrationsMessage(1) });
  });

  it('gives versions quarantined before it a quarantine WAL position, and no other version one', async () => {
    const t = await createTestDatabase({ migrated: false });
    const before = registryMigrations().findIndex((m) => m.sql.some((q) => q.includes('"quarantine_barrier_lsn" = pg_current_wal_insert_lsn()')));
    expect(before).toBeGreaterThan(0);
    await migrate(t.pool, { upTo: before });
    await pushToOlderRegistry(t.pool, {
      'f.sql': `CREATE FUNCTION app.f() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
CREATE FUNCTION app.g() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 2; END $$;
CREATE FUNCTION app.h() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 3; END $$;`,
    });
    // f quarantined (as cleanup left it), g retired only, h live
    await t.pool.query(`UPDATE procver.versions SET status = 'retired' WHERE physical_name NOT LIKE 'h\\_\\_%';
      UPDATE procver.versions SET quarantine_name = physical_name || '__quarantined', quarantined_at = now(), quarantine_barrier_at = now()
      WHERE physical_name LIKE 'f\\_\\_%'`);
    const lsn = (await t.pool.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn;
    await migrate(t.pool);
    const r = await t.pool.query(`SELECT left(physical_name, 1) AS v, quarantine_barrier_lsn >= $1::pg_lsn AS after FROM procver.versions ORDER BY 1`, [lsn]);
    expect(r.rows).toEqual([
      { v: 'f', after: true },
      { v: 'g', after: null },
      { v: 'h', after: null },
    ]);
  });

  it('is safe when two processes migrate at once', async () => {
    const t = await createTestDatabase({ migrated: false });
    const applied = await Promise.all([migrate(t.pool), migrate(t.pool), migrate(t.pool)]);
    expect(applied.reduce((a, b) => a + b, 0)).toBe(registryMigrations().length);
    expect(await registryState(t.pool)).toEqual({ pending: 0, unknown: 0 });
  });

  it('stores no regprocedure or other reg* columns (pg_upgrade refuses them)', async () => {
    const t = await createTestDatabase();
    const r = await t.pool.query(`SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'procver' AND udt_name LIKE 'reg%'`);
    expect(r.rows).toEqual([]);
  });

  it('derives the daily, per-procedure and all-time rollups from the hourly rows of an older registry', async () => {
    const t = await createTestDatabase({ migrated: false });
    const before = registryMigrations().findIndex((m) => m.sql.some((q) => q.includes('"usage_daily"')));
    expect(before).toBe(2); // 0002_usage_rollups: the registry before it had hourly rows only
    await migrate(t.pool, { upTo: before });
    await pushToOlderRegistry(t.pool, {
      'f.sql': `CREATE FUNCTION app.f() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
CREATE FUNCTION app.g() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 2; END $$;`,
    });
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

  it('records the code of versions pushed before drift detection as their baseline: no drift, until someone changes one', async () => {
    const t = await createTestDatabase({ migrated: false });
    const before = registryMigrations().findIndex((m) => m.sql.some((q) => q.includes('"code_fingerprint"')));
    expect(before).toBeGreaterThan(0);
    await migrate(t.pool, { upTo: before });
    await pushToOlderRegistry(t.pool, {
      'f.sql': `CREATE FUNCTION app.f(n integer DEFAULT 2) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN n; END $$;
CREATE PROCEDURE app.p() LANGUAGE sql BEGIN ATOMIC SELECT 1; END;`,
    });
    await migrate(t.pool);
    const r = await t.pool.query(`SELECT count(*)::int AS n FROM procver.versions WHERE code_fingerprint IS NULL OR code_xmin IS NULL`);
    expect(r.rows[0].n).toBe(0);
    expect((await findDrift(t.db)).size).toBe(0);
    await t.pool.query(`DO $$ BEGIN EXECUTE format('CREATE OR REPLACE FUNCTION app.%I(n integer DEFAULT 2) RETURNS integer LANGUAGE plpgsql AS ''BEGIN RETURN 3; END''',
      (SELECT physical_name FROM procver.versions WHERE physical_name LIKE 'f\\_\\_%')); END $$`);
    expect([...(await findDrift(t.db)).values()].map((d) => d.physicalName)).toEqual([expect.stringMatching(/^f__/)]);
  });

  it('records the pg_proc xmin of versions fingerprinted before it was kept, except where the code drifted meanwhile', async () => {
    const t = await createTestDatabase({ migrated: false });
    const before = registryMigrations().findIndex((m) => m.sql.some((q) => q.includes('"code_xmin" = p.xmin')));
    expect(before).toBeGreaterThan(0);
    await migrate(t.pool, { upTo: before });
    await pushToOlderRegistry(t.pool, {
      'f.sql': `CREATE FUNCTION app.f() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
CREATE FUNCTION app.g() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 2; END $$;`,
    });
    // as a push of that registry recorded it
    await t.pool.query(`UPDATE procver.versions v SET code_fingerprint = procver.code_fingerprint(format('app.%I()', v.physical_name)::regprocedure)`);
    const g = (await t.pool.query(`SELECT physical_name FROM procver.versions WHERE physical_name LIKE 'g\\_\\_%'`)).rows[0].physical_name;
    await t.pool.query(`CREATE OR REPLACE FUNCTION app.${g}() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 22; END $$`);
    await migrate(t.pool);
    const rows = await t.pool.query(`SELECT physical_name = $1 AS drifted, code_xmin IS NOT NULL AS has_xmin FROM procver.versions ORDER BY 1`, [g]);
    expect(rows.rows).toEqual([
      { drifted: false, has_xmin: true },
      { drifted: true, has_xmin: false },
    ]);
    expect([...(await findDrift(t.db)).values()].map((d) => d.physicalName)).toEqual([g]);
  });
});
