import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEnv } from '../config';
import { serveDashboard, type RunningDashboard } from '../dashboard/serve';
import { packageRoot } from '../packageRoot';
import { createDb, createPool } from '../db/client';
import { migrate } from '../db/migrate';
import { seedLifecycle } from '../demo/lifecycle';
import { seedDemo, seedDemoUsers } from '../demo/seed';
import { startTraffic } from '../demo/traffic';
import { CounterCache, collectUsage } from '../usage/collect';
import { databaseUrlFor, startEmbedded, type EmbeddedServer } from '../embedded';

const DEMO_DB = 'procver_demo';

function log(line: string) {
  console.log(`[procver] ${line}`);
}

async function portFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * `npm run dev`: a real PostgreSQL (embedded unless DATABASE_URL is set), the registry, the demo
 * shop with its deployments, simulated traffic, and the dashboard. Ctrl-C stops all of it.
 */
export async function runDev(): Promise<number> {
  const env = readEnv();
  // Where the embedded cluster and the demo build outputs live (git-ignored).
  const STATE_DIR = env.PROCVER_STATE_DIR ?? join(process.cwd(), '.procver');
  let server: EmbeddedServer | undefined;
  let url = env.DATABASE_URL;
  const started = Date.now();
  if (!url) {
    const wanted = env.PROCVER_PG_PORT ?? 54329;
    // Without the wanted port, startEmbedded picks a free one (and picks again if it is taken first).
    const port = wanted > 0 && (await portFree(wanted)) ? wanted : undefined;
    server = await startEmbedded({ dataDir: join(STATE_DIR, 'pgdata'), port });
    log(`started embedded PostgreSQL on 127.0.0.1:${server.port} (data in ${join(STATE_DIR, 'pgdata')})`);
    const admin = createPool(server.adminUrl, 1);
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DEMO_DB]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DEMO_DB}`);
    await admin.end();
    url = databaseUrlFor(server.adminUrl, DEMO_DB);
  } else {
    log('using DATABASE_URL');
  }

  const pool = createPool(url, 8);
  const db = createDb(pool);
  let stopTraffic: (() => Promise<void>) | undefined;
  let next: ReturnType<typeof spawn> | undefined;
  let dashboard: RunningDashboard | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping…');
    next?.kill('SIGTERM');
    await dashboard?.close().catch(() => undefined);
    await stopTraffic?.().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await server?.stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    const applied = await migrate(pool);
    if (applied > 0) log(`applied ${applied} registry migration(s)`);
    const seeded = await seedDemo(db, pool, join(STATE_DIR, 'demo'), log);
    await seedDemoUsers(db, log);
    if (seeded.firstRun) await seedLifecycle(db, url, seeded.v0Hashes, log);
    // PROCVER_DEMO_TRAFFIC=off: no simulated frontends; the browser tests make the calls they need.
    const stopSimulator = env.PROCVER_DEMO_TRAFFIC === 'off' ? async () => undefined : startTraffic(db, url, log);
    // Where the demo's database is, for tools (and the browser tests) that work on it beside the dashboard.
    mkdirSync(STATE_DIR, { recursive: true });
    writeFileSync(join(STATE_DIR, 'database-url'), `${url}\n`, { mode: 0o600 });
    // The collector runs inside the demo so the numbers move (every 5 s instead of 30).
    const targets = [{ url, role: 'primary' as const }];
    const counters = new CounterCache();
    await collectUsage(db, targets, {}, counters);
    const collector = setInterval(() => {
      collectUsage(db, targets, { retentionDays: 14, hourlyRetentionDays: 8 }, counters).catch((e: Error) => log(`collect failed: ${e.message}`));
    }, 5000);
    stopTraffic = async () => {
      clearInterval(collector);
      await stopSimulator();
    };
  } catch (e) {
    console.error(`[procver] could not prepare the demo: ${(e as Error).message}`);
    await shutdown(1);
    return 1;
  }

  const port = String(env.PORT ?? 3000);
  const mode = env.PROCVER_DEV_MODE ?? 'dev';
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s; dashboard: http://localhost:${port}`);
  if (!existsSync(join(packageRoot(), 'lib'))) {
    // The installed package has no sources to run next dev on: it serves its production build.
    process.env.DATABASE_URL = url;
    dashboard = await serveDashboard({ dir: join(packageRoot(), 'dist/web'), port: Number(port), host: '127.0.0.1', jsonLog: env.PROCVER_LOG === 'json' });
    log(`dashboard on ${dashboard.url} (production build)`);
    return new Promise<number>(() => undefined);
  }
  // Idle keep-alive connections outlive a client's pauses: with Node's 5 s default, a client reusing
  // a socket just as the server closes it gets ECONNRESET (seen in the browser tests' API calls).
  const keepAlive = mode === 'start' ? ['--keepAliveTimeout', '65000'] : [];
  next = spawn(join(process.cwd(), 'node_modules/.bin/next'), [mode, '-p', port, ...keepAlive], {
    stdio: 'inherit',
    env: { NEXT_TELEMETRY_DISABLED: '1', ...process.env, DATABASE_URL: url },
  });
  next.on('exit', (code) => void shutdown(code ?? 0));
  return new Promise<number>(() => undefined);
}
