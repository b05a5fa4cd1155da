/**
 * Back-pressure under a burst: 200 signed-in requests for /procedures at once against the
 * production build, with the front door's concurrency limit (lib/web/frontDoor.ts) and, as the
 * floor, with the limit out of the way (every request queues behind the database pool, as before).
 * Prints per-status latency (median, p95, max) and how many were refused. Run after `npx next build`:
 *   npx tsx bench/overload.ts [BURST=200] [BURSTS=5] [LIMITS=16]   (LIMITS: e.g. 8,16,32; BENCH_NO_FLOOR=1 skips the floor)
 * Each configuration starts its own `procver dev` (PROCVER_DEV_MODE=start) on a fresh embedded cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, percentile } from './lib';

const BURST = Number(process.argv[2] ?? 200);
const BURSTS = Number(process.argv[3] ?? 5);
/** one limit or several, comma-separated */
const LIMIT_LIST = process.argv[4] ?? '16';
const PORT = Number(process.env.BENCH_PORT ?? 3199);
const PASSWORD = 'bench-demo-password';

async function startServer(maxConcurrent: number): Promise<ChildProcess> {
  const stateDir = mkdtempSync(join(tmpdir(), 'procver-bench-overload-'));
  chmodSync(stateDir, 0o755);
  const child = spawn('node', ['bin/procver.mjs', 'dev'], {
    env: {
      ...process.env,
      PORT: String(PORT),
      PROCVER_DEV_MODE: 'start',
      PROCVER_STATE_DIR: stateDir,
      PROCVER_PG_PORT: '0',
      DATABASE_URL: '',
      PROCVER_DEMO_PASSWORD: PASSWORD,
      PROCVER_MAX_CONCURRENT_REQUESTS: String(maxConcurrent),
      NEXT_TELEMETRY_DISABLED: '1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout!.resume();
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${PORT}/sign-in`)).ok) return child;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill('SIGTERM');
  throw new Error('the server did not come up within 2 minutes');
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function session(): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${PORT}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'viewer@procver.demo', password: PASSWORD }),
  });
  if (r.status !== 200) throw new Error(`sign-in answered ${r.status}`);
  return r.headers.get('set-cookie')!.split(';')[0]!;
}

interface Outcome {
  status: number;
  ms: number;
}

async function burst(cookie: string): Promise<Outcome[]> {
  return Promise.all(
    Array.from({ length: BURST }, async () => {
      const t0 = performance.now();
      const r = await fetch(`http://127.0.0.1:${PORT}/procedures`, { headers: { cookie }, redirect: 'manual' });
      await r.arrayBuffer();
      return { status: r.status, ms: performance.now() - t0 };
    }),
  );
}

async function measure(label: string, maxConcurrent: number) {
  const server = await startServer(maxConcurrent);
  try {
    const cookie = await session();
    await burst(cookie); // warm-up: compiles nothing (production build) but fills caches and the pool
    const all: Outcome[] = [];
    for (let i = 0; i < BURSTS; i++) {
      all.push(...(await burst(cookie)));
      await new Promise((r) => setTimeout(r, 1000));
    }
    const fmt = (v: number[]) => (v.length === 0 ? '—' : `${percentile(v, 50).toFixed(0)} ms / ${percentile(v, 95).toFixed(0)} ms / ${Math.max(...v).toFixed(0)} ms`);
    const ok = all.filter((o) => o.status === 200).map((o) => o.ms);
    const busy = all.filter((o) => o.status === 503).map((o) => o.ms);
    const other = all.filter((o) => o.status !== 200 && o.status !== 503);
    console.log(`| ${label} | ${all.length} | ${ok.length} | ${fmt(ok)} | ${busy.length} | ${fmt(busy)} | ${other.length} |`);
  } finally {
    await stopServer(server);
  }
}

async function main() {
  if (!existsSync(join(process.cwd(), '.next/BUILD_ID'))) {
    console.error('no production build: run `npx next build` first');
    process.exit(2);
  }
  console.log(`# overload: ${BURSTS} bursts of ${BURST} concurrent GET /procedures (signed in), ${machine()}\n`);
  console.log('| configuration | requests | 200 | 200: median / p95 / max | 503 | 503: median / p95 / max | other |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const limit of String(LIMIT_LIST).split(',').map(Number)) await measure(`limit ${limit} (PROCVER_MAX_CONCURRENT_REQUESTS)`, limit);
  if (process.env.BENCH_NO_FLOOR !== '1') await measure('floor: no limit (everything queues)', 1_000_000);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
