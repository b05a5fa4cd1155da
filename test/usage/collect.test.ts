import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { qualifiedName } from '../../lib/compile/parser';
import { createDb, createPool } from '../../lib/db/client';
import { migrate } from '../../lib/db/migrate';
import { usageCounters, usageEvents, usageSamples } from '../../lib/db/schema';
import { databaseUrlFor, startEmbedded, type EmbeddedServer } from '../../lib/embedded';
import { pushVersions } from '../../lib/push';
import { applyInstanceReading, collectUsage, CounterCache, managedVersions } from '../../lib/usage/collect';
import { readInstance } from '../../lib/usage/readInstance';
import { instanceStatus, usageForVersions } from '../../lib/usage';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testTempDir } from '../helpers/disposal';
import { compileFiles } from '../helpers/sources';

const sources = {
  'a.sql': `CREATE FUNCTION app.counted(x integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN x + 1; END $$;
CREATE FUNCTION app.other() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 0; END $$;
CREATE FUNCTION app.inline_me(x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT x * 2 $$;`,
};
const push = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' };

/** Calls a function n times in one session and makes its counters visible right away. */
async function call(url: string, fn: string, n: number, args = '1'): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  for (let i = 0; i < n; i++) await c.query(`SELECT ${fn}(${args})`);
  await c.query('SELECT pg_stat_force_next_flush()');
  await c.query('SELECT 1');
  await c.end();
}

async function setup(t: { db: TestDatabase['db'] }) {
  const compiled = await compileFiles(sources);
  await pushVersions(t.db, compiled, push);
  const ids = new Map((await t.db.query.versions.findMany()).map((v) => [v.physicalName.split('__')[0]!, v]));
  const fn = (name: string) => {
    const v = ids.get(name)!;
    return { id: v.id, sql: qualifiedName(v.schema, v.physicalName), oid: v.oid! };
  };
  return { counted: fn('counted'), other: fn('other'), inlineMe: fn('inline_me') };
}

/** Every sample of a version in the order taken: the deltas are exact, so a negative or doubled one shows. */
async function sampleDeltas(t: { db: TestDatabase['db'] }, versionId: number) {
  const rows = await t.db.select().from(usageSamples).where(eq(usageSamples.versionId, versionId)).orderBy(usageSamples.id);
  return rows.map((s) => ({ calls: s.calls, delta: s.callsDelta }));
}

describe('collect: deltas from the counters', () => {
  // Each test its own database and, but for the first, a baseline reading with no calls yet:
  // no test's numbers depend on what another test called.
  let t: TestDatabase;
  let f: Awaited<ReturnType<typeof setup>>;
  beforeEach(async (ctx) => {
    t = await createTestDatabase();
    f = await setup(t);
    if (!ctx.task.name.includes('baseline first reading')) await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
  });

  it('counts calls between readings, per version, with a baseline first reading', async () => {
    await call(t.url, f.counted.sql, 4); // before the first reading: happened at unknown times
    const first = await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    expect(first[0]).toMatchObject({ ok: true, calls: 0 });
    // Usage history must cover the whole window for a count to be known: pretend it started long ago.
    await t.pool.query(`UPDATE procver.instances SET first_collected_at = now() - interval '40 days'`);
    await call(t.url, f.counted.sql, 3);
    const second = await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    expect(second[0]).toMatchObject({ ok: true, calls: 3 });

    const usage = await usageForVersions(t.db, [f.counted.id, f.other.id, f.inlineMe.id]);
    expect(usage.get(f.counted.id)).toMatchObject({ calls: 3, countedCalls: 3, unknownBecause: [] });
    expect(usage.get(f.counted.id)!.lastCalledAt).toBeInstanceOf(Date);
    expect(usage.get(f.counted.id)!.perInstance).toEqual([{ label: expect.stringMatching(/^127\.0\.0\.1:\d+\/procver_test_/), calls: 3 }]);
    expect(usage.get(f.other.id)).toMatchObject({ calls: 0, lastCalledAt: null });
  });

  it('reports calls to an inlinable SQL function as unknown, not zero', async () => {
    await call(t.url, f.inlineMe.sql, 5);
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    const u = (await usageForVersions(t.db, [f.inlineMe.id])).get(f.inlineMe.id)!;
    expect(u.calls).toBeNull();
    expect(u.unknownBecause[0]).toMatch(/may inline/);
  });

  it('survives pg_stat_reset(): no negative delta, a recorded reset', async () => {
    await call(t.url, f.counted.sql, 2);
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    await t.pool.query('SELECT pg_stat_reset()');
    await call(t.url, f.counted.sql, 1);
    const r = await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    expect(r[0]!.calls).toBe(1);
    expect(r[0]!.events).toEqual(['stats_reset', 'reset']); // the database's reset, and this counter going down
    // 2 calls, then 1 after the reset (the counter went from 2 to 1): never negative, never 2 again.
    expect(await sampleDeltas(t, f.counted.id)).toEqual([
      { calls: 2, delta: 2 },
      { calls: 1, delta: 1 },
    ]);
    const u = (await usageForVersions(t.db, [f.counted.id])).get(f.counted.id)!;
    expect(u.countedCalls).toBe(2 + 1);
    expect(u.calls).toBeNull(); // a reset inside the window: the total is not certain
    expect(u.unknownBecause.join()).toMatch(/stats reset/);
  });

  it('a counter that pg_stat_reset() put back to zero is a reset, never "callers are failing"', async () => {
    await call(t.url, f.counted.sql, 2);
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    await t.pool.query('SELECT pg_stat_reset()');
    const r = await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    expect(r[0]!.events).toEqual(expect.arrayContaining(['stats_reset', 'reset']));
    // PostgreSQL keeps the row, with calls = 0: what a failing caller also leaves.
    const k = await t.db.select().from(usageCounters).where(eq(usageCounters.versionId, f.counted.id));
    expect(k.map((x) => x.calls)).toEqual([0]);
    const u = (await usageForVersions(t.db, [f.counted.id])).get(f.counted.id)!;
    expect(u.evidence).toBe('called'); // by the two calls before the reset, inside the window
    expect(u.unknownBecause).toContainEqual(expect.stringMatching(/^reset on 127\.0\.0\.1:\d+\/\w+ \d+s ago: this window restarts after it$/));
    expect(u.unknownBecause.join()).not.toMatch(/no call completed|failing/);
  });

  it('treats a counter that went down (single-function reset) as a reset, never negative', async () => {
    await call(t.url, f.counted.sql, 2);
    await call(t.url, f.other.sql, 3, '');
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    const countedBefore = (await usageForVersions(t.db, [f.counted.id])).get(f.counted.id)!.countedCalls;
    await t.pool.query('SELECT pg_stat_reset_single_function_counters($1)', [f.other.oid]);
    await call(t.url, f.other.sql, 1, '');
    const r = await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    expect(r[0]!.calls).toBe(1);
    expect(await sampleDeltas(t, f.other.id)).toEqual([
      { calls: 3, delta: 3 },
      { calls: 1, delta: 1 }, // the counter went down to 0 and one call followed
    ]);
    // That reset also moves the database's stats_reset; the untouched function must not be recounted.
    expect(countedBefore).toBe(2);
    expect((await usageForVersions(t.db, [f.counted.id])).get(f.counted.id)!.countedCalls).toBe(2);
    const events = await t.db.select().from(usageEvents).where(eq(usageEvents.versionId, f.other.id));
    expect(events.map((e) => e.kind)).toContain('reset');
  });

  it('keeps when a counter was first seen and last called when a pass rewrites it without calls', async () => {
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]); // not the baseline reading
    await call(t.url, f.counted.sql, 2);
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    const counter = async () => (await t.db.select().from(usageCounters).where(eq(usageCounters.versionId, f.counted.id)))[0]!;
    const before = await counter();
    expect(before.lastCalledAt).toBeInstanceOf(Date);
    // Reset to zero: the pass writes the counter again, with no call since the last reading.
    await t.pool.query('SELECT pg_stat_reset_single_function_counters($1)', [f.counted.oid]);
    await t.pool.query('SELECT pg_stat_force_next_flush()');
    const r = await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    expect(r[0]!.calls).toBe(0);
    const after = await counter();
    expect(after.sampledAt.getTime()).toBeGreaterThan(before.sampledAt.getTime());
    expect(after.calls).toBe(0);
    expect(after.firstSeenAt).toEqual(before.firstSeenAt);
    expect(after.lastCalledAt).toEqual(before.lastCalledAt);
  });
});

describe('collect: a version re-created under a new OID', () => {
  it('starts its counter afresh and records the event', async () => {
    const t = await createTestDatabase();
    const f = await setup(t);
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    await call(t.url, f.counted.sql, 5);
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    const { rows } = await t.pool.query('SELECT source FROM procver.versions WHERE id = $1', [f.counted.id]);
    await t.pool.query(`DROP FUNCTION ${f.counted.sql}(integer)`);
    await t.pool.query(rows[0].source);
    await call(t.url, f.counted.sql, 2);
    const r = await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    expect(r[0]!.events).toContain('recreated');
    expect(r[0]!.calls).toBe(2);
    const u = (await usageForVersions(t.db, [f.counted.id])).get(f.counted.id)!;
    expect(u.countedCalls).toBe(7);
    expect(u.unknownBecause.join()).toMatch(/recreated/);
  });
});

describe('collect: overlapping collectors', () => {
  it('ignores a reading older than the one already applied, so no call is counted twice', async () => {
    const t = await createTestDatabase();
    const f = await setup(t);
    const target = { url: t.url, role: 'primary' as const };
    await collectUsage(t.db, [target]);
    await t.pool.query(`UPDATE procver.instances SET first_collected_at = now() - interval '40 days'`); // history covers the window
    const managed = await managedVersions(t.db);
    const older = await readInstance(t.url, managed);
    await call(t.url, f.counted.sql, 3);
    const newer = await readInstance(t.url, managed);
    expect((await applyInstanceReading(t.db, target, newer, managed)).calls).toBe(3);
    // The slow collector's reading arrives last: it shows fewer calls than the counters had.
    const late = await applyInstanceReading(t.db, target, older, managed);
    expect(late.events).toEqual(['superseded']);
    const u = (await usageForVersions(t.db, [f.counted.id])).get(f.counted.id)!;
    expect(u).toMatchObject({ countedCalls: 3, calls: 3 });
  });

  it('a long-running collector keeps its counters between passes, and reads them again after another collector wrote', async () => {
    const t = await createTestDatabase();
    const f = await setup(t);
    const target = { url: t.url, role: 'primary' as const };
    const cache = new CounterCache();
    const counters = async () => (await t.pool.query(`SELECT version_id::int AS v, calls::int AS calls FROM procver.usage_counters ORDER BY 1`)).rows;
    await call(t.url, f.counted.sql, 1);
    await collectUsage(t.db, [target], {}, cache); // baseline
    // Proof that the pass uses what it remembered: a change behind its back (which no procver code
    // makes) is not read. From the table, the delta would be 3; from memory it is 2.
    await t.pool.query(`UPDATE procver.usage_counters SET calls = 0`);
    await call(t.url, f.counted.sql, 2);
    expect((await collectUsage(t.db, [target], {}, cache))[0]!.calls).toBe(2);

    // Another collector (cron, say) applies a reading in between: the cache is stale now.
    await call(t.url, f.counted.sql, 4);
    expect((await collectUsage(t.db, [target]))[0]!.calls).toBe(4);
    await call(t.url, f.counted.sql, 1);
    expect((await collectUsage(t.db, [target], {}, cache))[0]!.calls).toBe(1);
    expect(await counters()).toEqual([{ v: f.counted.id, calls: 8 }]);
    const u = (await usageForVersions(t.db, [f.counted.id])).get(f.counted.id)!;
    expect(u.countedCalls).toBe(7);
  });

  it('forgets the counters of a pass whose transaction failed', async () => {
    const t = await createTestDatabase();
    const f = await setup(t);
    const target = { url: t.url, role: 'primary' as const };
    const cache = new CounterCache();
    await collectUsage(t.db, [target], {}, cache);
    await call(t.url, f.counted.sql, 3);
    // The pass fails after its writes (the transaction rolls back): nothing of it may be remembered.
    await t.pool.query(`CREATE FUNCTION procver.fail_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$`);
    await t.pool.query(
      `CREATE TRIGGER fail_once BEFORE UPDATE ON procver.instances FOR EACH ROW WHEN (NEW.last_error IS NULL AND OLD.last_collected_at IS NOT NULL) EXECUTE FUNCTION procver.fail_once()`,
    );
    const failed = await collectUsage(t.db, [target], {}, cache);
    expect(failed[0]).toMatchObject({ ok: false });
    await t.pool.query(`DROP TRIGGER fail_once ON procver.instances`);
    expect((await collectUsage(t.db, [target], {}, cache))[0]!.calls).toBe(3);
    expect((await usageForVersions(t.db, [f.counted.id])).get(f.counted.id)!.countedCalls).toBe(3);
  });
});

describe('collect: instances that cannot be read', () => {
  it('records an unreachable replica as a gap, never as zero calls', async () => {
    const t = await createTestDatabase();
    const f = await setup(t);
    const closedPort = 1; // privileged and never served here; a "free" port could be taken by the time we connect
    const replica = `postgres://postgres:x@127.0.0.1:${closedPort}/app`;
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    const r = await collectUsage(
      t.db,
      [
        { url: t.url, role: 'primary' },
        { url: replica, role: 'replica' },
      ],
      { timeoutMs: 1000 },
    );
    expect(r[0]!.ok).toBe(true);
    expect(r[1]).toMatchObject({ ok: false, label: `127.0.0.1:${closedPort}/app`, events: ['gap'] });
    expect(r[1]!.error).toMatch(/cannot read 127\.0\.0\.1:\d+\/app: .*ECONNREFUSED/);
    expect(r[1]!.error).not.toContain('postgres:x'); // no credentials in messages
    const u = (await usageForVersions(t.db, [f.counted.id])).get(f.counted.id)!;
    expect(u.calls).toBeNull();
    expect(u.unknownBecause.join()).toContain(`127.0.0.1:${closedPort}/app`);
    const status = await instanceStatus(t.db);
    expect(status.find((s) => s.role === 'replica')).toMatchObject({ lastCollectedAt: null, lastError: r[1]!.error });
    // A second failure extends the same gap instead of adding another.
    await collectUsage(t.db, [{ url: replica, role: 'replica' }], { timeoutMs: 1000 });
    const gaps = (await t.db.select().from(usageEvents)).filter((e) => e.kind === 'gap');
    expect(gaps).toHaveLength(1);
  });

  it("refuses an instance with track_functions = 'none', naming it and the fix", async () => {
    const t = await createTestDatabase();
    await setup(t);
    const dbName = new URL(t.url).pathname.slice(1);
    await t.pool.query(`ALTER DATABASE ${dbName} SET track_functions = 'none'`);
    const r = await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    expect(r[0]!.ok).toBe(false);
    expect(r[0]!.error).toContain(`track_functions is 'none' on 127.0.0.1:`);
    expect(r[0]!.error).toContain("ALTER SYSTEM SET track_functions = 'all'; SELECT pg_reload_conf();");

    await t.pool.query(`ALTER DATABASE ${dbName} SET track_functions = 'pl'`);
    const pl = await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    expect(pl[0]!.ok).toBe(true);
    expect(pl[0]!.warnings[0]).toMatch(/track_functions is 'pl' .*1 LANGUAGE sql version/);
  });
});

describe('collect: server restarts', () => {
  let server: EmbeddedServer;
  let dataDir: string;
  let port: number;
  let url: string;
  afterAll(async () => {
    await server?.stop();
  });

  it('gives no negative or doubled counts across a clean restart and a crash, and records both', async () => {
    dataDir = testTempDir('procver-restart-pg-');
    server = await startEmbedded({ dataDir, ephemeral: false }); // it picks a free port (retrying if one is taken)
    port = server.port; // the restarts below come back on the same address
    const admin = createPool(server.adminUrl, 1);
    await admin.query('CREATE DATABASE app');
    await admin.end();
    url = databaseUrlFor(server.adminUrl, 'app');
    let pool = createPool(url, 2);
    let db = createDb(pool);
    await migrate(pool);
    const f = await setup({ db });

    await collectUsage(db, [{ url, role: 'primary' }]);
    await call(url, f.counted.sql, 3);
    expect((await collectUsage(db, [{ url, role: 'primary' }]))[0]!.calls).toBe(3);

    // Clean restart: PostgreSQL keeps the counters, so the next delta is only the new call.
    await pool.end();
    await server.stop();
    server = await startEmbedded({ dataDir, port });
    pool = createPool(url, 2);
    db = createDb(pool);
    await call(url, f.counted.sql, 1);
    const afterRestart = (await collectUsage(db, [{ url, role: 'primary' }]))[0]!;
    expect(afterRestart.events).toContain('restart');
    expect(afterRestart.calls).toBe(1);

    // Crash (immediate shutdown): the counters are lost and start again from zero.
    await pool.end();
    const pid = Number((await import('node:fs')).readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGQUIT');
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 50));
      } catch {
        break;
      }
    }
    server = await startEmbedded({ dataDir, port });
    pool = createPool(url, 2);
    db = createDb(pool);
    await call(url, f.counted.sql, 2);
    const afterCrash = (await collectUsage(db, [{ url, role: 'primary' }]))[0]!;
    expect(afterCrash.events).toContain('restart');
    expect(afterCrash.calls).toBe(2);
    expect(await sampleDeltas({ db }, f.counted.id)).toEqual([
      { calls: 3, delta: 3 },
      { calls: 4, delta: 1 }, // the clean restart kept the counter
      { calls: 2, delta: 2 }, // the crash lost it: counted from zero again
    ]);
    const u = (await usageForVersions(db, [f.counted.id])).get(f.counted.id)!;
    expect(u.countedCalls).toBe(3 + 1 + 2);
    expect(u.calls).toBeNull();
    expect(u.unknownBecause.join()).toMatch(/restart/);
    await pool.end();
  });
});

describe('retention', () => {
  it('deletes raw samples past the retention period and keeps the hourly rollups', async () => {
    const t = await createTestDatabase();
    const f = await setup(t);
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    await call(t.url, f.counted.sql, 2);
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    await t.pool.query(`UPDATE procver.usage_samples SET sampled_at = sampled_at - interval '3 days'`);
    await call(t.url, f.counted.sql, 1); // a fresh reading to keep
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }], { retentionDays: 2 });
    const old = await t.pool.query(`SELECT count(*)::int AS n FROM procver.usage_samples WHERE sampled_at < now() - interval '2 days'`);
    expect(old.rows[0].n).toBe(0);
    expect(await sampleDeltas(t, f.counted.id)).toEqual([{ calls: 3, delta: 1 }]); // only the newest reading
    expect((await usageForVersions(t.db, [f.counted.id])).get(f.counted.id)!.countedCalls).toBe(3);
  });
});

describe('attribution', () => {
  it('records which deployments are connected, from application_name <app>@<deployment-id>', async () => {
    const { listDeployments } = await import('../../lib/deployments');
    const { addDeployment } = await import('../../lib/deployments');
    const t = await createTestDatabase();
    await setup(t);
    const manifest = { version: 1 as const, procedures: [] };
    await addDeployment(t.db, { app: 'web', deploymentId: 'w1', manifest, live: true, actor: 'test' });
    await addDeployment(t.db, { app: 'web', deploymentId: 'w2', manifest, live: false, actor: 'test' });
    const client = new pg.Client({ connectionString: t.url, application_name: 'web@w1' });
    await client.connect();
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    await client.end();
    const rows = await listDeployments(t.db, 'web');
    expect(rows.find((d) => d.deploymentId === 'w1')!.lastSeenAt).toBeInstanceOf(Date);
    expect(rows.find((d) => d.deploymentId === 'w2')!.lastSeenAt).toBeNull();
  });
});

describe('metrics', () => {
  it('exposes calls per version and instance, calls to retired versions, and collector health', async () => {
    const { renderMetrics } = await import('../../lib/metrics');
    const t = await createTestDatabase();
    const f = await setup(t);
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    await call(t.url, f.counted.sql, 2);
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    await call(t.url, f.other.sql, 1, '');
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    const otherPhysical = f.other.sql.split('.')[1];
    expect(await renderMetrics(t.db)).toContain(`physical_name="${otherPhysical}",status="live"`);
    await t.pool.query(`UPDATE procver.versions SET status = 'retired' WHERE id = $1`, [f.counted.id]);
    await t.pool.query(`UPDATE procver.versions SET status = 'dropped', dropped_at = now() WHERE id = $1`, [f.other.id]);
    // The running totals agree with the daily rollups they sit beside.
    const agree = await t.pool.query(`
      SELECT t.version_id FROM procver.usage_totals t
      FULL JOIN (SELECT version_id, instance_id, sum(calls) AS calls FROM procver.usage_daily GROUP BY 1, 2) d USING (version_id, instance_id)
      WHERE t.calls IS DISTINCT FROM d.calls`);
    expect(agree.rows).toEqual([]);
    const text = await renderMetrics(t.db);
    // A dropped version cannot be called: no series for it.
    expect(text).not.toContain(otherPhysical);
    const physical = f.counted.sql.split('.')[1];
    expect(text).toMatch(
      new RegExp(
        `procver_version_calls_total\\{schema="app",procedure="counted",args="integer",physical_name="${physical}",status="retired",instance="127\\.0\\.0\\.1:\\d+/procver_test_\\w+"\\} 2`,
      ),
    );
    expect(text).toContain(`procver_retired_version_calls_24h{schema="app",procedure="counted",args="integer",physical_name="${physical}"} 2`);
    expect(text).toMatch(/procver_instance_up\{instance="127\.0\.0\.1:\d+\/procver_test_\w+",role="primary"\} 1/);
    // Every procedure has a counter over all its versions, dropped ones included (2 + 1 calls).
    expect(text).toMatch(/procver_procedure_calls_total\{schema="app",procedure="counted",args="integer",instance="[^"]+"\} 2\n/);
    expect(text).toMatch(/procver_procedure_calls_total\{schema="app",procedure="other",args="",instance="[^"]+"\} 1\n/);
    // Fewer series at scale: per-version ones for retired versions only.
    await t.pool.query(`UPDATE procver.versions SET status = 'live' WHERE id = $1`, [f.counted.id]);
    const retiredOnly = await renderMetrics(t.db, { versions: 'retired' });
    expect(retiredOnly).not.toMatch(/^procver_version_calls_total/m);
    expect(retiredOnly).toContain('procver_procedure_calls_total{schema="app",procedure="counted"');
    expect(await renderMetrics(t.db)).toMatch(/^procver_version_calls_total\{[^}]*physical_name="[^"]+",status="live"/m);
    expect(text).toMatch(/procver_instance_collect_lag_seconds\{[^}]+\} \d+\.\d{3}/);
  });
});
