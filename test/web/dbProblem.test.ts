import { createServer } from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { versions } from '../../lib/db/schema';
import { databaseProblem } from '../../lib/web/dbProblem';
import { createTestDatabase } from '../helpers/db';

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  return run().then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

describe('database failures a person can act on (sign-in and every API answer 503 with them)', () => {
  it('a refused connection says the database is not reachable', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: await closedPort(), user: 'x', database: 'x' });
    const e = await failureOf(() => client.connect());
    expect(databaseProblem(e)).toEqual({ status: 503, message: 'The database is not reachable. Is PostgreSQL running and DATABASE_URL right?' });
  });

  it('a database without the registry says to migrate; any other SQL error is not one of these', async () => {
    const t = await createTestDatabase({ migrated: false });
    const missing = await failureOf(() => t.pool.query('SELECT * FROM procver.versions'));
    expect(databaseProblem(missing)).toEqual({ status: 503, message: 'The procver registry is missing in this database: run `procver migrate`.' });
    const other = await failureOf(() => t.pool.query('SELECT 1/0'));
    expect(databaseProblem(other)).toBeNull();
    expect(databaseProblem(new Error('boom'))).toBeNull();
  });

  it('sees the same through drizzle, which wraps the PostgreSQL error (every lib/ call goes through it)', async () => {
    const t = await createTestDatabase({ migrated: false });
    const wrapped = await failureOf(() => t.db.select().from(versions));
    expect((wrapped as { cause?: { code?: string } }).cause?.code).toBe('42P01');
    expect(databaseProblem(wrapped)).toEqual({ status: 503, message: 'The procver registry is missing in this database: run `procver migrate`.' });
  });
});
