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

  it('refuses a bad manifest file when registering a deployment', async () => {
    const dir = writeTree({ 'm.json': '{"version": 1, "procedures": "nope"}' });
    const r = await procver(['deployments', 'add', '--app', 'x', '--id', '1', '--manifest', join(dir, 'm.json')], { DATABASE_URL: t.url });
    expect(r.code).toBe(7);
    expect(r.stderr).toContain('is not a procver manifest');
    expect(r.stderr).toContain('procedures:');
  });
});
