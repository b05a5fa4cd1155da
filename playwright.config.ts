import { defineConfig } from '@playwright/test';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const port = Number(process.env.E2E_PORT ?? 3100);
// A fresh embedded cluster for each run, so browser tests start from the demo data only.
const stateDir = process.env.E2E_STATE_DIR ?? mkdtempSync(join(tmpdir(), 'procver-e2e-'));
process.env.E2E_STATE_DIR = stateDir;
// PostgreSQL runs as its own user and must be able to reach its data directory.
chmodSync(stateDir, 0o755);

export default defineConfig({
  testDir: 'test/e2e',
  outputDir: 'test-results/e2e',
  timeout: 60_000,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    // Debian's Chromium; never a browser download.
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
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
      PROCVER_METRICS_TOKEN: 'e2e-metrics-token',
      // Low enough that the overload test (200 requests at once) sees 503s; above the 40 concurrent sign-ins.
      PROCVER_MAX_CONCURRENT_REQUESTS: '48',
      // As behind an authenticating proxy; requests without the header sign in as usual.
      PROCVER_TRUST_PROXY_HEADER: 'x-e2e-proxy-user',
      NEXT_TELEMETRY_DISABLED: '1',
    },
  },
});
