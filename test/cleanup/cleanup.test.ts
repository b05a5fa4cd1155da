import { readEnv } from '../../lib/config';
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
import { getOverview } from '../../lib/overview';
import { usageForVersions } from '../../lib/usage';
import { restoreVersion, retireVersion } from '../../lib/versions';
import { createTestDatabase, createTestRole, type TestDatabase } from '../helpers/db';
import { testTempDir } from '../helpers/disposal';
import { compileFiles } from '../helpers/sources';
import { queriesQueuedOnABusyConnection } from '../helpers/overlap';

const push = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' };
const config = {
  ...cleanupConfig(readEnv({ PROCVER_STATS_FLUSH_DELAY: '1s', PROCVER_COLLECT_INTERVAL: '1s' }), { quietWindow: '2s', quarantine: '2s' }),
  rollbackKeep: 1,
  rollbackDays: 0,
};
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
    expect(quarantineNameFor('a_really_long_function_name_that_is_close_to_the_li__32b4a0558d')).toBe('a_really_long_function_name_that_is_cl__32b4a0558d__quarantined');
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

    // The file shares one database: other tests' retired versions may be in the same plan.
    const [q] = (await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cleanup-test', primary())).filter((r) => r.physicalName === v.physical);
    expect(q).toMatchObject({ physicalName: v.physical, outcome: 'quarantined' });
    // The old name is now the tripwire (forwards to the renamed version); the snapshot will not be it.
    const tripwire = await t.pool.query(`SELECT obj_description(p.oid, 'pg_proc') AS comment FROM pg_proc p WHERE proname = $1`, [v.physical]);
    expect(tripwire.rows).toEqual([{ comment: `procver quarantine tripwire for app.${v.physical}: forwards to app.${quarantineNameFor(v.physical)}` }]);
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

  it('a call during quarantine is forwarded and counted, puts the version back (retired, kept) with an audit entry, and shows red', async () => {
    const v = await version('BEGIN RETURN x + 1; END');
    await retire(v.physical);
    await quietly();
    await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cleanup-test', primary());
    const oid = (await t.pool.query('SELECT oid::bigint AS oid FROM pg_proc WHERE proname = $1', [quarantineNameFor(v.physical)])).rows[0].oid;
    // A caller cleanup did not know about: served by the tripwire, no error.
    expect(await callsOk(v.sql)).toBe(3);
    await quietly();
    const row = await rowOf(v.physical);
    expect(row.action).toBe('release');
    expect(check(row, 'usage').detail).toContainEqual(
      expect.stringMatching(/^the quarantine tripwire under its old name was called on 127\.0\.0\.1:\d+\/\w+ \d+s ago: something still calls it$/),
    );
    const results = await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cleanup-test', primary());
    expect(results.find((r) => r.physicalName === v.physical)).toMatchObject({ outcome: 'released' });
    const after = await t.pool.query(`SELECT p.oid::bigint AS oid, obj_description(p.oid, 'pg_proc') AS comment FROM pg_proc p WHERE proname IN ($1, $2)`, [
      v.physical,
      quarantineNameFor(v.physical),
    ]);
    expect(after.rows).toEqual([{ oid, comment: null }]); // the version itself, back under its name; no tripwire
    const state = await t.pool.query('SELECT status, quarantine_name FROM procver.versions WHERE physical_name = $1', [v.physical]);
    expect(state.rows[0]).toEqual({ status: 'retired', quarantine_name: null });
    const audit = await t.pool.query(`SELECT action, reason FROM procver.audit_log WHERE target = $1 ORDER BY id`, [`app.${v.physical}`]);
    expect(audit.rows.map((r) => r.action)).toEqual(['version.retire', 'version.quarantine', 'version.unquarantine']);
    expect(audit.rows[2].reason).toMatch(/^cleanup: still in use during quarantine \(.*the quarantine tripwire under its old name was called/);
    // Red on the dashboard: a retired version called after it was retired.
    const u = (await usageForVersions(t.db, [row.versionId], '24h', primary())).get(row.versionId)!;
    expect(u.evidence).toBe('called');
    const retiredAt = (await t.pool.query('SELECT status_changed_at FROM procver.versions WHERE id = $1', [row.versionId])).rows[0].status_changed_at;
    expect(u.lastCalledAt!.getTime()).toBeGreaterThan(retiredAt.getTime());
    expect((await getOverview(t.db)).retiredButCalled.map((r) => r.physicalName)).toContain(v.physical);
  });

  it('a tripwire hit anywhere in a quarantine longer than the quiet window still puts the version back', async () => {
    const longQuarantine = { ...config, quarantineMs: 3_600_000 };
    const v = await version('BEGIN RETURN x + 5; END');
    await retire(v.physical);
    await quietly();
    await applyCleanup(t.db, await planCleanup(t.db, primary(), longQuarantine), 'cleanup-test', primary());
    expect(await callsOk(v.sql)).toBe(7);
    await collectUsage(t.db, primary());
    await quietly(); // the call is now older than the quiet window, but inside the quarantine
    const row = (await planCleanup(t.db, primary(), longQuarantine)).rows.find((x) => x.physicalName === v.physical)!;
    expect(check(row, 'usage').verdict).toBe('fail');
    expect(row.action).toBe('release');
  });

  it('restore of a quarantined version removes the tripwire and renames it back instantly', async () => {
    const v = await version('BEGIN RETURN x + 2; END');
    await retire(v.physical);
    await quietly();
    await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cleanup-test', primary());
    const oid = (await t.pool.query('SELECT oid::bigint AS oid FROM pg_proc WHERE proname = $1', [quarantineNameFor(v.physical)])).rows[0].oid;
    await restoreVersion(t.db, { name: v.physical, reason: 'a caller broke', actor: 'ops' });
    const now = await t.pool.query(`SELECT oid::bigint AS oid, obj_description(oid, 'pg_proc') AS comment FROM pg_proc WHERE proname IN ($1, $2)`, [
      v.physical,
      quarantineNameFor(v.physical),
    ]);
    expect(now.rows).toEqual([{ oid, comment: null }]); // same function: OID, grants and dependencies kept
    expect(await callsOk(v.sql)).toBe(4);
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
    [
      'a column default',
      (f: string) => `CREATE TABLE app.t_${f.slice(0, 8)} (x integer DEFAULT app.${f}(1))`,
      /default value for column x of table app\.t_\w+ depends on it/,
    ],
    ['a check constraint', (f: string) => `CREATE TABLE app.c_${f.slice(0, 8)} (x integer CHECK (app.${f}(x) > 0))`, /constraint .* depends on it/],
    [
      'a BEGIN ATOMIC function',
      (f: string) => `CREATE FUNCTION app.atomic_${f.slice(0, 8)}() RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT app.${f}(1); END`,
      /function app\.atomic_\w+\(\) depends on it/,
    ],
    [
      'a PL/pgSQL body naming it',
      (f: string) => `CREATE FUNCTION app.plain_${f.slice(0, 8)}() RETURNS integer LANGUAGE plpgsql AS $b$ BEGIN RETURN app.${f}(1); END $b$`,
      /the body of app\.plain_\w+\(\) names it/,
    ],
    // Unquoted identifiers fold to lower case: this body calls the version too.
    [
      'an upper-case PL/pgSQL body naming it',
      (f: string) => `CREATE FUNCTION app.shout_${f.slice(0, 8)}() RETURNS integer LANGUAGE plpgsql AS $b$ BEGIN RETURN APP.${f.toUpperCase()}(1); END $b$`,
      /the body of app\.shout_\w+\(\) names it/,
    ],
    [
      'an aggregate',
      (f: string) => `CREATE AGGREGATE app.agg_${f.slice(0, 8)}(integer) (SFUNC = app.${f}, STYPE = integer)`,
      /function app\.agg_\w+\(integer\) depends on it/,
    ],
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
