import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileDirectory, type CompileResult } from '../../lib/compile/compile';
import { qualifiedName } from '../../lib/compile/parser';
import { scanCode } from '../../lib/compile/scan';
import { createDb, createPool } from '../../lib/db/client';
import { migrate } from '../../lib/db/migrate';
import { databaseUrlFor } from '../../lib/embedded';
import { pushVersions, type PushOptions } from '../../lib/push';
import { realcodeCalls } from '../fixtures/realcode';
import { createTestDatabase } from '../helpers/db';
import { onFileEnd } from '../helpers/disposal';
import { replicationUnavailable, startServer } from '../helpers/replication';

/**
 * The real-code corpus: 300+ definitions shaped like pgTAP, pg_partman, pagila, PostgreSQL's
 * regression tests, an application library, pgmq, PostgREST's fixtures, graphile-worker and pgMemento. Created as written in one database and pushed as
 * versions into another; every sample call must return the same in both.
 */
const DIR = 'test/fixtures/realcode';
const setup = readFileSync('test/fixtures/realcode-setup.sql', 'utf8');
const opts: PushOptions = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'corpus' };

let compiled: CompileResult;
beforeAll(async () => {
  compiled = await compileDirectory(DIR);
});

/** Runs each sample call in its own rolled-back transaction: its rows as JSON, or its error. */
async function results(pool: pg.Pool, name: (key: string) => string): Promise<string[]> {
  const client = await pool.connect();
  const out: string[] = [];
  try {
    for (const [key, sql] of realcodeCalls) {
      await client.query('BEGIN');
      try {
        // Values only: a top-level call's column is named after the (physical) name on purpose.
        out.push(JSON.stringify((await client.query({ text: sql.replaceAll('{fn}', name(key)), rowMode: 'array' })).rows));
      } catch (e) {
        out.push(`ERROR: ${(e as Error).message}`);
      } finally {
        await client.query('ROLLBACK');
      }
    }
  } finally {
    client.release();
  }
  return out;
}

async function loadUnversioned(pool: pg.Pool): Promise<void> {
  await pool.query(setup);
  const client = await pool.connect();
  try {
    await client.query('SET check_function_bodies = off');
    for (const f of readdirSync(DIR)
      .filter((n) => n.endsWith('.sql'))
      .sort()) {
      await client.query(scanCode(readFileSync(join(DIR, f), 'utf8'), { metaCommands: true }).parseText);
    }
  } finally {
    client.release();
  }
}

async function compare(unversioned: pg.Pool, versioned: pg.Pool): Promise<void> {
  await loadUnversioned(unversioned);
  await versioned.query(setup);
  const pushed = await pushVersions(createDb(versioned), compiled, opts);
  expect(pushed.created).toHaveLength(compiled.versions.length);
  const byKey = new Map(compiled.versions.map((v) => [`${v.schema}.${v.name}(${v.args})`, v]));
  const missing = realcodeCalls.map(([k]) => k).filter((k) => !byKey.has(k));
  expect(missing).toEqual([]);
  const before = await results(unversioned, (k) => qualifiedName(byKey.get(k)!.schema, byKey.get(k)!.name));
  const after = await results(versioned, (k) => qualifiedName(byKey.get(k)!.schema, byKey.get(k)!.physicalName));
  const differences = realcodeCalls
    .map(([k, sql], i) => ({ call: `${k}: ${sql}`, unversioned: before[i], versioned: after[i] }))
    .filter((d) => d.unversioned !== d.versioned);
  expect(differences).toEqual([]);
  // The calls really ran the code: most return a value, a few raise on purpose.
  expect(before.filter((r) => r.startsWith('ERROR')).length).toBeLessThan(10);
}

describe('real-code corpus', () => {
  it('compiles 300+ definitions, warning about the two managed names in dynamic SQL and the trigger a body creates', () => {
    expect(compiled.versions.length).toBeGreaterThanOrEqual(300);
    expect(compiled.warnings.map((w) => w.replace(/: (dynamic SQL calls|a trigger this body creates executes) (\S+),.*/, ' $2'))).toEqual([
      `${DIR}/partman.sql:219:27 partman.create_partition_sql`,
      `${DIR}/pgmemento.sql:78:5 mem.schema_drop_pre_trigger`,
      `${DIR}/tricky.sql:100:11 app.audit`,
    ]);
    expect(compiled.notices).toEqual([`${DIR}/tap.sql:3:1: skipped the psql meta-command \\set ON_ERROR_STOP on`]);
  });

  it('pushes to the embedded server and every sample call returns what the unversioned code returns', async () => {
    const unversioned = await createTestDatabase({ migrated: false });
    const versioned = await createTestDatabase();
    await compare(unversioned.pool, versioned.pool);
  }, 120_000);

  const unavailable = replicationUnavailable();
  it.skipIf(unavailable !== null)(
    `pushes to Debian's PostgreSQL 15 with the same results${unavailable ? ` (skipped: ${unavailable})` : ''}`,
    async () => {
      const server = await startServer();
      const pools: pg.Pool[] = [];
      // A hook registered inside a test never runs: the file's disposers do.
      onFileEnd('PostgreSQL 15 server', async () => {
        await Promise.all(pools.map((p) => p.end()));
        await server.stop();
      });
      const admin = new pg.Client({ connectionString: server.adminUrl });
      await admin.connect();
      await admin.query('CREATE DATABASE unversioned');
      await admin.query('CREATE DATABASE versioned');
      await admin.end();
      const [a, b] = [createPool(databaseUrlFor(server.adminUrl, 'unversioned'), 2), createPool(databaseUrlFor(server.adminUrl, 'versioned'), 2)];
      pools.push(a, b);
      expect((await a.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]!.server_version_num).toMatch(/^15/);
      await migrate(b);
      await compare(a, b);
    },
    180_000,
  );
});
