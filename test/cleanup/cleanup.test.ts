import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyCleanup, quarantineNameFor } from '../../lib/cleanup/apply';
import { cleanupConfig } from '../../lib/cleanup/config';
import { planCleanup, type PlanRow } from '../../lib/cleanup/plan';
import { qualifiedName } from '../../lib/compile/parser';
import { buildManifest } from '../../lib/compile/outputs';
import { addDeployment, markLive } from '../../lib/deployments';
import { pushVersions } from '../../lib/push';
import { collectUsage } from '../../lib/usage/collect';
import type { InstanceTarget } from '../../lib/usage/readInstance';
import { restoreVersion, retireVersion } from '../../lib/versions';
import { createTestDatabase, createTestRole, type TestDatabase } from '../helpers/db';
import { testTempDir } from '../helpers/disposal';
import { compileFiles } from '../helpers/sources';

const push = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' };
const config = { ...cleanupConfig({}, { quietWindow: '2s', quarantine: '2s' }), rollbackKeep: 1, rollbackDays: 0 };
/**
 * For "not yet" assertions: windows no busy machine can outlast between two statements, so a
 * slow step never turns "keep" into "drop". Waiting (quietly) is only ever used to let `config`'s pass.
 */
const longWindows = { ...config, quietWindowMs: 3_600_000, quarantineMs: 3_600_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestDatabase;
const primary = (): InstanceTarget[] => [{ url: t.url, role: 'primary' }];

beforeAll(async () => {
  t = await createTestDatabase();
  await collectUsage(t.db, primary()); // usage history starts here
});

/** Pushes one function (unique name), returns its physical name and qualified SQL name. */
async function version(body: string, opts: { name?: string; language?: string; args?: string } = {}) {
  const name = opts.name ?? `f_${randomBytes(4).toString('hex')}`;
  const c = await compileFiles({
    'a.sql': `CREATE FUNCTION app.${name}(${opts.args ?? 'x integer'}) RETURNS integer LANGUAGE ${opts.language ?? 'plpgsql'} AS $$ ${body} $$;`,
  });
  await pushVersions(t.db, c, push);
  const v = c.versions[0]!;
  return { c, physical: v.physicalName, sql: qualifiedName(v.schema, v.physicalName) };
}

async function retire(physical: string) {
  await retireVersion(t.db, { name: physical, reason: 'test', actor: 'test' });
}

async function plan(targets = primary()): Promise<PlanRow[]> {
  return (await planCleanup(t.db, targets, config)).rows;
}

async function rowOf(physical: string, targets = primary()) {
  const r = (await plan(targets)).find((x) => x.physicalName === physical);
  expect(r, physical).toBeDefined();
  return r!;
}

const check = (r: PlanRow, name: string) => r.checks.find((c) => c.name === name)!;

/** Lets the quiet window pass with fresh usage readings. */
async function quietly() {
  await sleep(2200);
  await collectUsage(t.db, primary());
}

async function callsOk(sql: string) {
  const c = new pg.Client({ connectionString: t.url });
  await c.connect();
  try {
    return (await c.query(`SELECT ${sql}(2) AS r`)).rows[0].r;
  } finally {
    await c.query('SELECT pg_stat_force_next_flush()');
    await c.end();
  }
}

describe('cleanup: quarantine names', () => {
  it('keep the hash and fit 63 bytes, cutting the name on a character boundary', () => {
    expect(quarantineNameFor('a_really_long_function_name_that_is_close_to_the_li__32b4a0558d')).toBe(
      'a_really_long_function_name_that_is_cl__32b4a0558d__quarantined',
    );
    expect(quarantineNameFor('résumé_größe_überprüfung_straße_ñandú_çé__caad3567e5')).toBe('résumé_größe_überprüfung_straße__caad3567e5__quarantined');
    expect(quarantineNameFor('f__0123456789')).toBe('f__0123456789__quarantined');
  });
});

describe('cleanup: quarantine, drop, restore', () => {
  it('drops only after quarantine, and restores the exact function: definition, owner, grants by grantor, comment', async () => {
    const [owner, a, b] = [await createTestRole('own'), await createTestRole('ga'), await createTestRole('gb')];
    const v = await version('BEGIN RETURN x * 7; END');
    await t.pool.query(`GRANT USAGE ON SCHEMA app TO ${owner}, ${a}, ${b}`);
    await t.pool.query(`ALTER FUNCTION ${v.sql}(integer) OWNER TO ${owner}`);
    await t.pool.query(`REVOKE ALL ON FUNCTION ${v.sql}(integer) FROM PUBLIC`);
    await t.pool.query(`SET ROLE ${owner}; GRANT EXECUTE ON FUNCTION ${v.sql}(integer) TO ${a} WITH GRANT OPTION; RESET ROLE`);
    await t.pool.query(`SET ROLE ${a}; GRANT EXECUTE ON FUNCTION ${v.sql}(integer) TO ${b}; RESET ROLE`);
    await t.pool.query(`COMMENT ON FUNCTION ${v.sql}(integer) IS 'times seven; don''t ask'`);
    const before = (
      await t.pool.query(
        `SELECT pg_get_functiondef(p.oid) AS def, pg_get_userbyid(p.proowner) AS owner, p.proacl::text AS acl, obj_description(p.oid, 'pg_proc') AS comment
         FROM pg_proc p WHERE proname = $1`,
        [v.physical],
      )
    ).rows[0];
    expect(before.acl).toContain(`${b}=X/${a}`);

    await retire(v.physical);
    await quietly();
    let row = await rowOf(v.physical);
    expect(row.checks.map((c) => [c.name, c.verdict])).toEqual([
      ['retired', 'pass'],
      ['deployments', 'pass'],
      ['usage', 'pass'],
      ['dependents', 'pass'],
      ['in_flight', 'unknown'],
    ]);
    expect(row.action).toBe('quarantine');

    const [q] = await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cleanup-test', primary());
    expect(q).toMatchObject({ physicalName: v.physical, outcome: 'quarantined' });
    // Any remaining caller now fails loudly, superusers included.
    await expect(t.pool.query(`SELECT ${v.sql}(1)`)).rejects.toThrow(/does not exist/);
    row = (await planCleanup(t.db, primary(), longWindows)).rows.find((x) => x.physicalName === v.physical)!;
    expect(row.action).toBe('keep'); // quarantine period not over
    expect(check(row, 'in_flight').detail[0]).toMatch(/in quarantine for \d+s of 1h/);

    await quietly();
    row = await rowOf(v.physical);
    expect(check(row, 'in_flight').verdict).toBe('pass');
    expect(row.action).toBe('drop');
    const results = await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cleanup-test', primary());
    expect(results.find((r) => r.physicalName === v.physical)).toMatchObject({ outcome: 'dropped' });
    expect((await t.pool.query('SELECT 1 FROM pg_proc WHERE proname IN ($1, $2)', [v.physical, quarantineNameFor(v.physical)])).rowCount).toBe(0);
    const audit = await t.pool.query(`SELECT action FROM procver.audit_log WHERE target = $1 ORDER BY id`, [`app.${v.physical}`]);
    expect(audit.rows.map((r) => r.action)).toEqual(['version.retire', 'version.quarantine', 'version.drop']);

    await restoreVersion(t.db, { name: v.physical, reason: 'rollback needs it', actor: 'ops' });
    const after = (
      await t.pool.query(
        `SELECT pg_get_functiondef(p.oid) AS def, pg_get_userbyid(p.proowner) AS owner, p.proacl::text AS acl, obj_description(p.oid, 'pg_proc') AS comment
         FROM pg_proc p WHERE proname = $1`,
        [v.physical],
      )
    ).rows[0];
    expect(after).toEqual(before);
    expect(await callsOk(v.sql)).toBe(14);
    const status = await t.pool.query('SELECT status FROM procver.versions WHERE physical_name = $1', [v.physical]);
    expect(status.rows[0].status).toBe('live');
  });

  it('a call during quarantine fails loudly, and restore renames it back instantly', async () => {
    const v = await version('BEGIN RETURN x + 1; END');
    await retire(v.physical);
    await quietly();
    await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cleanup-test', primary());
    await expect(t.pool.query(`SELECT ${v.sql}(1)`)).rejects.toThrow(/does not exist/);
    const oid = (await t.pool.query('SELECT oid::bigint AS oid FROM pg_proc WHERE proname = $1', [quarantineNameFor(v.physical)])).rows[0].oid;
    await restoreVersion(t.db, { name: v.physical, reason: 'a caller broke', actor: 'ops' });
    expect(await callsOk(v.sql)).toBe(3);
    const now = (await t.pool.query('SELECT oid::bigint AS oid FROM pg_proc WHERE proname = $1', [v.physical])).rows[0].oid;
    expect(now).toBe(oid); // same function: OID, grants and dependencies kept
  });

  it('keeps a quarantined version while a transaction older than the rename is open', async () => {
    const v = await version('BEGIN RETURN x; END');
    await retire(v.physical);
    await quietly();
    const old = new pg.Client({ connectionString: t.url });
    await old.connect();
    await old.query('BEGIN');
    await old.query('SELECT 1');
    await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cleanup-test', primary());
    await quietly();
    const row = await rowOf(v.physical);
    expect(row.action).toBe('keep');
    expect(check(row, 'in_flight').detail.join()).toMatch(/a transaction open on .* started before the rename/);
    await old.query('COMMIT');
    await old.end();
    expect((await rowOf(v.physical)).action).toBe('drop');
  });
});

describe('cleanup: every check keeps a version when it fails', () => {
  it('keeps a version called inside the quiet window', async () => {
    const v = await version('BEGIN RETURN x; END');
    await retire(v.physical);
    await callsOk(v.sql);
    await quietly();
    const row = await rowOf(v.physical);
    expect(check(row, 'usage')).toMatchObject({ verdict: 'fail' });
    expect(check(row, 'usage').detail[0]).toMatch(/^called on 127\.0\.0\.1:\d+\/procver_test_\w+ \d+s ago/);
    expect(row.action).toBe('keep');
  });

  it('keeps a version retired for less than the quiet window', async () => {
    const v = await version('BEGIN RETURN x; END');
    await retire(v.physical);
    const row = (await planCleanup(t.db, primary(), longWindows)).rows.find((x) => x.physicalName === v.physical)!;
    expect(check(row, 'retired')).toMatchObject({ verdict: 'fail', detail: [expect.stringMatching(/^retired \d+s ago; the quiet window is 1h$/)] });
    expect(row.action).toBe('keep');
  });

  it('keeps a version whose callers always fail (a counter row with zero calls)', async () => {
    const v = await version("BEGIN RAISE EXCEPTION 'broken'; END");
    await retire(v.physical);
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    await expect(c.query(`SELECT ${v.sql}(1)`)).rejects.toThrow('broken');
    await c.query('SELECT pg_stat_force_next_flush()');
    await c.end();
    await collectUsage(t.db, primary());
    await quietly();
    const u = check(await rowOf(v.physical), 'usage');
    expect(u.verdict).toBe('fail');
    expect(u.detail.join()).toMatch(/no call completed/);
  });

  it('treats an inlinable SQL function as unknown, never as unused', async () => {
    const v = await version('SELECT x + 1', { language: 'sql' });
    await retire(v.physical);
    await quietly();
    const row = await rowOf(v.physical);
    expect(check(row, 'usage').verdict).toBe('unknown');
    expect(check(row, 'usage').detail[0]).toMatch(/may inline/);
    expect(row.action).toBe('keep');
  });

  it('keeps a version a rollback-window deployment references', async () => {
    const v = await version('BEGIN RETURN x; END');
    const manifest = buildManifest(v.c);
    await addDeployment(t.db, { app: `app_${v.physical}`, deploymentId: 'old', manifest, live: true, actor: 't' });
    await addDeployment(t.db, { app: `app_${v.physical}`, deploymentId: 'new', manifest: { version: 1, procedures: [] }, live: false, actor: 't' });
    await markLive(t.db, `app_${v.physical}`, 'new', 't');
    await retire(v.physical);
    await quietly();
    const d = check(await rowOf(v.physical), 'deployments');
    expect(d.verdict).toBe('fail');
    expect(d.detail[0]).toMatch(/\/old is a rollback target \(previous #1/);
  });

  it('keeps a version when a replica cannot be read or stats were reset inside the window', async () => {
    const v = await version('BEGIN RETURN x; END');
    await retire(v.physical);
    await quietly();
    const replica = { url: 'postgres://postgres:x@127.0.0.1:1/app', role: 'replica' as const }; // port 1: nothing listens
    const withReplica = [...primary(), replica];
    let u = check(await rowOf(v.physical, withReplica), 'usage');
    expect(u.verdict).toBe('unknown');
    expect(u.detail.join()).toMatch(/replica\) has never been read/);

    await t.pool.query('SELECT pg_stat_reset()');
    await collectUsage(t.db, primary());
    u = check(await rowOf(v.physical), 'usage');
    expect(u.verdict).toBe('unknown');
    expect(u.detail.join()).toMatch(/stats reset on .*: the quiet window restarts after it/);
  });

  it.each([
    ['a view', (f: string) => `CREATE VIEW app.v_${f.slice(0, 8)} AS SELECT app.${f}(1) AS x`, /view app\.v_\w+ depends on it/],
    ['a column default', (f: string) => `CREATE TABLE app.t_${f.slice(0, 8)} (x integer DEFAULT app.${f}(1))`, /default value for column x of table app\.t_\w+ depends on it/],
    ['a check constraint', (f: string) => `CREATE TABLE app.c_${f.slice(0, 8)} (x integer CHECK (app.${f}(x) > 0))`, /constraint .* depends on it/],
    ['a BEGIN ATOMIC function', (f: string) => `CREATE FUNCTION app.atomic_${f.slice(0, 8)}() RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT app.${f}(1); END`, /function app\.atomic_\w+\(\) depends on it/],
    ['a PL/pgSQL body naming it', (f: string) => `CREATE FUNCTION app.plain_${f.slice(0, 8)}() RETURNS integer LANGUAGE plpgsql AS $b$ BEGIN RETURN app.${f}(1); END $b$`, /the body of app\.plain_\w+\(\) names it/],
    // Unquoted identifiers fold to lower case: this body calls the version too.
    ['an upper-case PL/pgSQL body naming it', (f: string) => `CREATE FUNCTION app.shout_${f.slice(0, 8)}() RETURNS integer LANGUAGE plpgsql AS $b$ BEGIN RETURN APP.${f.toUpperCase()}(1); END $b$`, /the body of app\.shout_\w+\(\) names it/],
    ['an aggregate', (f: string) => `CREATE AGGREGATE app.agg_${f.slice(0, 8)}(integer) (SFUNC = app.${f}, STYPE = integer)`, /function app\.agg_\w+\(integer\) depends on it/],
  ])('keeps a version that %s depends on', async (_what, ddl, expected) => {
    const v = await version('BEGIN RETURN coalesce(x, 0); END', { args: 'x integer' });
    if (_what === 'an aggregate') {
      // An aggregate's state function takes (state, value).
      const agg = await version('BEGIN RETURN coalesce(s, 0) + coalesce(x, 0); END', { args: 's integer, x integer' });
      await t.pool.query(ddl(agg.physical));
      await retire(agg.physical);
      await quietly();
      const d = check(await rowOf(agg.physical), 'dependents');
      expect(d.verdict).toBe('fail');
      expect(d.detail.join()).toMatch(expected);
      return;
    }
    await t.pool.query(ddl(v.physical));
    await retire(v.physical);
    await quietly();
    const row = await rowOf(v.physical);
    const d = check(row, 'dependents');
    expect(d.verdict).toBe('fail');
    expect(d.detail.join()).toMatch(expected);
    expect(row.action).toBe('keep');
  });

  it('keeps a version a trigger uses', async () => {
    const name = `trg_${randomBytes(4).toString('hex')}`;
    const c = await compileFiles({ 'a.sql': `CREATE FUNCTION app.${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;` });
    await pushVersions(t.db, c, push);
    const physical = c.versions[0]!.physicalName;
    await t.pool.query(`CREATE TABLE app.tt_${name} (x integer)`);
    await t.pool.query(`CREATE TRIGGER tr BEFORE INSERT ON app.tt_${name} FOR EACH ROW EXECUTE FUNCTION app.${physical}()`);
    await retire(physical);
    await quietly();
    const d = check(await rowOf(physical), 'dependents');
    expect(d.verdict).toBe('fail');
    expect(d.detail.join()).toMatch(/trigger tr on table app\.tt_\w+ depends on it/);
  });
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

describe('cleanup: concurrency', () => {
  it('two cleanup runs at once quarantine a version once', async () => {
    const v = await version('BEGIN RETURN x; END');
    await retire(v.physical);
    await quietly();
    const plans = await Promise.all([planCleanup(t.db, primary(), config), planCleanup(t.db, primary(), config)]);
    const results = (await Promise.all(plans.map((p) => applyCleanup(t.db, p, 'cron', primary())))).flat().filter((r) => r.physicalName === v.physical);
    expect(results.map((r) => r.outcome).sort()).toEqual(['kept', 'quarantined']);
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
