import 'server-only';
import type pg from 'pg';
import { databaseUrl } from '../config';
import { createDb, createPool, type Db } from './client';

// One pool per server process, kept across hot reloads in development.
const g = globalThis as unknown as { procverPool?: pg.Pool; procverDb?: Db };

export function db(): Db {
  if (!g.procverDb) {
    g.procverPool = createPool(databaseUrl());
    g.procverDb = createDb(g.procverPool);
  }
  return g.procverDb;
}

/** The same pool, for the few checks that speak SQL directly (readiness). */
export function pool(): pg.Pool {
  db();
  return g.procverPool!;
}
