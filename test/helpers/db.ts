import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { createDb, createPool, type Db } from '../../lib/db/client';
import { migrate } from '../../lib/db/migrate';
import { databaseUrlFor } from '../../lib/embedded';

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  db: Db;
}

/** A new, empty database on the test server, dropped after the file's tests. */
export async function createTestDatabase(opts: { migrated?: boolean } = { migrated: true }): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const name = `procver_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = databaseUrlFor(adminUrl, name);
  const pool = createPool(url, 10);
  if (opts.migrated !== false) await migrate(pool);
  afterAll(async () => {
    await pool.end();
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  return { url, pool, db: createDb(pool) };
}
