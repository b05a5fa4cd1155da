/**
 * Push: N new versions into an empty database. Floor: one pg client executing the same CREATE
 * statements in one transaction (what `psql -1 -f procver.sql` does). Run: npx tsx bench/push.ts [N]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { compileSources } from '../lib/compile/compile';
import { SourceText } from '../lib/compile/sourceText';
import { createDb, createPool } from '../lib/db/client';
import { migrate } from '../lib/db/migrate';
import { databaseUrlFor, startEmbedded } from '../lib/embedded';
import { pushVersions } from '../lib/push';
import { machine, median, percentile, report } from './lib';

const N = Number(process.argv[2] ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

async function main() {
  const server = await startEmbedded({ dataDir: mkdtempSync(join(tmpdir(), 'procver-bench-pg-')), ephemeral: true });
  try {
    const defs = Array.from({ length: N }, (_, i) => `CREATE FUNCTION bench.f_${i}(x integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN x + ${i}; END $$;`);
    const compiled = await compileSources([new SourceText('bench.sql', defs.join('\n'))]);
    const statements = compiled.versions.map((v) => v.source);
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    const floor: number[] = [];
    const ours: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      for (const kind of ['floor', 'push'] as const) {
        const name = `bench_${kind}_${run}`;
        await admin.query(`CREATE DATABASE ${name}`);
        const url = databaseUrlFor(server.adminUrl, name);
        if (kind === 'floor') {
          const c = new pg.Client({ connectionString: url });
          await c.connect();
          await c.query('CREATE SCHEMA bench');
          const t0 = performance.now();
          await c.query('BEGIN');
          for (const s of statements) await c.query(s);
          await c.query('COMMIT');
          floor.push(performance.now() - t0);
          await c.end();
        } else {
          const pool = createPool(url, 2);
          await migrate(pool);
          await pool.query('CREATE SCHEMA bench');
          const t0 = performance.now();
          await pushVersions(createDb(pool), compiled, { actor: 'bench', grants: { roles: [], publicExecute: true }, sourceLabel: 'bench' });
          ours.push(performance.now() - t0);
          await pool.end();
        }
      }
    }
    await admin.end();
    console.log(`machine: ${machine()}\n`);
    console.log(
      report(`push ${N.toLocaleString('en')} new versions (${RUNS} runs, fresh database each)`, [
        { name: 'procver push (create + verify + registry + audit)', median: median(ours), p95: percentile(ours, 95), floorMedian: median(floor), note: 'target ≤ 1.3×' },
      ]),
    );
  } finally {
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
