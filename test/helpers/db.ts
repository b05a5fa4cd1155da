import { randomBytes } from 'node:crypto';
import pg, { escapeIdentifier as quoteIdent } from 'pg';
import { inject } from 'vitest';
import { createDb, createPool, type Db } from '../../lib/db/client';
import { databaseUrlFor } from '../../lib/embedded';
import { onFileEnd } from './disposal';

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  db: Db;
}

async function asAdmin<T>(run: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await c.connect();
  try {
    return await run(c);
  } finally {
    await c.end();
  }
}

/** `procver_test_<run>_<random>`: the global teardown finds whatever a crashed file left by the run's prefix. */
function uniqueName(kind: string): string {
  return `${inject('testRunPrefix')}${kind}_${randomBytes(5).toString('hex')}`;
}

/**
 * A new database on the test server, dropped (and its pool closed) when the test file ends.
 * Migrated: a clone of the run's template database, migrated once in the global setup.
 * `{ migrated: false }`: an empty database.
 */
export async function createTestDatabase(opts: { migrated?: boolean } = { migrated: true }): Promise<TestDatabase> {
  const name = uniqueName('db');
  const template = opts.migrated === false ? 'template1' : inject('pgTemplateDatabase');
  await asAdmin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`));
  onFileEnd(`database ${name}`, () => asAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)));
  const url = databaseUrlFor(inject('pgAdminUrl'), name);
  const pool = createPool(url, 10);
  onFileEnd(`pool of ${name}`, () => pool.end());
  return { url, pool, db: createDb(pool) };
}

/**
 * A new server-wide role (NOLOGIN unless `login`), dropped when the test file ends, after the
 * file's databases (and the privileges granted in them) are gone. Returns its name, which
 * starts with `label` so that failure messages stay readable.
 */
export async function createTestRole(label: string, opts: { login?: boolean } = {}): Promise<string> {
  return createNamedTestRole(`${label}_${uniqueName('r')}`, opts);
}

/** createTestRole with the exact name given (the caller makes it unique). */
export async function createNamedTestRole(name: string, opts: { login?: boolean } = {}): Promise<string> {
  await asAdmin((c) => c.query(`CREATE ROLE ${quoteIdent(name)} ${opts.login ? 'LOGIN' : 'NOLOGIN'}`));
  onFileEnd(`role ${name}`, () => asAdmin((c) => c.query(`DROP ROLE IF EXISTS ${quoteIdent(name)}`)), { serverWide: true });
  return name;
}
