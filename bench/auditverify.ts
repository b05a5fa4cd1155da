/**
 * Audit chain verification: `verifyAuditChain` (every hash recomputed in Node from the stored
 * fields, pages of 5,000) against the floor of the same walk done inside PostgreSQL with
 * `procver.audit_entry_hash` (what verification did before issue 12, and may no longer trust).
 *   npx tsx bench/auditverify.ts [N=200000]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAuditChain } from '../lib/audit';
import { createDb, createPool } from '../lib/db/client';
import { migrate } from '../lib/db/migrate';
import { databaseUrlFor, startEmbedded } from '../lib/embedded';
import pg from 'pg';
import { machine, median, percentile, report } from './lib';

const N = Number(process.argv[2] ?? 200_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

async function main() {
  const server = await startEmbedded({ dataDir: mkdtempSync(join(tmpdir(), 'procver-bench-pg-')), ephemeral: true });
  try {
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE bench_audit');
    await admin.end();
    const pool = createPool(databaseUrlFor(server.adminUrl, 'bench_audit'), 2);
    await migrate(pool);
    // Entries shaped like real ones: a reason, JSON before/after; the insert trigger chains each.
    await pool.query(
      `INSERT INTO procver.audit_log (actor, action, target_type, target, reason, before, after)
       SELECT 'user' || (i % 17) || '@example.com', 'version.retire', 'version', 'shop.get_customer__' || lpad(to_hex(i), 10, '0'),
              'retired after the spring release ' || i, jsonb_build_object('status', 'live', 'revision', i % 5),
              jsonb_build_object('status', 'retired', 'revision', i % 5 + 1, 'deployments', jsonb_build_array('sf-' || i % 100))
       FROM generate_series(1, $1) i`,
      [N],
    );
    const db = createDb(pool);
    const inDatabase = async () =>
      pool.query(`SELECT count(*) FILTER (WHERE hash IS DISTINCT FROM procver.audit_entry_hash(prev_hash, a)) AS bad FROM procver.audit_log a`);
    const floor: number[] = [];
    const ours: number[] = [];
    await inDatabase();
    await verifyAuditChain(db);
    for (let i = 0; i < RUNS; i++) {
      let t0 = performance.now();
      await inDatabase();
      floor.push(performance.now() - t0);
      t0 = performance.now();
      const v = await verifyAuditChain(db);
      ours.push(performance.now() - t0);
      if (!v.ok || v.entries !== N) throw new Error(`unexpected verdict ${JSON.stringify(v)}`);
    }
    await pool.end();
    console.log(`machine: ${machine()}\n`);
    console.log(
      report(`audit chain verification, ${N} entries`, [
        {
          name: 'verifyAuditChain (hashes recomputed in Node)',
          median: median(ours),
          p95: percentile(ours, 95),
          floorMedian: median(floor),
          note: 'floor: the in-database hash walk',
        },
      ]),
    );
  } finally {
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
