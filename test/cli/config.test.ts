import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { grantPolicy, loadSettings, readConfigFile, readEnv, sessionHours, usageTargets } from '../../lib/config';
import { compileOptionsFrom } from '../../lib/cli/compileOptions';
import { ProcverError } from '../../lib/errors';
import { writeTree } from '../helpers/sources';

const run = promisify(execFile);
const bin = join(process.cwd(), 'bin/procver.mjs');

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProcverError);
    expect((e as ProcverError).code).toBe('config');
    return (e as Error).message;
  }
  throw new Error('no error');
}

describe('environment variables (one schema)', () => {
  it('names the variable and what is wrong, instead of running with NaN', () => {
    expect(configError(() => readEnv({ PROCVER_SESSION_HOURS: 'abc' }))).toBe('environment variable PROCVER_SESSION_HOURS: not a number of hours');
    expect(configError(() => readEnv({ PROCVER_SESSION_HOURS: '0' }))).toBe('environment variable PROCVER_SESSION_HOURS: must be more than 0 hours');
    expect(configError(() => readEnv({ PROCVER_QUIET_WINDOW: '7 days' }))).toBe(
      'environment variable PROCVER_QUIET_WINDOW: not a duration; use a number with s, m, h or d (e.g. 7d, 30m)',
    );
    expect(configError(() => readEnv({ PROCVER_ROLLBACK_KEEP: '1.5' }))).toBe('environment variable PROCVER_ROLLBACK_KEEP: not a whole number');
    expect(configError(() => readEnv({ PROCVER_TRUST_PROXY_HEADER: 'x user' }))).toBe('environment variable PROCVER_TRUST_PROXY_HEADER: not an HTTP header name');
    expect(configError(() => readEnv({ PROCVER_TRUSTED_PROXIES: 'proxy.internal' }))).toBe(
      'environment variable PROCVER_TRUSTED_PROXIES: "proxy.internal" is neither a CIDR (10.0.0.0/8, fd00::/8, 127.0.0.1) nor a hop count; fix the setting or unset it',
    );
    expect(configError(() => readEnv({ PROCVER_PUBLIC_URL: 'procver.example.com' }))).toBe(
      'environment variable PROCVER_PUBLIC_URL: "procver.example.com" is not a URL; set it to the address people open, e.g. https://procver.example.com',
    );
    expect(configError(() => readEnv({ PROCVER_MAX_CONCURRENT_REQUESTS: '0' }))).toBe('environment variable PROCVER_MAX_CONCURRENT_REQUESTS: must be at least 1');
    expect(configError(() => readEnv({ PROCVER_MAX_CONCURRENT_REQUESTS: 'many' }))).toBe('environment variable PROCVER_MAX_CONCURRENT_REQUESTS: not a number');
    expect(configError(() => readEnv({ PROCVER_STATS_FLUSH_DELAY: '60' }))).toBe(
      'environment variable PROCVER_STATS_FLUSH_DELAY: not a duration; use a number with s, m, h or d (e.g. 7d, 30m)',
    );
    // Below PostgreSQL's own flush interval (1 s) no server publishes the last calls in time.
    expect(configError(() => readEnv({ PROCVER_STATS_FLUSH_DELAY: '0s' }))).toBe(
      'environment variable PROCVER_STATS_FLUSH_DELAY: "0s" is shorter than PostgreSQL takes to publish call counts (a backend sends its statistics at most once a second, an idle one within 10 s, one that finds them locked within 60 s), so cleanup would trust readings that cannot show the last calls yet; set it to at least 1s (only where the statistics are never contended, as in tests) or unset it for the default 60s',
    );
    expect(configError(() => readEnv({ PROCVER_STATS_FLUSH_DELAY: '0.5s' }))).toMatch(/^environment variable PROCVER_STATS_FLUSH_DELAY: "0\.5s" is shorter than/);
    expect(readEnv({ PROCVER_STATS_FLUSH_DELAY: '1s' }).PROCVER_STATS_FLUSH_DELAY).toBe('1s'); // the e2e server's
    expect(configError(() => readEnv({ PROCVER_COLLECT_INTERVAL: 'often' }))).toMatch(/^environment variable PROCVER_COLLECT_INTERVAL: not a duration/);
    // The value of a bad DATABASE_URL (it may hold a password) is never echoed.
    const m = configError(() => readEnv({ DATABASE_URL: 'secret-password' }));
    expect(m).toContain('environment variable DATABASE_URL: not a connection URL');
    expect(m).not.toContain('secret-password');
  });

  it('reads the process environment again as soon as a variable of its changes', () => {
    const before = process.env.PROCVER_SESSION_HOURS;
    try {
      process.env.PROCVER_SESSION_HOURS = '3';
      expect(sessionHours(readEnv())).toBe(3);
      expect(readEnv()).toBe(readEnv());
      process.env.PROCVER_SESSION_HOURS = '4';
      expect(sessionHours(readEnv())).toBe(4);
      process.env.PROCVER_SESSION_HOURS = 'x';
      expect(configError(() => readEnv())).toBe('environment variable PROCVER_SESSION_HOURS: not a number of hours');
    } finally {
      if (before === undefined) delete process.env.PROCVER_SESSION_HOURS;
      else process.env.PROCVER_SESSION_HOURS = before;
    }
  });

  it('reads defaults and numbers, with an empty variable meaning unset', () => {
    expect(sessionHours(readEnv({}))).toBe(12);
    expect(sessionHours(readEnv({ PROCVER_SESSION_HOURS: '1.5' }))).toBe(1.5);
    expect(sessionHours(readEnv({ PROCVER_SESSION_HOURS: '' }))).toBe(12);
  });
});

describe('procver.config.json', () => {
  it('names the file and the setting in every error', () => {
    const dir = writeTree({
      'bad-duration.json': JSON.stringify({ windows: { quiet: '7x' } }),
      'unknown.json': JSON.stringify({ sources: 'sql', grant: ['app'] }),
      'bad-url.json': JSON.stringify({ replicas: ['not a url'] }),
      'bad-json.json': '{ "sources": ',
    });
    expect(configError(() => readConfigFile(join(dir, 'bad-duration.json'), true))).toBe(
      `${join(dir, 'bad-duration.json')}: windows.quiet: not a duration; use a number with s, m, h or d (e.g. 7d, 30m)`,
    );
    expect(configError(() => readConfigFile(join(dir, 'unknown.json'), true))).toMatch(
      /unknown\.json: Unrecognized key: "grant" \(known: \$schema, sources, schema, searchPath, skipOther, strict, out, grants, publicExecute, replicas, windows\)$/,
    );
    expect(configError(() => readConfigFile(join(dir, 'bad-url.json'), true))).toMatch(/bad-url\.json: replicas\.0: not a connection URL/);
    expect(configError(() => readConfigFile(join(dir, 'bad-json.json'), true))).toMatch(/bad-json\.json: not valid JSON: /);
    expect(configError(() => readConfigFile(join(dir, 'missing.json'), true))).toBe(`PROCVER_CONFIG: ${join(dir, 'missing.json')} does not exist`);
    expect(readConfigFile(join(dir, 'missing.json'), false)).toEqual({});
  });

  it('fills in the settings the environment leaves unset; a set variable wins', () => {
    const dir = writeTree({
      'procver.config.json': JSON.stringify({
        sources: 'sql',
        out: 'web/generated',
        grants: ['app_read', 'app_write'],
        publicExecute: false,
        replicas: ['postgres://r1:5432/app'],
        windows: { quiet: '3d', rollbackKeep: 4 },
      }),
    });
    const env: NodeJS.ProcessEnv = { DATABASE_URL: 'postgres://primary:5432/app', PROCVER_GRANT_EXECUTE: 'ops' } as unknown as NodeJS.ProcessEnv;
    const file = loadSettings(dir, env);
    expect(file.sources).toBe(join(dir, 'sql'));
    expect(file.out).toBe(join(dir, 'web/generated'));
    const parsed = readEnv(env);
    expect(grantPolicy(parsed)).toEqual({ roles: ['ops'], publicExecute: false });
    expect(usageTargets(parsed).map((t) => [t.role, t.url])).toEqual([
      ['primary', 'postgres://primary:5432/app'],
      ['replica', 'postgres://r1:5432/app'],
    ]);
    expect([env.PROCVER_QUIET_WINDOW, env.PROCVER_ROLLBACK_KEEP, env.PROCVER_QUARANTINE]).toEqual(['3d', '4', undefined]);
  });

  it('searchPath: a flag, then PROCVER_SEARCH_PATH, then the file; a bad one names the file and key', () => {
    const dir = writeTree({
      'procver.config.json': JSON.stringify({ searchPath: 'app, public', skipOther: true }),
      'bad.json': JSON.stringify({ searchPath: '"open' }),
    });
    const fromFile: NodeJS.ProcessEnv = {} as NodeJS.ProcessEnv;
    const file = loadSettings(dir, fromFile);
    expect(file.skipOther).toBe(true);
    expect(compileOptionsFrom({}, readEnv(fromFile), file)).toMatchObject({ searchPath: ['app', 'public'], skipOther: true });
    const fromEnv = { PROCVER_SEARCH_PATH: 'ops' } as unknown as NodeJS.ProcessEnv;
    loadSettings(dir, fromEnv);
    expect(compileOptionsFrom({}, readEnv(fromEnv), file).searchPath).toEqual(['ops']);
    expect(compileOptionsFrom({ 'search-path': 'cli' }, readEnv(fromEnv), file).searchPath).toEqual(['cli']);
    expect(configError(() => readConfigFile(join(dir, 'bad.json'), true))).toBe(
      `${join(dir, 'bad.json')}: searchPath: unterminated quoted schema name "open; write e.g. app, "My Schema", public`,
    );
  });

  it('the CLI: the file gives compile its sources and out; a flag overrides; a bad setting stops every command with exit 3', async () => {
    const dir = writeTree({
      'db/a.sql': 'CREATE FUNCTION app.a() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;',
      'procver.config.json': JSON.stringify({ sources: 'db', out: 'gen', schema: 'app' }),
    });
    const env = { ...process.env, DATABASE_URL: '' };
    await run('node', [bin, 'compile'], { cwd: dir, env });
    expect(JSON.parse(readFileSync(join(dir, 'gen/procver.manifest.json'), 'utf8')).procedures[0].physicalName).toMatch(/^a__[0-9a-f]{10}$/);
    await run('node', [bin, 'compile', '--out', 'elsewhere'], { cwd: dir, env });
    expect(existsSync(join(dir, 'elsewhere/procs.ts'))).toBe(true);

    const bad = await run('node', [bin, 'compile'], { cwd: dir, env: { ...env, PROCVER_SESSION_HOURS: 'abc' } }).catch((e) => e);
    expect([bad.code, bad.stderr]).toEqual([3, 'procver: environment variable PROCVER_SESSION_HOURS: not a number of hours\n']);
    // Settings read only by the dashboard or the collector stop every command too.
    const proxies = await run('node', [bin, 'compile'], { cwd: dir, env: { ...env, PROCVER_TRUSTED_PROXIES: 'proxy.internal' } }).catch((e) => e);
    expect([proxies.code, proxies.stderr]).toEqual([
      3,
      'procver: environment variable PROCVER_TRUSTED_PROXIES: "proxy.internal" is neither a CIDR (10.0.0.0/8, fd00::/8, 127.0.0.1) nor a hop count; fix the setting or unset it\n',
    ]);
  });
});
