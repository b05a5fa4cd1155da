import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { writeTree } from '../helpers/sources';

const run = promisify(execFile);
const bin = join(process.cwd(), 'bin/procver.mjs');

async function procver(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await run('node', [bin, ...args], { env: { ...process.env, PROCVER_ACTOR: 'cli-test', ...env }, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('procver CLI', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ migrated: false });
  });

  it('compile reports bad SQL as file:line:column and exits non-zero', async () => {
    const dir = writeTree({ 'sql/bad.sql': 'CREATE FUNCTION f() RETURNS int\nLANGUAGE sql AS $$ SELECT 1 $$ STRICTT;' });
    const r = await procver(['compile', dir]);
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

  it('says what to set when DATABASE_URL is missing', async () => {
    const r = await procver(['migrate'], { DATABASE_URL: '' });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('DATABASE_URL is not set');
  });

  it('runs the whole workflow: migrate, compile, push, register, go live, check, roll back', async () => {
    const env = { DATABASE_URL: t.url };
    const v1 = writeTree({ 'a.sql': "CREATE FUNCTION app.hello() RETURNS text LANGUAGE sql AS $$ SELECT 'v1' $$;" });
    const v2 = writeTree({ 'a.sql': "CREATE FUNCTION app.hello() RETURNS text LANGUAGE sql AS $$ SELECT 'v2' $$;" });

    expect((await procver(['migrate'], env)).stdout).toMatch(/applied \d+ migration/);
    expect((await procver(['migrate'], env)).stdout).toContain('registry is up to date');

    const compiled = await procver(['compile', v1, '--out', join(v1, 'build')]);
    expect(compiled.code).toBe(0);
    const manifest1 = join(v1, 'build/procver.manifest.json');
    expect(readFileSync(join(v1, 'build/procs.ts'), 'utf8')).toContain('"app.hello": "app.hello__');

    // The gate fails before the push: the version does not exist yet.
    const early = await procver(['check', '--manifest', manifest1], env);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/app\.hello\(\): hello__[0-9a-f]{10} was never pushed/);

    const pushed = await procver(['push', v1], env);
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain('1 created, 0 re-created, 0 unchanged');
    expect((await procver(['push', v1], env)).stdout).toContain('0 created, 0 re-created, 1 unchanged');

    expect((await procver(['check', '--manifest', manifest1], env)).code).toBe(0);
    expect((await procver(['deployments', 'add', '--app', 'web', '--id', 'b1', '--manifest', manifest1, '--live'], env)).code).toBe(0);

    await procver(['compile', v2, '--out', join(v2, 'build')]);
    await procver(['push', v2], env);
    const added = await procver(['deployments', 'add', '--app', 'web', '--id', 'b2', '--manifest', join(v2, 'build/procver.manifest.json')], env);
    expect(added.stdout).toContain('registered web/b2 (1 version(s)), pending');
    const live = await procver(['deployments', 'live', '--app', 'web', '--id', 'b2'], env);
    expect(live.stdout).toContain('web/b2 is live; web/b1 is now previous (rollback target)');

    const list = JSON.parse((await procver(['deployments', 'list', '--json'], env)).stdout);
    expect(list.map((d: { deploymentId: string; status: string }) => [d.deploymentId, d.status])).toEqual([
      ['b2', 'live'],
      ['b1', 'previous'],
    ]);

    // Rollback: the old build's version is still there and answers.
    expect((await procver(['deployments', 'live', '--app', 'web', '--id', 'b1'], env)).code).toBe(0);
    const m1 = JSON.parse(readFileSync(manifest1, 'utf8'));
    const r = await t.pool.query(`SELECT app.${m1.procedures[0].physicalName}() AS v`);
    expect(r.rows[0].v).toBe('v1');

    const audit = await t.pool.query('SELECT actor, action FROM procver.audit_log ORDER BY id');
    expect(audit.rows.every((a) => a.actor === 'cli-test')).toBe(true);
    expect(audit.rows.map((a) => a.action)).toEqual([
      'push',
      'deployment.add',
      'deployment.live',
      'push',
      'deployment.add',
      'deployment.live',
      'deployment.live',
    ]);
  });

  it('collect --once reports an unreachable replica as a gap and exits 1', async () => {
    const env = { DATABASE_URL: t.url, PROCVER_REPLICA_URLS: 'postgres://u:secret@127.0.0.1:1/app' };
    await procver(['migrate'], { DATABASE_URL: t.url });
    const r = await procver(['collect', '--once'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^primary 127\.0\.0\.1:\d+\/procver_test_\w+: \d+ version\(s\) with counters/m);
    expect(r.stderr).toContain('replica 127.0.0.1:1/app: GAP: cannot read 127.0.0.1:1/app');
    expect(r.stderr).not.toContain('secret');
  });

  it('collect runs until SIGTERM and then stops cleanly', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn('node', [bin, 'collect', '--interval', '1'], { env: { ...process.env, DATABASE_URL: t.url } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 200 && !/primary .* with counters[\s\S]*primary .* with counters/.test(out); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(out).toMatch(/collecting from 1 instance\(s\) every 1 s/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('collector stopped');
  });

  it('retire refuses a version a live deployment uses (exit 5, listing it) and restore puts one back', async () => {
    const env = { DATABASE_URL: t.url };
    await procver(['migrate'], env);
    const src = writeTree({ 'r.sql': "CREATE FUNCTION ret.r() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;" });
    await procver(['compile', src, '--out', join(src, 'build')]);
    await procver(['push', src], env);
    const manifest = join(src, 'build/procver.manifest.json');
    const physical = JSON.parse(readFileSync(manifest, 'utf8')).procedures[0].physicalName;
    await procver(['deployments', 'add', '--app', 'ret', '--id', 'r1', '--manifest', manifest, '--live'], env);

    const refused = await procver(['retire', physical, '--reason', 'old'], env);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('referenced by 1 live or pending deployment(s)');
    expect(refused.stderr).toContain('ret/r1 (live)');
    expect((await procver(['retire', physical], env)).stderr).toContain('missing --reason');

    const forced = await procver(['retire', physical, '--reason', 'incident 42', '--override'], env);
    expect(forced.stdout).toContain(`ret.${physical} is retired`);
    expect(forced.stdout).toContain('warning: still referenced by ret/r1 (live)');
    expect((await procver(['check', '--manifest', manifest], env)).code).toBe(1);
    const restored = await procver(['restore', physical, '--reason', 'false alarm'], env);
    expect(restored.stdout).toContain(`ret.${physical} is live`);
    expect((await procver(['check', '--manifest', manifest], env)).code).toBe(0);
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
    await procver(['migrate'], env);
    const v1 = writeTree({ 'a.sql': "CREATE FUNCTION cl.greet() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'v1'; END $$;" });
    const v2 = writeTree({ 'a.sql': "CREATE FUNCTION cl.greet() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'v2'; END $$;" });
    for (const [dir, id] of [[v1, 'c1'], [v2, 'c2']] as const) {
      await procver(['compile', dir, '--out', join(dir, 'build')]);
      await procver(['push', dir], env);
      await procver(['deployments', 'add', '--app', 'cl', '--id', id, '--manifest', join(dir, 'build/procver.manifest.json'), '--live'], env);
    }
    const old = JSON.parse(readFileSync(join(v1, 'build/procver.manifest.json'), 'utf8')).procedures[0].physicalName;
    await procver(['collect', '--once'], env);
    await procver(['retire', old, '--reason', 'c2 replaced it'], env);
    const tooShort = await procver(['cleanup', '--quiet-window', '1s'], env);
    expect(tooShort.code).toBe(7);
    expect(tooShort.stderr).toContain('the quiet window (1s) is shorter than the evidence can resolve: the minimum is 2s');
    await new Promise((r) => setTimeout(r, 2100));
    await procver(['collect', '--once'], env);

    const dry = await procver(['cleanup'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('cleanup plan (dry run; --apply to act): quiet window 2s, quarantine 2s');
    expect(dry.stdout).toContain(`cl.${old}  cl.greet()  → QUARANTINE`);
    expect(dry.stdout).toMatch(/✓ retired +retired \d+s ago; the quiet window is 2s/);
    expect(dry.stdout).toMatch(/✓ deployments +only archived or old deployments reference it \(1\)/);
    expect(dry.stdout).toMatch(/\? in flight +not quarantined yet/);
    expect(dry.stdout).toMatch(/1 retired version\(s\): 0 to drop, 1 to quarantine, 0 to put back from quarantine, 0 kept/);
    const json = JSON.parse((await procver(['cleanup', '--json'], env)).stdout);
    expect(json.plan.rows[0].checks.map((c: { name: string }) => c.name)).toEqual(['retired', 'deployments', 'usage', 'dependents', 'in_flight']);

    expect((await procver(['cleanup', '--apply'], env)).stdout).toMatch(new RegExp(`quarantined +cl\\.${old}: renamed to greet__\\w+__quarantined`));
    await new Promise((r) => setTimeout(r, 2100));
    await procver(['collect', '--once'], env);
    expect((await procver(['cleanup', '--apply'], env)).stdout).toMatch(new RegExp(`dropped +cl\\.${old}: dropped`));

    const rollback = await procver(['deployments', 'live', '--app', 'cl', '--id', 'c1'], env);
    expect(rollback.code).toBe(5);
    expect(rollback.stderr).toContain('restore these 1 version(s) first: procver restore --deployment cl/c1');
    const restored = await procver(['restore', '--deployment', 'cl/c1', '--reason', 'rolling back'], env);
    expect(restored.stdout).toContain('restored 1 version(s) for cl/c1:');
    expect((await procver(['deployments', 'live', '--app', 'cl', '--id', 'c1'], env)).code).toBe(0);
    expect((await t.pool.query(`SELECT cl.${old}() AS v`)).rows[0].v).toBe('v1');
  });

  it('manages users (password from stdin) and verifies the audit chain', async () => {
    const env = { DATABASE_URL: t.url };
    await procver(['migrate'], env);
    const { spawnSync } = await import('node:child_process');
    const add = spawnSync('node', [bin, 'users', 'add', '--email', 'Ana@Example.com', '--name', 'Ana', '--role', 'operator', '--password-stdin'], {
      input: 'a long password here\n',
      env: { ...process.env, ...env, PROCVER_ACTOR: 'cli-test' },
      encoding: 'utf8',
    });
    expect(add.status).toBe(0);
    expect(add.stdout).toContain('added ana@example.com (operator)');
    expect((await procver(['users', 'set-role', '--email', 'ana@example.com', '--role', 'admin'], env)).stdout).toContain('is now admin');
    expect((await procver(['users', 'list'], env)).stdout).toMatch(/ana@example\.com +Ana +admin/);
    expect((await procver(['users', 'add', '--email', 'x@y.z', '--role', 'root'], env)).stderr).toContain('--role must be one of viewer, operator, admin');
    const ok = await procver(['audit', 'verify'], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/audit log intact: \d+ entries, every link verified/);
    await t.pool.query('ALTER TABLE procver.audit_log DISABLE TRIGGER audit_no_update_delete');
    await t.pool.query(`UPDATE procver.audit_log SET actor = 'someone else' WHERE action = 'user.add'`);
    await t.pool.query('ALTER TABLE procver.audit_log ENABLE TRIGGER audit_no_update_delete');
    const broken = await procver(['audit', 'verify'], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/audit log BROKEN at entry #\d+ \(id \d+\): its content does not match its hash/);
  });

  it('refuses a bad manifest file when registering a deployment', async () => {
    const dir = writeTree({ 'm.json': '{"version": 1, "procedures": "nope"}' });
    const r = await procver(['deployments', 'add', '--app', 'x', '--id', '1', '--manifest', join(dir, 'm.json')], { DATABASE_URL: t.url });
    expect(r.code).toBe(7);
    expect(r.stderr).toContain('is not a procver manifest');
    expect(r.stderr).toContain('procedures:');
  });
});
