import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { dropLikeCleanup } from '../helpers/cleanup';
import { procver, procverBin as bin, procverProcess, type CliResult } from '../helpers/cli';
import { unknownMigrationsMessage } from '../../lib/db/migrate';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { writeTree } from '../helpers/sources';

/** A command that must succeed: exit 0, or the failure shows what it printed. */
async function ok(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await procver(args, env);
  expect(r.code, `procver ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}

describe('procver CLI', () => {
  // Each test its own unmigrated database: none relies on another having migrated it first.
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase({ migrated: false });
  });

  it('compile reports bad SQL as file:line:column and exits non-zero', async () => {
    const dir = writeTree({ 'sql/bad.sql': 'CREATE FUNCTION f() RETURNS int\nLANGUAGE sql AS $$ SELECT 1 $$ STRICTT;' });
    const r = await procverProcess(['compile', dir]); // the real binary: its exit code and stderr
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('compile failed with 1 error(s); nothing was written');
    expect(r.stderr).toMatch(/\/sql\/bad\.sql:2:32: syntax error at or near "STRICTT"/);
  });

  it('every database command refuses an unmigrated registry with the fix', async () => {
    const dir = writeTree({ 'a.sql': 'CREATE FUNCTION app.a() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;' });
    const r = await procver(['push', dir], { DATABASE_URL: t.url });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('run `procver migrate` first');
  });

  it('an unexpected database error says what PostgreSQL said, not the query around it', async () => {
    const broken = await createTestDatabase();
    await broken.pool.query('ALTER TABLE procver.deployments RENAME TO deployments_elsewhere');
    const r = await procver(['deployments', 'list'], { DATABASE_URL: broken.url });
    expect(r.code).toBe(70);
    expect(r.stderr).toBe('procver: database error 42P01: relation "procver.deployments" does not exist\n  (set PROCVER_DEBUG=1 to see the query and the stack)\n');
    const debug = await procver(['deployments', 'list'], { DATABASE_URL: broken.url, PROCVER_DEBUG: '1' });
    expect(debug.stderr).toContain('Failed query: ');
  });

  it('migrate refuses a registry a newer procver migrated, changing nothing', async () => {
    const newer = await createTestDatabase();
    await newer.pool.query(`INSERT INTO procver.__drizzle_migrations (hash, created_at) VALUES ('a-migration-from-a-newer-procver', 0)`);
    const r = await procver(['migrate'], { DATABASE_URL: newer.url });
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(`procver: ${unknownMigrationsMessage(1)}\n`);
  });

  it('says what to set when DATABASE_URL is missing', async () => {
    const r = await procverProcess(['migrate'], { DATABASE_URL: '' });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('DATABASE_URL is not set');
  });

  it('runs the whole workflow: migrate, compile, push, register, go live, check, roll back', async () => {
    const env = { DATABASE_URL: t.url };
    const v1 = writeTree({ 'a.sql': "CREATE FUNCTION app.hello() RETURNS text LANGUAGE sql AS $$ SELECT 'v1' $$;" });
    const v2 = writeTree({ 'a.sql': "CREATE FUNCTION app.hello() RETURNS text LANGUAGE sql AS $$ SELECT 'v2' $$;" });

    expect((await ok(['migrate'], env)).stdout).toMatch(/applied \d+ migration/);
    expect((await ok(['migrate'], env)).stdout).toBe('registry is up to date\n');

    await ok(['compile', v1, '--out', join(v1, 'build')]);
    const manifest1 = join(v1, 'build/procver.manifest.json');
    expect(readFileSync(join(v1, 'build/procs.ts'), 'utf8')).toContain('"app.hello": "app.hello__');

    // The gate fails before the push: the version does not exist yet.
    const early = await procver(['check', '--manifest', manifest1], env);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/app\.hello\(\): hello__[0-9a-f]{10} was never pushed/);

    const pushed = await ok(['push', v1], env);
    expect(pushed.stdout).toContain('1 created, 0 re-created, 0 unchanged');
    expect((await ok(['push', v1], env)).stdout).toContain('0 created, 0 re-created, 1 unchanged');

    await ok(['check', '--manifest', manifest1], env);
    await ok(['deployments', 'add', '--app', 'web', '--id', 'b1', '--manifest', manifest1, '--live'], env);

    await ok(['compile', v2, '--out', join(v2, 'build')]);
    await ok(['push', v2], env);
    const added = await ok(['deployments', 'add', '--app', 'web', '--id', 'b2', '--manifest', join(v2, 'build/procver.manifest.json')], env);
    expect(added.stdout).toBe('registered web/b2 (1 version(s)), pending\n');
    const live = await ok(['deployments', 'live', '--app', 'web', '--id', 'b2'], env);
    expect(live.stdout).toBe('web/b2 is live; web/b1 is now previous (rollback target)\n');

    const list = JSON.parse((await ok(['deployments', 'list', '--json'], env)).stdout);
    expect(list.map((d: { deploymentId: string; status: string }) => [d.deploymentId, d.status])).toEqual([
      ['b2', 'live'],
      ['b1', 'previous'],
    ]);

    // Rollback: the old build's version is still there and answers.
    await ok(['deployments', 'live', '--app', 'web', '--id', 'b1'], env);
    const m1 = JSON.parse(readFileSync(manifest1, 'utf8'));
    const r = await t.pool.query(`SELECT app.${m1.procedures[0].physicalName}() AS v`);
    expect(r.rows[0].v).toBe('v1');

    const audit = await t.pool.query('SELECT actor, action FROM procver.audit_log ORDER BY id');
    expect(new Set(audit.rows.map((a) => a.actor))).toEqual(new Set(['cli-test']));
    expect(audit.rows.map((a) => a.action)).toEqual(['push', 'deployment.add', 'deployment.live', 'push', 'deployment.add', 'deployment.live', 'deployment.live']);
  });

  it('collect --once reports an unreachable replica as a gap and exits 1', async () => {
    const env = { DATABASE_URL: t.url, PROCVER_REPLICA_URLS: 'postgres://u:secret@127.0.0.1:1/app' };
    await ok(['migrate'], { DATABASE_URL: t.url });
    const r = await procver(['collect', '--once'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^primary 127\.0\.0\.1:\d+\/procver_test_\w+: \d+ version\(s\) with counters/m);
    expect(r.stderr).toContain('replica 127.0.0.1:1/app: GAP: cannot read 127.0.0.1:1/app');
    expect(r.stderr).not.toContain('secret');
  });

  it('collect runs until SIGTERM and then stops cleanly', async () => {
    await ok(['migrate'], { DATABASE_URL: t.url });
    const { spawn } = await import('node:child_process');
    const child = spawn('node', [bin, 'collect', '--interval', '1'], { env: { ...process.env, DATABASE_URL: t.url } }); // signals need a real process
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Two passes, then SIGTERM; the budget is generous (a busy machine) and its outcome is asserted.
    const twoPasses = /primary .* with counters[\s\S]*primary .* with counters/;
    for (let i = 0; i < 300 && !twoPasses.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/collecting from 1 instance\(s\) every 1 s/);
    expect(out).toMatch(twoPasses);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('collector stopped');
  });

  it('retire refuses a version a live deployment uses (exit 5, listing it) and restore puts one back', async () => {
    const env = { DATABASE_URL: t.url };
    await ok(['migrate'], env);
    const src = writeTree({ 'r.sql': 'CREATE FUNCTION ret.r() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;' });
    await ok(['compile', src, '--out', join(src, 'build')]);
    await ok(['push', src], env);
    const manifest = join(src, 'build/procver.manifest.json');
    const physical = JSON.parse(readFileSync(manifest, 'utf8')).procedures[0].physicalName;
    await ok(['deployments', 'add', '--app', 'ret', '--id', 'r1', '--manifest', manifest, '--live'], env);

    const refused = await procver(['retire', physical, '--reason', 'old'], env);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('referenced by 1 live or pending deployment(s)');
    expect(refused.stderr).toContain('ret/r1 (live)');
    const noReason = await procver(['retire', physical], env);
    expect(noReason.code).toBe(7);
    expect(noReason.stderr).toContain('missing --reason');

    const forced = await ok(['retire', physical, '--reason', 'incident 42', '--override'], env);
    expect(forced.stdout).toBe(`ret.${physical} is retired\n  warning: still referenced by ret/r1 (live)\n`);
    expect((await procver(['check', '--manifest', manifest], env)).code).toBe(1);
    const restored = await ok(['restore', physical, '--reason', 'false alarm'], env);
    expect(restored.stdout).toBe(`ret.${physical} is live\n`);
    await ok(['check', '--manifest', manifest], env);
  });

  it('cleanup plans, quarantines and drops; a rollback to the old build names the fix; restore --deployment re-creates', { timeout: 180_000 }, async () => {
    const env = {
      DATABASE_URL: t.url,
      PROCVER_QUIET_WINDOW: '2s',
      PROCVER_QUARANTINE: '2s',
      // The calls here are flushed at once (each test session ends), and collect runs right before.
      PROCVER_STATS_FLUSH_DELAY: '1s',
      PROCVER_COLLECT_INTERVAL: '1s',
      PROCVER_ROLLBACK_KEEP: '0',
      PROCVER_ROLLBACK_DAYS: '0',
    };
    await ok(['migrate'], env);
    const v1 = writeTree({ 'a.sql': "CREATE FUNCTION cl.greet() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'v1'; END $$;" });
    const v2 = writeTree({ 'a.sql': "CREATE FUNCTION cl.greet() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'v2'; END $$;" });
    for (const [dir, id] of [
      [v1, 'c1'],
      [v2, 'c2'],
    ] as const) {
      await ok(['compile', dir, '--out', join(dir, 'build')]);
      await ok(['push', dir], env);
      await ok(['deployments', 'add', '--app', 'cl', '--id', id, '--manifest', join(dir, 'build/procver.manifest.json'), '--live'], env);
    }
    const old = JSON.parse(readFileSync(join(v1, 'build/procver.manifest.json'), 'utf8')).procedures[0].physicalName;
    await ok(['collect', '--once'], env);
    await ok(['retire', old, '--reason', 'c2 replaced it'], env);
    const tooShort = await procver(['cleanup', '--quiet-window', '1s'], env);
    expect(tooShort.code).toBe(7);
    expect(tooShort.stderr).toContain('the quiet window (1s) is shorter than the evidence can resolve: the minimum is 2s');
    await new Promise((r) => setTimeout(r, 2100)); // the quiet window of 2s has passed
    await ok(['collect', '--once'], env);

    const dry = await ok(['cleanup'], env);
    expect(dry.stdout).toContain('cleanup plan (dry run; --apply to act): quiet window 2s, quarantine 2s');
    expect(dry.stdout).toContain(`cl.${old}  cl.greet()  → QUARANTINE`);
    expect(dry.stdout).toMatch(/✓ retired +retired \d+s ago; the quiet window is 2s/);
    expect(dry.stdout).toMatch(/✓ deployments +only archived or old deployments reference it \(1\)/);
    expect(dry.stdout).toMatch(/\? in flight +not quarantined yet/);
    expect(dry.stdout).toMatch(/1 retired version\(s\): 0 to drop, 1 to quarantine, 0 to put back from quarantine, 0 kept/);
    const json = JSON.parse((await ok(['cleanup', '--json'], env)).stdout);
    expect(json.plan.rows[0].checks.map((c: { name: string }) => c.name)).toEqual(['retired', 'deployments', 'usage', 'dependents', 'in_flight']);

    expect((await ok(['cleanup', '--apply'], env)).stdout).toMatch(new RegExp(`quarantined +cl\\.${old}: renamed to greet__\\w+__quarantined`));
    await new Promise((r) => setTimeout(r, 2100)); // the quarantine of 2s has passed
    await ok(['collect', '--once'], env);
    expect((await ok(['cleanup', '--apply'], env)).stdout).toMatch(new RegExp(`dropped +cl\\.${old}: dropped`));

    const rollback = await procver(['deployments', 'live', '--app', 'cl', '--id', 'c1'], env);
    expect(rollback.code).toBe(5);
    expect(rollback.stderr).toContain('restore these 1 version(s) first: procver restore --deployment cl/c1');
    const restored = await ok(['restore', '--deployment', 'cl/c1', '--reason', 'rolling back'], env);
    expect(restored.stdout).toContain('restored 1 version(s) for cl/c1:');
    await ok(['deployments', 'live', '--app', 'cl', '--id', 'c1'], env);
    expect((await t.pool.query(`SELECT cl.${old}() AS v`)).rows[0].v).toBe('v1');
  });

  it('manages users (password from stdin) and verifies the audit chain', async () => {
    const env = { DATABASE_URL: t.url };
    await ok(['migrate'], env);
    const { spawnSync } = await import('node:child_process');
    const add = spawnSync('node', [bin, 'users', 'add', '--email', 'Ana@Example.com', '--name', 'Ana', '--role', 'operator', '--password-stdin'], {
      input: 'a long password here\n',
      env: { ...process.env, ...env, PROCVER_ACTOR: 'cli-test' },
      encoding: 'utf8',
    });
    expect(add.status).toBe(0);
    expect(add.stdout).toContain('added ana@example.com (operator)');
    // The CLI hashes at the production cost (lib/users.ts PASSWORD_COST): only tests pass a lower one.
    const stored = await t.pool.query(`SELECT password_hash FROM procver.users WHERE email = 'ana@example.com'`);
    expect(stored.rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{88}$/);
    expect((await ok(['users', 'set-role', '--email', 'ana@example.com', '--role', 'admin'], env)).stdout).toContain('is now admin');
    expect((await ok(['users', 'list'], env)).stdout).toMatch(/ana@example\.com +Ana +admin/);
    const badRole = await procver(['users', 'add', '--email', 'x@y.z', '--role', 'root'], env);
    expect(badRole.code).toBe(7);
    expect(badRole.stderr).toContain('--role must be one of viewer, operator, admin');
    const intact = await ok(['audit', 'verify'], env);
    expect(intact.stdout).toMatch(/audit log intact: \d+ entries, every link verified/);
    await t.pool.query('ALTER TABLE procver.audit_log DISABLE TRIGGER audit_no_update_delete');
    await t.pool.query(`UPDATE procver.audit_log SET actor = 'someone else' WHERE action = 'user.add'`);
    await t.pool.query('ALTER TABLE procver.audit_log ENABLE TRIGGER audit_no_update_delete');
    const broken = await procver(['audit', 'verify'], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/audit log BROKEN at entry #\d+ \(id \d+\): its content does not match its hash/);
  });

  it('refuses a bad manifest file when registering a deployment', async () => {
    await ok(['migrate'], { DATABASE_URL: t.url });
    const dir = writeTree({ 'm.json': '{"version": 1, "procedures": "nope"}' });
    const r = await procver(['deployments', 'add', '--app', 'x', '--id', '1', '--manifest', join(dir, 'm.json')], { DATABASE_URL: t.url });
    expect(r.code).toBe(7);
    expect(r.stderr).toContain('is not a procver manifest');
    expect(r.stderr).toContain('procedures:');
  });

  it('drift: push warns, check exits 1 naming it, collect warns; a dropped caller restores with its callee; push re-creates dropped ones', async () => {
    const env = { DATABASE_URL: t.url };
    await procver(['migrate'], env);
    const src = writeTree({
      'd.sql': `CREATE FUNCTION dr.callee(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT x * 10 $$;
CREATE FUNCTION dr.caller(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT dr.callee(x) + 1 $$;`,
    });
    await procver(['compile', src, '--out', join(src, 'build')]);
    await procver(['push', src], env);
    const manifest = join(src, 'build/procver.manifest.json');
    const names = Object.fromEntries(
      JSON.parse(readFileSync(manifest, 'utf8')).procedures.map((p: { name: string; physicalName: string }) => [p.name, p.physicalName]),
    ) as Record<string, string>;
    await t.pool.query(`CREATE OR REPLACE FUNCTION dr.${names.callee}(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT x * 11 $$`);
    const drifted = `dr.${names.callee}: its code in the database is not what procver created`;

    const pushed = await procver(['push', src], env);
    expect(pushed.code).toBe(0);
    expect(pushed.stderr).toContain('warning: 1 version(s) in this push drifted');
    expect(pushed.stderr).toContain(drifted);
    const check = await procver(['check', '--manifest', manifest], env);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(`dr.callee(integer): ${drifted}`);
    const collect = await procver(['collect', '--once'], env);
    expect(collect.stderr).toContain(drifted);

    // Put procver's code back: no drift.
    await t.pool.query(`CREATE OR REPLACE FUNCTION dr.${names.callee}(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT x * 10 $$`);
    expect((await procver(['check', '--manifest', manifest], env)).code).toBe(0);

    await dropLikeCleanup(t.db, names.caller!);
    await dropLikeCleanup(t.db, names.callee!);
    const restored = await procver(['restore', names.caller!, '--reason', 'rollback'], env);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain(`dr.${names.caller} is live`);
    expect(restored.stdout).toContain(`also restored dr.${names.callee}, which it calls (cleanup had quarantined or dropped it)`);

    await dropLikeCleanup(t.db, names.caller!);
    await dropLikeCleanup(t.db, names.callee!);
    const again = await procver(['push', src], env);
    expect(again.stdout).toContain('pushed 2 version(s): 0 created, 2 re-created, 0 unchanged');
    expect((await t.pool.query(`SELECT dr.${names.caller}(2) AS v`)).rows[0].v).toBe(21);
  });

  it('--deployment APP/ID is parsed once: no "/" or more than one is invalid (7), an unknown deployment is not found (6)', async () => {
    const env = { DATABASE_URL: t.url };
    expect((await procver(['migrate'], env)).code).toBe(0);
    const noSlash = await procver(['restore', '--deployment', 'shopweb', '--reason', 'r'], env);
    expect(noSlash.code).toBe(7);
    expect(noSlash.stderr).toContain('"shopweb" is not APP/ID');
    expect((await procver(['restore', '--deployment', 'a/b/c', '--reason', 'r'], env)).code).toBe(7);
    expect((await procver(['restore', '--deployment', '/x', '--reason', 'r'], env)).code).toBe(7);
    const unknown = await procver(['restore', '--deployment', 'shop/web', '--reason', 'r'], env);
    expect(unknown.code).toBe(6);
    expect(unknown.stderr).toContain('no deployment shop/web');
    const badApp = await procver(['deployments', 'add', '--app', 'a b', '--id', '1', '--manifest', '/nonexistent'], env);
    expect(badApp.code).toBe(7);
    expect(badApp.stderr).toContain('letters, digits, . _ - + only');
  });
});
