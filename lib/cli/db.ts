import type { Db } from '../db/client';

/** Runs fn against DATABASE_URL's registry (refused unless migrated). Loads pg and drizzle only when called. */
export async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const [{ databaseUrl }, { createDb, createPool }, { requireMigrated }] = await Promise.all([import('../config'), import('../db/client'), import('../db/migrate')]);
  const pool = createPool(databaseUrl(), 4);
  try {
    await requireMigrated(pool);
    return await fn(createDb(pool));
  } finally {
    await pool.end();
  }
}
