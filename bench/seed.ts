/**
 * Seeds a registry at scale: N procedures × V versions, D days of usage over R instances, and A
 * frontend apps deploying every few days, with real functions for every version still in the
 * database (the cleanup plan reads the catalog). Everything is generated inside PostgreSQL.
 *
 * The world it builds, so the figures mean something:
 * - version k of a procedure was pushed (V - k) / V × D days ago; the newest 3 are live, the 5 before
 *   them retired a day after their calls stopped (cleanup candidates), the rest dropped;
 * - each version is called every hour while it is the newest or the one before it, on every
 *   instance; hourly rows are kept for `hourlyDays`, daily rows for all D days (as the collector's
 *   retention does);
 * - each app deploys every D / deploysPerApp days, referencing the newest version of a third of the
 *   procedures at that time; the newest deployment per app is live, the two before it previous.
 *
 * The instances are named 127.0.0.1:1/app, :2, :3…: addresses nothing listens on, so a cleanup plan
 * run against them sees them as unreachable for the in-flight check, as it would a down replica.
 *
 * Run: npx tsx bench/seed.ts <database-url> [N] [V] [D] [R]
 */
import pg from 'pg';

export interface SeedOptions {
  procedures: number;
  versions: number;
  days: number;
  instances: number;
  apps: number;
  deploysPerApp: number;
  hourlyDays: number;
  auditEntries: number;
  /** create the real functions too (the cleanup plan's dependents check reads pg_proc) */
  functions: boolean;
}

export const defaultSeed: SeedOptions = {
  procedures: 10_000,
  versions: 20,
  days: 90,
  instances: 3,
  apps: 3,
  deploysPerApp: 30,
  hourlyDays: 8,
  auditEntries: 200_000,
  functions: true,
};

type Progress = (message: string) => void;

export async function seedRegistry(pool: pg.Pool, opts: SeedOptions, progress: Progress = () => undefined): Promise<Record<string, number>> {
  const { procedures: N, versions: V, days: D, instances: R, apps: A, deploysPerApp: P, hourlyDays: H } = opts;
  const step = async (label: string, sql: string, params: unknown[] = []) => {
    const t0 = performance.now();
    const r = await pool.query(sql, params);
    progress(`${label}: ${r.rowCount ?? 0} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  // One period: how long each version is the newest. Version k is pushed at now - D + k × period.
  const periodDays = D / V;
  await pool.query(`SET synchronous_commit = off`);
  await step(
    'instances',
    `INSERT INTO procver.instances (label, host, port, role, first_collected_at, last_collected_at, last_attempt_at, track_functions)
     SELECT '127.0.0.1:' || i || '/app', '127.0.0.1', i, CASE WHEN i = 1 THEN 'primary' ELSE 'replica' END,
            now() - make_interval(days => $1), now(), now(), 'all'
     FROM generate_series(1, $2) i`,
    [D, R],
  );
  await step(
    'procedures',
    `INSERT INTO procver.procedures (schema, name, args, kind, created_at)
     SELECT (ARRAY['app', 'billing', 'reports', 'admin'])[1 + i % 4], 'proc_' || i, CASE WHEN i % 2 = 0 THEN 'integer' ELSE '' END,
            'function', now() - make_interval(days => $2)
     FROM generate_series(1, $1) i`,
    [N, D],
  );
  // A body of realistic size (about 700 bytes), distinct per version.
  await step(
    'versions',
    `INSERT INTO procver.versions (procedure_id, hash, schema, physical_name, language, source, normalized, status, pushed_by,
                                   created_at, status_changed_at, dropped_at)
     SELECT p.id, h.hash, p.schema, p.name || '__' || left(h.hash, 10), 'plpgsql',
            format('CREATE FUNCTION %I.%I(%s) RETURNS integer LANGUAGE plpgsql STABLE AS $body$ BEGIN %s RETURN %s; END $body$;',
                   p.schema, p.name || '__' || left(h.hash, 10), p.args, repeat('PERFORM 1 FROM pg_class WHERE relname = ''x''; ', 12), k),
            repeat('perform 1 from pg_class where relname = $1; ', 12) || k,
            (CASE WHEN k >= $2 - 3 THEN 'live' WHEN k >= $2 - 8 THEN 'retired' ELSE 'dropped' END)::procver.version_status,
            'seed', t.at,
            -- retired a day after its calls stopped (two periods after its push); dropped a period later
            CASE WHEN k >= $2 - 3 THEN t.at WHEN k >= $2 - 8 THEN t.at + make_interval(secs => $3::float8 * 86400 * 2 + 86400)
                 ELSE t.at + make_interval(secs => $3::float8 * 86400 * 3) END,
            CASE WHEN k < $2 - 8 THEN t.at + make_interval(secs => $3::float8 * 86400 * 3) END
     FROM procver.procedures p, generate_series(0, $2 - 1) k,
          LATERAL (SELECT encode(sha256((p.id || '/' || k)::bytea), 'hex') AS hash) h,
          LATERAL (SELECT now() - make_interval(secs => ($1 - k * $3::float8) * 86400) AS at) t`,
    [D, V, periodDays],
  );
  if (opts.functions) {
    const schemas = ['app', 'billing', 'reports', 'admin'];
    for (const s of schemas) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    const t0 = performance.now();
    const ids = (await pool.query<{ min: string; max: string }>(`SELECT min(id), max(id) FROM procver.versions`)).rows[0]!;
    // Batches, so that progress shows and no transaction holds 100,000 catalog locks.
    const batch = 20_000;
    for (let lo = Number(ids.min); lo <= Number(ids.max); lo += batch) {
      await pool.query(
        `DO $$ DECLARE r record; BEGIN
           FOR r IN SELECT source FROM procver.versions WHERE status <> 'dropped' AND id BETWEEN ${lo} AND ${lo + batch - 1} LOOP
             EXECUTE r.source;
           END LOOP; END $$`,
      );
      progress(`functions: up to version ${Math.min(lo + batch - 1, Number(ids.max))} of ${ids.max}`);
    }
    await pool.query(
      `UPDATE procver.versions v SET oid = p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = v.schema AND p.proname = v.physical_name`,
    );
    progress(`functions: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  // A version is called while it is the newest or the one before it: [pushed, pushed + 2 periods).
  await pool.query(
    `CREATE TEMP TABLE called AS
    SELECT v.id AS version_id, v.procedure_id, v.created_at AS from_at, least(v.created_at + make_interval(secs => 2 * $1::float8 * 86400), now()) AS to_at
    FROM procver.versions v`,
    [periodDays],
  );
  await step(
    'usage_daily',
    `INSERT INTO procver.usage_daily (instance_id, version_id, day, calls, total_time, self_time)
     SELECT i.id, c.version_id, d::date, 24 * (5 + (c.version_id + i.id) % 50), 0.05 * 24 * (5 + (c.version_id + i.id) % 50), 0.04 * 24 * (5 + (c.version_id + i.id) % 50)
     FROM called c, procver.instances i,
          generate_series((c.from_at AT TIME ZONE 'UTC')::date, (c.to_at AT TIME ZONE 'UTC')::date, interval '1 day') d`,
  );
  await step(
    'usage_hourly',
    `INSERT INTO procver.usage_hourly (instance_id, version_id, hour, calls, total_time, self_time)
     SELECT i.id, c.version_id, h, 5 + (c.version_id + i.id) % 50, 0.05 * (5 + (c.version_id + i.id) % 50), 0.04 * (5 + (c.version_id + i.id) % 50)
     FROM called c, procver.instances i,
          generate_series(date_trunc('hour', greatest(c.from_at, now() - make_interval(days => $1))), date_trunc('hour', c.to_at), interval '1 hour') h
     WHERE c.to_at >= now() - make_interval(days => $1)`,
    [H],
  );
  await step(
    'usage_totals',
    `INSERT INTO procver.usage_totals (instance_id, version_id, calls, total_time, self_time)
     SELECT instance_id, version_id, sum(calls), sum(total_time), sum(self_time) FROM procver.usage_daily GROUP BY 1, 2`,
  );
  await step(
    'procedure_calls_daily',
    `INSERT INTO procver.procedure_calls_daily (procedure_id, day, calls)
     SELECT v.procedure_id, d.day, sum(d.calls) FROM procver.usage_daily d JOIN procver.versions v ON v.id = d.version_id GROUP BY 1, 2`,
  );
  await step(
    'procedure_calls_hourly',
    `INSERT INTO procver.procedure_calls_hourly (procedure_id, hour, calls)
     SELECT v.procedure_id, h.hour, sum(h.calls) FROM procver.usage_hourly h JOIN procver.versions v ON v.id = h.version_id GROUP BY 1, 2`,
  );
  await step(
    'usage_counters',
    `INSERT INTO procver.usage_counters (instance_id, version_id, oid, calls, total_time, self_time, sampled_at, first_seen_at, last_called_at)
     SELECT i.id, v.id, coalesce(v.oid, 0), 1000, 50, 40, now(), c.from_at, c.to_at
     FROM procver.versions v JOIN called c ON c.version_id = v.id, procver.instances i
     WHERE v.status <> 'dropped'`,
  );
  await step(
    'deployments',
    `INSERT INTO procver.deployments (app, deployment_id, status, manifest, registered_by, created_at, live_at, superseded_at, status_changed_at)
     SELECT 'app' || a, 'build-' || n,
            (CASE WHEN n = $2 THEN 'live' WHEN n >= $2 - 2 THEN 'previous' ELSE 'archived' END)::procver.deployment_status,
            '{"version": 1, "procedures": []}', 'seed', at, at, CASE WHEN n < $2 THEN at + make_interval(secs => $1::float8 * 86400 / $2) END, at
     FROM generate_series(1, $3) a, generate_series(1, $2) n,
          LATERAL (SELECT now() - make_interval(secs => ($1 - (n - 1) * $1::float8 / $2) * 86400) - make_interval(mins => a) AS at) t`,
    [D, P, A],
  );
  await step(
    'deployment_versions',
    `INSERT INTO procver.deployment_versions (deployment_id, version_id)
     SELECT d.id, v.id
     FROM procver.deployments d
     JOIN procver.procedures p ON p.id % $1 = substr(d.app, 4)::int - 1
     JOIN LATERAL (SELECT id FROM procver.versions v WHERE v.procedure_id = p.id AND v.created_at <= d.created_at
                   ORDER BY v.created_at DESC LIMIT 1) v ON true`,
    [A],
  );
  // The manifest each deployment was registered with, as the registry stores it.
  await step(
    'manifests',
    `UPDATE procver.deployments d SET manifest = m.manifest FROM (
       SELECT dv.deployment_id, jsonb_build_object('version', 1, 'procedures', jsonb_agg(jsonb_build_object(
         'schema', p.schema, 'name', p.name, 'args', p.args, 'kind', 'function', 'hash', v.hash, 'physicalName', v.physical_name))) AS manifest
       FROM procver.deployment_versions dv JOIN procver.versions v ON v.id = dv.version_id JOIN procver.procedures p ON p.id = v.procedure_id
       GROUP BY dv.deployment_id) m WHERE m.deployment_id = d.id`,
  );
  await step(
    'audit_log',
    `INSERT INTO procver.audit_log (at, actor, action, target_type, target, reason, before, after)
     SELECT now() - make_interval(secs => ($1 - g) * (${D} * 86400.0 / $1)),
            (ARRAY['ana@example.com', 'ben@example.com', 'ci', 'cleanup'])[1 + g % 4],
            (ARRAY['version.retire', 'version.restore', 'push', 'deployment.live', 'cleanup.drop'])[1 + g % 5],
            'version', 'app.proc_' || (1 + g % $2) || '__' || lpad(to_hex(g), 10, '0'), 'seeded entry ' || g,
            '{"status": "live"}', '{"status": "retired"}'
     FROM generate_series(1, $1) g`,
    [opts.auditEntries, N],
  );
  // As autovacuum would have by now: statistics, and the visibility map index-only scans need.
  await pool.query('VACUUM ANALYZE');
  const counts = await pool.query<{ t: string; n: string }>(`
    SELECT 'versions' AS t, count(*) AS n FROM procver.versions UNION ALL
    SELECT 'usage_hourly', count(*) FROM procver.usage_hourly UNION ALL
    SELECT 'usage_daily', count(*) FROM procver.usage_daily UNION ALL
    SELECT 'deployment_versions', count(*) FROM procver.deployment_versions UNION ALL
    SELECT 'audit_log', count(*) FROM procver.audit_log`);
  return Object.fromEntries(counts.rows.map((r) => [r.t, Number(r.n)]));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url, n, v, d, r] = process.argv.slice(2);
  if (!url) {
    console.error('usage: npx tsx bench/seed.ts <database-url> [procedures] [versions] [days] [instances]  (a migrated, empty registry)');
    process.exit(2);
  }
  const opts: SeedOptions = {
    ...defaultSeed,
    procedures: Number(n ?? defaultSeed.procedures),
    versions: Number(v ?? defaultSeed.versions),
    days: Number(d ?? defaultSeed.days),
    instances: Number(r ?? defaultSeed.instances),
  };
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  await seedRegistry(pool, opts, (m) => console.error(m))
    .then((c) => console.log(c))
    .finally(() => pool.end());
}
