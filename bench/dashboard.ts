/**
 * Dashboard data and the cleanup plan at scale. Seeds N × V × D × R (bench/seed.ts) into an
 * embedded PostgreSQL (or uses BENCH_DATABASE_URL, seeding it only when its registry is empty), then
 * times what each page reads, through lib/ exactly as the page calls it, against a floor: the same
 * SQL statements, recorded from that call, replayed directly on a pg pool with the same parallelism
 * allowed. Prints EXPLAIN findings (sequential scans of large tables) for each page's statements.
 *
 * Run: npx tsx bench/dashboard.ts [N] [V] [D] [R]       (BENCH_RUNS, default 15)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { auditActions, recentAudit, searchAudit, verifyAuditChain } from '../lib/audit';
import { planFromRegistry } from '../lib/cleanup/plan';
import { cleanupConfig } from '../lib/cleanup/config';
import { createDb, createPool } from '../lib/db/client';
import { migrate } from '../lib/db/migrate';
import { deploymentVersionsPage, pageDeployments } from '../lib/deployments';
import { databaseUrlFor, startEmbedded, type EmbeddedServer } from '../lib/embedded';
import { renderMetrics } from '../lib/metrics';
import { getOverview } from '../lib/overview';
import { getProcedureGroup, listProcedures } from '../lib/procedures';
import { listDropped } from '../lib/versions';
import { callSeriesFor, instanceStatus, usageForVersions } from '../lib/usage';
import { machine, median, percentile, report, type Figure } from './lib';
import { defaultSeed, seedRegistry } from './seed';

const [n, v, d, r] = process.argv.slice(2).map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const seed = {
  ...defaultSeed,
  procedures: n || defaultSeed.procedures,
  versions: v || defaultSeed.versions,
  days: d || defaultSeed.days,
  instances: r || defaultSeed.instances,
};

interface Recorded {
  text: string;
  values: unknown[];
}

/** A pool that can record the statements sent through it. */
function recordingPool(pool: pg.Pool) {
  let log: Recorded[] | null = null;
  const original = pool.query.bind(pool) as (...a: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: unknown }).query = (...args: unknown[]) => {
    if (log) {
      const q = args[0] as string | { text: string; values?: unknown[] };
      // drizzle passes (config, params); pg also takes (text, params) and (config with values).
      log.push({ text: typeof q === 'string' ? q : q.text, values: (args[1] as unknown[] | undefined) ?? (typeof q === 'string' ? [] : (q.values ?? [])) });
    }
    return original(...args);
  };
  return {
    async record(fn: () => Promise<unknown>): Promise<Recorded[]> {
      log = [];
      try {
        await fn();
        return log;
      } finally {
        log = null;
      }
    },
  };
}

async function main() {
  let server: EmbeddedServer | undefined;
  let url = process.env.BENCH_DATABASE_URL;
  if (!url) {
    server = await startEmbedded({ dataDir: mkdtempSync(join(tmpdir(), 'procver-bench-pg-')), ephemeral: true });
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE bench');
    await admin.end();
    url = databaseUrlFor(server.adminUrl, 'bench');
  }
  const pool = createPool(url, 10);
  pool.on('error', () => undefined);
  try {
    await migrate(pool);
    const existing = Number((await pool.query('SELECT count(*) AS n FROM procver.procedures')).rows[0].n);
    if (existing === 0) {
      const t0 = performance.now();
      console.error(`seeding ${seed.procedures} procedures × ${seed.versions} versions × ${seed.days} days × ${seed.instances} instances…`);
      const counts = await seedRegistry(pool, seed, (m) => console.error(`  ${m}`));
      console.error(`seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s:`, counts);
    } else {
      console.error(`using the registry at BENCH_DATABASE_URL (${existing} procedures)`);
    }
    const db = createDb(pool);
    const rec = recordingPool(pool);
    const floorPool = new pg.Pool({ connectionString: url, max: 10 });

    // A procedure in the middle of the list, and a cursor half-way through it.
    const mid = (await pool.query(`SELECT schema, name FROM procver.procedures ORDER BY id OFFSET $1 LIMIT 1`, [Math.floor(seed.procedures / 2)])).rows[0];
    let cursor: string | undefined;
    for (let i = 0, page = await listProcedures(db, { pageSize: 200 }); i < 25 && page.next; i++) {
      cursor = page.next;
      page = await listProcedures(db, { pageSize: 200, after: cursor });
    }
    const group = await getProcedureGroup(db, mid.schema, mid.name);
    const olderCursor = (await pageDeployments(db, { limit: 20 })).older ?? undefined;
    const ids = group!.overloads.flatMap((o) => o.versions.map((x) => x.id));

    const pages: [string, () => Promise<unknown>][] = [
      ['overview', () => Promise.all([getOverview(db), recentAudit(db, 10), instanceStatus(db)])],
      ['procedures: by name, first page (24h)', () => listProcedures(db, { pageSize: 50 })],
      ['procedures: by name, page ~100 (keyset)', () => listProcedures(db, { pageSize: 50, after: cursor })],
      ['procedures: by calls (30d)', () => listProcedures(db, { pageSize: 50, sort: 'calls', dir: 'desc', window: '30d' })],
      ['procedures: by calls (24h)', () => listProcedures(db, { pageSize: 50, sort: 'calls', dir: 'desc', window: '24h' })],
      ['procedures: by live versions', () => listProcedures(db, { pageSize: 50, sort: 'live', dir: 'desc' })],
      ['procedures: by latest version', () => listProcedures(db, { pageSize: 50, sort: 'latest', dir: 'desc' })],
      ['procedures: by deployments', () => listProcedures(db, { pageSize: 50, sort: 'deployments', dir: 'desc' })],
      ['procedures: search "proc_42"', () => listProcedures(db, { pageSize: 50, q: 'proc_42' })],
      [
        `procedure detail (${ids.length} versions, 30d)`,
        async () => {
          const g = await getProcedureGroup(db, mid.schema, mid.name);
          const vids = g!.overloads.flatMap((o) => o.versions.map((x) => x.id));
          return Promise.all([usageForVersions(db, vids, '30d'), callSeriesFor(db, vids)]);
        },
      ],
      ['live usage poll (/api/usage, 7d)', () => usageForVersions(db, ids, '7d')],
      ['deployments: newest page', () => pageDeployments(db, { limit: 20 })],
      ['deployments: older page (keyset)', () => pageDeployments(db, { limit: 20, older: olderCursor })],
      ['deployment opened: first 100 versions', () => deploymentVersionsPage(db, 'app1', `build-${seed.deploysPerApp}`)],
      ['cleanup page: the 100 versions dropped most recently', () => listDropped(db, 100)],
      ['audit: first page', () => Promise.all([searchAudit(db, { limit: 50 }), auditActions(db)])],
      ['audit: chain verification (streamed; shared 30 s)', () => verifyAuditChain(db)],
      ['audit: filtered by actor and action', () => searchAudit(db, { limit: 50, actor: 'ana@example.com', action: 'version.retire' })],
      ['Prometheus /api/metrics (every live and retired version × instance)', () => renderMetrics(db)],
    ];

    const figures: Figure[] = [];
    const findings: string[] = [];
    for (const [name, fn] of pages) {
      const statements = await rec.record(fn);
      const ours: number[] = [];
      const floor: number[] = [];
      await fn();
      await Promise.all(statements.map((s) => floorPool.query(s.text, s.values)));
      for (let i = 0; i < RUNS; i++) {
        // Interleaved, so drift on the machine affects both alike.
        let t0 = performance.now();
        await fn();
        ours.push(performance.now() - t0);
        t0 = performance.now();
        await Promise.all(statements.map((s) => floorPool.query(s.text, s.values)));
        floor.push(performance.now() - t0);
      }
      figures.push({
        name,
        median: median(ours),
        p95: percentile(ours, 95),
        floorMedian: median(floor),
        note: `p95 ${(percentile(ours, 95) / percentile(floor, 95)).toFixed(2)}× floor p95; ${statements.length} statement(s)`,
      });
      for (const s of statements) {
        if (!/^\s*(WITH|SELECT|select|with)/.test(s.text)) continue;
        const plan = await floorPool.query(`EXPLAIN (FORMAT JSON) ${s.text}`, s.values);
        const seqs: string[] = [];
        const walk = (node: Record<string, unknown>) => {
          if (node['Node Type'] === 'Seq Scan' && Number(node['Plan Rows']) > 1000) seqs.push(`${node['Relation Name']} (~${node['Plan Rows']} rows)`);
          for (const c of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(c);
        };
        walk((plan.rows[0]['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan);
        if (seqs.length > 0) findings.push(`${name}: sequential scan of ${seqs.join(', ')} in: ${s.text.replace(/\s+/g, ' ').slice(0, 140)}…`);
      }
      console.error(`  ${name}: ${median(ours).toFixed(1)} ms`);
    }

    // The cleanup plan over every retired version, with every instance configured.
    const targets = (await pool.query<{ label: string; role: string }>(`SELECT label, role FROM procver.instances ORDER BY id`)).rows;
    const retired = Number((await pool.query(`SELECT count(*) AS n FROM procver.versions WHERE status = 'retired'`)).rows[0].n);
    const planRuns: number[] = [];
    let rows = 0;
    // The seeded instances are unreachable addresses: the in-flight check records that (and keeps).
    const config = cleanupConfig({});
    for (let i = 0; i < Math.max(1, Math.min(RUNS, Number(process.env.BENCH_PLAN_RUNS ?? 3))); i++) {
      const t0 = performance.now();
      // From the registry as seeded: the plan's own fresh reading would only record gaps for these addresses.
      const plan = await planFromRegistry(
        db,
        targets.map((t) => ({ url: `postgres://x@${t.label}`, role: t.role as 'primary' | 'replica' })),
        config,
        new Date(Date.now() - config.staleAfterMs),
      );
      planRuns.push(performance.now() - t0);
      rows = plan.rows.length;
    }
    figures.push({
      name: `cleanup plan (${retired.toLocaleString('en')} retired versions)`,
      median: median(planRuns),
      p95: percentile(planRuns, 95),
      note: `${rows} plan rows, ${((median(planRuns) / Math.max(rows, 1)) * 1000).toFixed(0)} µs per version`,
    });

    console.log(`Machine: ${machine()}`);
    console.log(`Seed: ${seed.procedures} procedures × ${seed.versions} versions × ${seed.days} days × ${seed.instances} instances, ${RUNS} runs each\n`);
    console.log(report('Dashboard data (what each page reads) and the cleanup plan', figures));
    console.log(
      findings.length > 0
        ? ['Sequential scans of large tables (EXPLAIN):', ...findings.map((f) => `- ${f}`)].join('\n')
        : 'EXPLAIN: no sequential scan of a large table in any page statement.',
    );
    await floorPool.end();
  } finally {
    await pool.end();
    await server?.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
