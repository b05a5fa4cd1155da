/**
 * Collect: one collection pass over N managed functions that all have counters. Floor: the bare
 * SELECT … FROM pg_stat_user_functions on a warm connection. Run: npx tsx bench/collect.ts [N]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDb, createPool } from '../lib/db/client';
import { migrate } from '../lib/db/migrate';
import { databaseUrlFor, startEmbedded } from '../lib/embedded';
import { CounterCache, collectUsage } from '../lib/usage/collect';
import { machine, median, percentile, report } from './lib';

const N = Number(process.argv[2] ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

async function main() {
  const server = await startEmbedded({ dataDir: mkdtempSync(join(tmpdir(), 'procver-bench-pg-')), ephemeral: true });
  try {
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE bench');
    await admin.end();
    const url = databaseUrlFor(server.adminUrl, 'bench');
    const pool = createPool(url, 4);
    await migrate(pool);
    const t0 = performance.now();
    // N real functions registered as versions, each called once so it has a counter row.
    await pool.query(`CREATE SCHEMA b`);
    await pool.query(`DO $$ BEGIN FOR i IN 1..${N} LOOP
      EXECUTE format('CREATE FUNCTION b.%I() RETURNS int LANGUAGE plpgsql AS ''BEGIN RETURN %s; END''', 'f_' || i || '__' || lpad(to_hex(i), 10, '0'), i);
    END LOOP; END $$`);
    await pool.query(`INSERT INTO procver.procedures (schema, name, args, kind) SELECT 'b', 'f_' || i, '', 'function' FROM generate_series(1, ${N}) i`);
    await pool.query(`INSERT INTO procver.versions (procedure_id, hash, schema, physical_name, language, source, normalized, pushed_by)
      SELECT p.id, lpad(to_hex(p.id), 64, '0'), 'b', p.name || '__' || lpad(to_hex(substr(p.name, 3)::int), 10, '0'), 'plpgsql', '', '', 'bench'
      FROM procver.procedures p`);
    const caller = new pg.Client({ connectionString: url });
    await caller.connect();
    await caller.query(`DO $$ DECLARE r int; BEGIN FOR i IN 1..${N} LOOP
      EXECUTE format('SELECT b.%I()', 'f_' || i || '__' || lpad(to_hex(i), 10, '0')) INTO r; END LOOP; END $$`);
    await caller.query('SELECT pg_stat_force_next_flush()');
    await caller.end();
    console.error(`seeded ${N.toLocaleString('en')} functions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const floorClient = new pg.Client({ connectionString: url });
    await floorClient.connect();
    const floor: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const s = performance.now();
      const r = await floorClient.query('SELECT funcid, schemaname, funcname, calls, total_time, self_time FROM pg_stat_user_functions');
      if (i > 0) floor.push(performance.now() - s);
      if (r.rowCount !== N) throw new Error(`expected ${N} counters, saw ${r.rowCount}`);
    }
    await floorClient.end();
    const db = createDb(pool);
    const pass = async (cache?: CounterCache) => {
      const s = performance.now();
      const [res] = await collectUsage(db, [{ url, role: 'primary' }], {}, cache);
      if (!res!.ok || res!.versionsSeen !== N) throw new Error(`collect saw ${res!.versionsSeen}: ${res!.error}`);
      return performance.now() - s;
    };
    // Calls a tenth of the functions, so that the next pass has 10% of the counters moved.
    const moveTenth = async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DO $$ DECLARE r int; BEGIN FOR i IN 1..${N / 10} LOOP
        EXECUTE format('SELECT b.%I()', 'f_' || i || '__' || lpad(to_hex(i), 10, '0')) INTO r; END LOOP; END $$`);
      await c.query('SELECT pg_stat_force_next_flush()');
      await c.end();
    };
    const once: number[] = [];
    const cached: number[] = [];
    const moved: number[] = [];
    await pass(); // baseline
    const cache = new CounterCache();
    await pass(cache); // fills the cache
    for (let i = 0; i < RUNS; i++) {
      once.push(await pass());
      await pass(cache); // the one-shot pass moved last_collected_at: refill
      cached.push(await pass(cache));
      await moveTenth();
      moved.push(await pass(cache));
    }
    await pool.end();
    const floorMedian = median(floor);
    console.log(`machine: ${machine()}\n`);
    console.log(
      report(`collect over ${N.toLocaleString('en')} functions with counters (${RUNS} passes each, after a baseline pass)`, [
        { name: 'one-shot pass (--once, cron): reads the counters back', median: median(once), p95: percentile(once, 95), floorMedian, note: 'no counter moved' },
        {
          name: 'long-running collector: counters kept in memory',
          median: median(cached),
          p95: percentile(cached, 95),
          floorMedian,
          note: 'no counter moved; target < 1 s',
        },
        {
          name: 'long-running collector, 10% of counters moved',
          median: median(moved),
          p95: percentile(moved, 95),
          floorMedian,
          note: `${(N / 10).toLocaleString('en')} counters, samples and rollup rows written`,
        },
      ]),
    );
  } finally {
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
