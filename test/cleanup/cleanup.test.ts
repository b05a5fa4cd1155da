import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyCleanup, quarantineNameFor } from '../../lib/cleanup/apply';
import { planCleanup } from '../../lib/cleanup/plan';
import { buildManifest } from '../../lib/compile/outputs';
import { addDeployment, markLive } from '../../lib/deployments';
import { pushVersions } from '../../lib/push';
import { collectUsage } from '../../lib/usage/collect';
import { getOverview } from '../../lib/overview';
import { usageForVersions } from '../../lib/usage';
import { restoreVersion } from '../../lib/versions';
import { createTestRole, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';
import { cleanupScene } from '../helpers/cleanupScene';

const scene = cleanupScene();
const { push, config, longWindows, primary, version, retire, rowOf, check, quietly, callsOk } = scene;
let t: TestDatabase;
beforeAll(() => {
  t = scene.t;
});

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
