import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/build';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testTempDir } from '../helpers/disposal';

const run = promisify(execFile);

/**
 * The package as a user gets it: `npm pack`, installed into an empty project with no TypeScript,
 * no tsx and no repository, then every workflow command and the production dashboard from there.
 */
describe('the npm package, installed into an empty project', () => {
  let project: string;
  let t: TestDatabase;
  // A clean environment: nothing from this repository's tooling (NODE_OPTIONS loaders, tsx) leaks in.
  const env = () => ({ PATH: process.env.PATH!, HOME: process.env.HOME!, DATABASE_URL: t.url, PROCVER_ACTOR: 'ci:tarball' }) as unknown as NodeJS.ProcessEnv;
  const procver = async (args: string[]) => {
    try {
      const r = await run(join(project, 'node_modules/.bin/procver'), args, { cwd: project, env: env(), timeout: 120_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };

  beforeAll(async () => {
    ensureBuilt();
    const work = testTempDir('procver-tarball-');
    const packed = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { timeout: 300_000 });
    const tarball = join(work, packed.stdout.trim().split('\n').at(-1)!);
    project = join(work, 'app');
    cpSync(join(process.cwd(), 'examples/shop/v3'), join(project, 'sql'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    // --prefer-offline: the dependencies are in npm's cache after the repository's own install.
    await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline'], { cwd: project, timeout: 600_000 });
    t = await createTestDatabase({ migrated: false });
  }, 900_000);

  it('installs without TypeScript, tsx or Next.js sources', () => {
    const installed = readdirSync(join(project, 'node_modules'));
    expect(installed).toContain('procver');
    for (const absent of ['typescript', 'tsx', 'next', 'react', 'esbuild']) expect(installed).not.toContain(absent);
    expect(existsSync(join(project, 'node_modules/procver/lib'))).toBe(false);
  });

  it('runs compile, migrate, push, deployments add/live/list, check, collect --once, cleanup and audit verify', async () => {
    const compiled = await procver(['compile', 'sql', '--out', 'src/generated']);
    expect(compiled.stderr).toBe('');
    expect(compiled.stdout).toContain('compiled 15 definition(s) from 4 file(s)');
    // The generated module stands alone: no import of procver (or anything else).
    const procs = readFileSync(join(project, 'src/generated/procs.ts'), 'utf8');
    expect(procs).toContain('"shop.get_customer": "shop.get_customer__');
    expect(procs).not.toMatch(/\bimport\b|\brequire\(/);

    expect((await procver(['migrate'])).stdout).toMatch(/applied \d+ migration\(s\)/);
    // The shop's tables (not versioned by procver), as `procver dev` creates them.
    await t.pool.query(readFileSync(join(process.cwd(), 'examples/shop/setup.sql'), 'utf8'));
    const pushed = await procver(['push', 'sql']);
    expect({ code: pushed.code, stderr: pushed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(pushed.stdout).toContain('pushed 15 version(s): 15 created, 0 re-created, 0 unchanged');
    const manifest = 'src/generated/procver.manifest.json';
    expect((await procver(['check', '--manifest', manifest])).stdout).toContain('ok: all 15 referenced version(s) exist and are live');
    expect((await procver(['deployments', 'add', '--app', 'web', '--id', 'b1', '--manifest', manifest])).stdout).toContain('registered web/b1 (15 version(s)), pending');
    expect((await procver(['deployments', 'live', '--app', 'web', '--id', 'b1'])).stdout).toContain('web/b1 is live');
    const list = JSON.parse((await procver(['deployments', 'list', '--json'])).stdout);
    expect(list.map((d: { deploymentId: string; status: string }) => [d.deploymentId, d.status])).toEqual([['b1', 'live']]);
    const collected = await procver(['collect', '--once']);
    expect(collected.code).toBe(0);
    expect(collected.stdout).toMatch(/^primary 127\.0\.0\.1:\d+\/procver_test_\w+: \d+ version\(s\) with counters/m);
    const cleanup = await procver(['cleanup', '--apply']);
    expect(cleanup.code).toBe(0);
    expect(cleanup.stdout).toContain('0 retired version(s): 0 to drop, 0 to quarantine, 0 to put back from quarantine, 0 kept; 15 live version(s) not considered');
    expect((await procver(['audit', 'verify'])).stdout).toMatch(/audit log intact: \d+ entries, every link verified/);
    // The functions are there under their hashed names.
    const m = JSON.parse(readFileSync(join(project, manifest), 'utf8')) as { procedures: { schema: string; physicalName: string }[] };
    const created = await t.pool.query(
      `SELECT count(*)::int AS n FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname || '.' || p.proname = ANY($1)`,
      [m.procedures.map((p) => `${p.schema}.${p.physicalName}`)],
    );
    expect(created.rows[0].n).toBe(15);
  });

  it('serves the production dashboard: /api/health, /api/ready (200 after a collection), JSON request logs, graceful SIGTERM', async () => {
    await procver(['migrate']);
    await procver(['collect', '--once']);
    const child = spawn(join(project, 'node_modules/.bin/procver'), ['dashboard', '--port', '0'], {
      cwd: project,
      env: { ...env(), PROCVER_LOG: 'json' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 600 && !/procver dashboard on (http:\S+)/.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    const url = /procver dashboard on (http:\S+)/.exec(out)?.[1];
    expect(url, `dashboard did not start:\n${out}\n${err}`).toBeDefined();

    const health = await fetch(`${url}/api/health`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await fetch(`${url}/api/ready`);
    const body = await ready.json();
    expect(ready.status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.checks.registry).toEqual({ ok: true, detail: 'migrated' });
    // Pages still need a session.
    const page = await fetch(`${url}/`, { redirect: 'manual' });
    expect([page.status, page.headers.get('location')]).toEqual([307, '/sign-in']);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('dashboard stopped');
    const logs = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'request', method: 'GET', path: '/api/ready', status: 200 }));
    expect(err).toBe('');
  });

  it('runs the demo (`procver dev`) against DATABASE_URL with the packaged dashboard', async () => {
    const demo = await createTestDatabase({ migrated: false });
    const child = spawn(join(project, 'node_modules/.bin/procver'), ['dev'], {
      cwd: project,
      env: { ...env(), DATABASE_URL: demo.url, PORT: '0', PROCVER_DEMO_PASSWORD: 'tarball-demo' },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const started = /dashboard on (http:\S+) \(production build\)/;
    for (let i = 0; i < 1200 && !started.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    const url = started.exec(out)?.[1];
    expect(url, `demo did not start:\n${out}`).toBeDefined();
    const signIn = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@procver.demo', password: 'tarball-demo' }),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const page = await fetch(`${url}/procedures`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('get_customer');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
