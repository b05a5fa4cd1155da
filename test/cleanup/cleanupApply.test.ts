import { readEnv } from '../../lib/config';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyCleanup, quarantineNameFor } from '../../lib/cleanup/apply';
import { cleanupConfig } from '../../lib/cleanup/config';
import { planCleanup } from '../../lib/cleanup/plan';
import { qualifiedName } from '../../lib/compile/parser';
import { buildManifest } from '../../lib/compile/outputs';
import { addDeployment } from '../../lib/deployments';
import { pushVersions } from '../../lib/push';
import { collectUsage } from '../../lib/usage/collect';
import { retireVersion } from '../../lib/versions';
import type { TestDatabase } from '../helpers/db';
import { testTempDir } from '../helpers/disposal';
import { compileFiles } from '../helpers/sources';
import { queriesQueuedOnABusyConnection } from '../helpers/overlap';
import { cleanupScene } from '../helpers/cleanupScene';

const scene = cleanupScene();
const { push, config, sleep, primary, version, retire, rowOf, check, quietly, callsOk } = scene;
let t: TestDatabase;
beforeAll(() => {
  t = scene.t;
});

describe('cleanup: re-checks inside the transaction', () => {
  it('keeps a version called after the plan was made', async () => {
    const v = await version('BEGIN RETURN x; END');
    await retire(v.physical);
    await quietly();
    const stale = await planCleanup(t.db, primary(), config);
    expect(stale.rows.find((r) => r.physicalName === v.physical)!.action).toBe('quarantine');
    await callsOk(v.sql);
    await collectUsage(t.db, primary());
    const [r] = (await applyCleanup(t.db, stale, 'cron', primary())).filter((x) => x.physicalName === v.physical);
    expect(r).toMatchObject({ outcome: 'kept' });
    expect(r!.detail).toMatch(/^kept: called on /);
    expect((await t.pool.query('SELECT quarantine_name FROM procver.versions WHERE physical_name = $1', [v.physical])).rows[0].quarantine_name).toBeNull();
  });
});

describe("cleanup: one query at a time on a step's connection", () => {
  it("quarantines and drops (every re-check inside the step's transaction) without queueing a query on a busy connection", async () => {
    const v = await version('BEGIN RETURN x; END');
    await version(`BEGIN RETURN 1; END`, { name: `caller_${randomBytes(3).toString('hex')}`, args: '' }); // another function body to search
    await retire(v.physical);
    await quietly();
    const queued = await queriesQueuedOnABusyConnection(async () => {
      const quarantined = await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cleanup-test', primary());
      expect(quarantined.find((r) => r.physicalName === v.physical)?.outcome).toBe('quarantined');
      await quietly();
      const dropped = await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cleanup-test', primary());
      expect(dropped.find((r) => r.physicalName === v.physical)?.outcome).toBe('dropped');
    });
    expect(queued).toEqual([]);
  });
});

describe('cleanup: a drop needs its quarantine intact', () => {
  it('keeps a version whose quarantine name another function (an overload) already uses', async () => {
    const v = await version('BEGIN RETURN x; END');
    await retire(v.physical);
    await quietly();
    const squatter = `app.${quarantineNameFor(v.physical)}(text)`;
    await t.pool.query(`CREATE FUNCTION ${qualifiedName('app', quarantineNameFor(v.physical))}(y text) RETURNS integer LANGUAGE sql AS 'SELECT 1'`);
    const [r] = (await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cleanup-test', primary())).filter((x) => x.physicalName === v.physical);
    expect(r).toEqual({
      physicalName: v.physical,
      schema: 'app',
      outcome: 'kept',
      detail: `kept: ${squatter} already uses the quarantine name app.${quarantineNameFor(v.physical)}; rename or drop it first`,
    });
    expect((await t.pool.query('SELECT quarantine_name FROM procver.versions WHERE physical_name = $1', [v.physical])).rows[0].quarantine_name).toBeNull();
    expect(await callsOk(v.sql)).toBe(2);
  });

  it('keeps a quarantined version whose tripwire was dropped by hand: its silence proves nothing', async () => {
    const v = await version('BEGIN RETURN x; END');
    await retire(v.physical);
    await quietly();
    await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cleanup-test', primary());
    await quietly();
    const plan = await planCleanup(t.db, primary(), config);
    expect(plan.rows.find((x) => x.physicalName === v.physical)!.action).toBe('drop');
    await t.pool.query(`DROP FUNCTION ${v.sql}(integer)`); // the tripwire, under the old name, after the plan
    const gone = `its tripwire under app.${v.physical} is gone, so the quarantine's silence proves nothing (calls to that name failed and were not counted); put it back with procver restore app.${v.physical} --reason <why> (it is live again), then retire it again for a later cleanup`;
    const [r] = (await applyCleanup(t.db, plan, 'cleanup-test', primary())).filter((x) => x.physicalName === v.physical);
    expect(r).toMatchObject({ outcome: 'kept', detail: `kept: ${gone}` });
    const row = await rowOf(v.physical);
    expect(row.action).toBe('keep');
    expect(check(row, 'in_flight')).toEqual({ name: 'in_flight', verdict: 'unknown', detail: [gone] });
    const left = await t.pool.query('SELECT status::text, quarantine_name FROM procver.versions WHERE physical_name = $1', [v.physical]);
    expect(left.rows).toEqual([{ status: 'retired', quarantine_name: quarantineNameFor(v.physical) }]);
  });
});

describe('cleanup: resets are resets', () => {
  it('after pg_stat_reset() a called version is kept as unknown (a reset), never diagnosed as failing callers', async () => {
    const v = await version('BEGIN RETURN x * 3; END');
    await callsOk(v.sql);
    await collectUsage(t.db, primary());
    await retire(v.physical);
    await t.pool.query('SELECT pg_stat_reset()');
    await quietly();
    const u = check(await rowOf(v.physical), 'usage');
    expect(u.verdict).toBe('unknown');
    expect(u.detail).toContainEqual(expect.stringMatching(/^reset on 127\.0\.0\.1:\d+\/\w+ \d+s ago: the quiet window restarts after it$/));
    expect(u.detail.join()).not.toMatch(/no call completed/);
  });
});

describe('cleanup: the apply step re-checks what the plan checked', () => {
  it('a live deployment registered between plan and apply keeps the version', async () => {
    const v = await version('BEGIN RETURN x - 1; END');
    await retire(v.physical);
    await quietly();
    const stale = await planCleanup(t.db, primary(), config);
    expect(stale.rows.find((r) => r.physicalName === v.physical)!.action).toBe('quarantine');
    // Forced live past the retired-version guard, as an operator may (the audit log records it).
    await addDeployment(t.db, { app: `late_${v.physical}`, deploymentId: 'hotfix', manifest: buildManifest(v.c), live: true, override: true, actor: 'ci' });
    const [r] = (await applyCleanup(t.db, stale, 'cron', primary())).filter((x) => x.physicalName === v.physical);
    expect(r).toMatchObject({ outcome: 'kept' });
    expect(r!.detail).toBe(`kept: late_${v.physical}/hotfix is live and references it`);
    const row = (await t.pool.query('SELECT status, quarantine_name FROM procver.versions WHERE physical_name = $1', [v.physical])).rows[0];
    expect(row).toEqual({ status: 'retired', quarantine_name: null });
  });

  it('a deployment registered while a version is quarantined puts it back (release)', async () => {
    const v = await version('BEGIN RETURN x - 2; END');
    await retire(v.physical);
    await quietly();
    await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cron', primary());
    // Registered (pending: going live past a quarantined version is refused), so it protects the version.
    await addDeployment(t.db, { app: `late_${v.physical}`, deploymentId: 'rollback', manifest: buildManifest(v.c), live: false, actor: 'ci' });
    const row = await rowOf(v.physical);
    expect(row.action).toBe('release');
    const [r] = (await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cron', primary())).filter((x) => x.physicalName === v.physical);
    expect(r).toMatchObject({ outcome: 'released' });
    expect(await callsOk(v.sql)).toBe(0);
  });
});

describe('cleanup: windows the evidence cannot resolve', () => {
  it('refuses a quiet window or quarantine shorter than the flush delay plus the collection interval, naming the minimum', async () => {
    const tooShort = cleanupConfig(readEnv({}), { quietWindow: '1s', quarantine: '1d' });
    await expect(planCleanup(t.db, primary(), tooShort)).rejects.toThrow(
      'the quiet window (1s) is shorter than the evidence can resolve: the minimum is 90s, because PostgreSQL publishes calls up to 1m late (PROCVER_STATS_FLUSH_DELAY) and readings are 30s apart (PROCVER_COLLECT_INTERVAL); set --quiet-window / PROCVER_QUIET_WINDOW to at least 90s',
    );
    await expect(planCleanup(t.db, primary(), cleanupConfig(readEnv({ PROCVER_COLLECT_INTERVAL: '1m' }), { quietWindow: '7d', quarantine: '1m' }))).rejects.toThrow(
      /^the quarantine \(1m\) is shorter than the evidence can resolve: the minimum is 2m/,
    );
    await expect(planCleanup(t.db, primary(), cleanupConfig(readEnv({}), { quietWindow: '90s', quarantine: '90s' }))).resolves.toMatchObject({
      config: { quietWindowMs: 90_000 },
    });
  });

  it('keeps every version while an instance cannot be read now, even if it was read a moment ago', async () => {
    const v = await version('BEGIN RETURN x - 3; END');
    await retire(v.physical);
    await quietly();
    const down = { url: `postgres://postgres:x@127.0.0.1:2/app`, role: 'replica' as const };
    // Read "a moment ago": the registry says so, but now it is down.
    const { label, host, port } = (await import('../../lib/usage/readInstance')).instanceLabel(down.url);
    await t.pool.query(
      `INSERT INTO procver.instances (label, host, port, role, first_collected_at, last_collected_at, last_attempt_at, track_functions)
       VALUES ($1, $2, $3, 'replica', now() - interval '1 day', now(), now(), 'all')`,
      [label, host, port],
    );
    const row = await rowOf(v.physical, [...primary(), down]);
    expect(row.action).toBe('keep');
    expect(check(row, 'usage').detail).toContainEqual(expect.stringMatching(new RegExp(`^gap on ${label.replace(/[.]/g, '\\.')} \\d+s ago \\(cannot read`)));
    await t.pool.query('DELETE FROM procver.usage_events WHERE instance_id = (SELECT id FROM procver.instances WHERE label = $1)', [label]);
    await t.pool.query('DELETE FROM procver.instances WHERE label = $1', [label]);
  });
});

describe('cleanup: concurrency', () => {
  it('two cleanup runs at once quarantine a version once', async () => {
    const v = await version('BEGIN RETURN x; END');
    await retire(v.physical);
    await quietly();
    const plans = await Promise.all([planCleanup(t.db, primary(), config), planCleanup(t.db, primary(), config)]);
    const results = (await Promise.all(plans.map((p) => applyCleanup(t.db, p, 'cron', primary())))).flat().filter((r) => r.physicalName === v.physical);
    expect(results.map((r) => r.outcome).sort(), JSON.stringify(results)).toEqual(['kept', 'quarantined']);
    const audit = await t.pool.query(`SELECT count(*)::int AS n FROM procver.audit_log WHERE target = $1 AND action = 'version.quarantine'`, [`app.${v.physical}`]);
    expect(audit.rows[0].n).toBe(1);
  });
});

describe('cleanup: a crash inside the quiet window', () => {
  it('keeps the version: the crash lost the counters, so the window restarts', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { startEmbedded, databaseUrlFor } = await import('../../lib/embedded');
    const { createDb, createPool } = await import('../../lib/db/client');
    const { migrate } = await import('../../lib/db/migrate');
    const dataDir = testTempDir('procver-crash-pg-');
    let server = await startEmbedded({ dataDir }); // a free port, retried if taken meanwhile
    const port = server.port; // the restart comes back on the same address
    try {
      const admin = createPool(server.adminUrl, 1);
      await admin.query('CREATE DATABASE app');
      await admin.end();
      const url = databaseUrlFor(server.adminUrl, 'app');
      let pool = createPool(url, 2);
      let db = createDb(pool);
      await migrate(pool);
      const c = await compileFiles({ 'a.sql': 'CREATE FUNCTION app.crashy(x integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN x; END $$;' });
      await pushVersions(db, c, push);
      const physical = c.versions[0]!.physicalName;
      const targets = [{ url, role: 'primary' as const }];
      await collectUsage(db, targets);
      await retireVersion(db, { name: physical, reason: 'test', actor: 'test' });
      await sleep(2200);
      await collectUsage(db, targets);
      expect((await planCleanup(db, targets, config)).rows[0]!.action).toBe('quarantine');

      await pool.end();
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGQUIT'); // immediate shutdown: a crash, statistics are lost
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
          await sleep(50);
        } catch {
          break;
        }
      }
      server = await startEmbedded({ dataDir, port });
      pool = createPool(url, 2);
      db = createDb(pool);
      await collectUsage(db, targets);
      const row = (await planCleanup(db, targets, config)).rows[0]!;
      const usage = row.checks.find((x) => x.name === 'usage')!;
      expect(usage.verdict).toBe('unknown');
      expect(usage.detail.join()).toMatch(/restart on .*: the quiet window restarts after it/);
      expect(row.action).toBe('keep');
      await pool.end();
    } finally {
      await server.stop();
    }
  });
});
