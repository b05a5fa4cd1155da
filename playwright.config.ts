import { defineConfig, type Project } from '@playwright/test';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const port = Number(process.env.E2E_PORT ?? 3100);
// A fresh embedded cluster for each run, so browser tests start from the demo data only. The
// process that makes it (the runner; its workers inherit E2E_STATE_DIR) removes it on exit, once
// the server's PostgreSQL has stopped.
if (!process.env.E2E_STATE_DIR) {
  const dir = mkdtempSync(join(tmpdir(), 'procver-e2e-'));
  process.env.E2E_STATE_DIR = dir;
  process.on('exit', () => {
    // postmaster.pid stays behind when the server was killed, so ask whether that process lives.
    const running = () => {
      try {
        const pid = Number(readFileSync(join(dir, 'pgdata/postmaster.pid'), 'utf8').split('\n')[0]);
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const tick = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 300 && running(); i++) Atomics.wait(tick, 0, 0, 100);
    if (running()) console.error(`PostgreSQL in ${dir} is still running; left the directory in place`);
    else rmSync(dir, { recursive: true, force: true });
  });
}
const stateDir = process.env.E2E_STATE_DIR;
// PostgreSQL runs as its own user and must be able to reach its data directory.
chmodSync(stateDir, 0o755);

/**
 * E2E_SHUFFLE=<seed>: every test in its own project, the projects chained in a seeded random order
 * (Playwright runs dependencies first), to show that no test needs another to run before it.
 */
function shuffledProjects(seed: number): Project[] {
  const dir = 'test/e2e';
  const tests = readdirSync(dir)
    .filter((f) => f.endsWith('.spec.ts'))
    .sort()
    .flatMap((file) => [...readFileSync(join(dir, file), 'utf8').matchAll(/^test\('((?:[^'\\]|\\.)*)'/gm)].map((m) => ({ file, title: m[1]! })));
  let state = seed >>> 0 || 1;
  const random = () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 2 ** 32;
  };
  for (let i = tests.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [tests[i], tests[j]] = [tests[j]!, tests[i]!];
  }
  const escapeRegExp = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return tests.map((t, i) => ({
    name: `${i + 1}`,
    testMatch: t.file,
    grep: new RegExp(`${escapeRegExp(t.title)}$`),
    dependencies: i === 0 ? [] : [`${i}`],
  }));
}

export default defineConfig({
  testDir: 'test/e2e',
  outputDir: 'test-results/e2e',
  timeout: 60_000,
  workers: 1,
  reporter: [['list']],
  ...(process.env.E2E_SHUFFLE ? { projects: shuffledProjects(Number(process.env.E2E_SHUFFLE)) } : {}),
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    // Debian's Chromium; never a browser download.
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
    screenshot: 'only-on-failure',
  },
  webServer: {
    // The production build, served by `procver dev` on embedded PostgreSQL with the demo data.
    command: `node bin/procver.mjs dev`,
    url: `http://127.0.0.1:${port}`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    env: {
      PORT: String(port),
      PROCVER_DEV_MODE: 'start',
      PROCVER_STATE_DIR: stateDir,
      PROCVER_PG_PORT: '0',
      DATABASE_URL: '',
      PROCVER_DEMO_PASSWORD: 'e2e-demo-password',
      // No simulated frontends: each test makes the calls it needs (test/e2e/fixtures.ts).
      PROCVER_DEMO_TRAFFIC: 'off',
      // Short enough for a browser test to watch a version go through quarantine and drop.
      PROCVER_QUIET_WINDOW: '20s',
      PROCVER_QUARANTINE: '2s',
      // The browser tests call, then collect at once, on one idle local server: statistics are published
      // within a second and read every second or so, so cleanup accepts the 2 s quarantine above.
      PROCVER_STATS_FLUSH_DELAY: '1s',
      PROCVER_COLLECT_INTERVAL: '1s',
      PROCVER_METRICS_TOKEN: 'e2e-metrics-token',
      // Low enough that the overload test (200 requests at once) sees 503s; above the 40 concurrent sign-ins.
      PROCVER_MAX_CONCURRENT_REQUESTS: '48',
      // As behind an authenticating proxy; requests without the header sign in as usual.
      PROCVER_TRUST_PROXY_HEADER: 'x-e2e-proxy-user',
      NEXT_TELEMETRY_DISABLED: '1',
    },
  },
});
