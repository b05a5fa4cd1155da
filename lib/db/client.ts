import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema';

export type Db = NodePgDatabase<typeof schema>;
/** A database handle or a transaction: lib functions accept either. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

// int8 and numeric as JS numbers: call counts and OIDs stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export function createPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: 'procver' });
  pool.on('error', () => {
    // An idle client lost its connection (server restart): the pool replaces it on next use.
  });
  return pool;
}

export function createDb(pool: pg.Pool): Db {
  return drizzle(pool, { schema });
}
