import { readMigrationFiles, type MigrationMeta } from 'drizzle-orm/migrator';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { ProcverError } from '../errors';

/** Serializes migrations, pushes and cleanup runs on one database (see lib/locks.ts). */
const MIGRATE_LOCK = 0x70726f63; // 'proc'

function migrationsFolder(): string {
  // The folder ships next to lib/ in the package; under Next.js the cwd is the project root.
  const candidates = [join(dirname(fileURLToPath(import.meta.url)), '../../drizzle'), join(process.cwd(), 'drizzle')];
  const found = candidates.find((c) => existsSync(join(c, 'meta/_journal.json')));
  if (!found) throw new ProcverError('config', `cannot find the registry migrations (looked in ${candidates.join(', ')})`);
  return found;
}

export function registryMigrations(): MigrationMeta[] {
  return readMigrationFiles({ migrationsFolder: migrationsFolder() });
}

async function appliedMigrations(client: pg.PoolClient | pg.Pool): Promise<Set<string>> {
  const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('procver.__drizzle_migrations')::text AS t`);
  if (!exists.rows[0]?.t) return new Set();
  const rows = await client.query<{ hash: string }>('SELECT hash FROM procver.__drizzle_migrations');
  return new Set(rows.rows.map((r) => r.hash));
}

/**
 * Applies pending registry migrations in one transaction; returns how many were applied.
 * `upTo` stops after that many migrations in all (tests of a migration over older data).
 */
export async function migrate(pool: pg.Pool, opts: { upTo?: number } = {}): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
    const applied = await appliedMigrations(client);
    const pending = registryMigrations()
      .slice(0, opts.upTo)
      .filter((m) => !applied.has(m.hash));
    for (const m of pending) {
      for (const statement of m.sql) if (statement.trim()) await client.query(statement);
    }
    if (pending.length > 0) {
      await client.query('CREATE TABLE IF NOT EXISTS procver.__drizzle_migrations (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint)');
      for (const m of pending) {
        await client.query('INSERT INTO procver.__drizzle_migrations (hash, created_at) VALUES ($1, $2)', [m.hash, m.folderMillis]);
      }
    }
    await client.query('COMMIT');
    return pending.length;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/**
 * How the registry in this database stands against this procver's migrations: `pending`, those
 * it lacks; `unknown`, those it has that this procver does not know (a newer procver migrated it,
 * or a build this one is not).
 */
export async function registryState(pool: pg.Pool): Promise<{ pending: number; unknown: number }> {
  const applied = await appliedMigrations(pool);
  const known = registryMigrations();
  const knownHashes = new Set(known.map((m) => m.hash));
  return { pending: known.filter((m) => !applied.has(m.hash)).length, unknown: [...applied].filter((h) => !knownHashes.has(h)).length };
}

/** What to say about a registry this procver does not know all the migrations of. */
export function unknownMigrationsMessage(unknown: number): string {
  return `the procver registry in this database has ${unknown} migration(s) this procver does not know: a newer procver (or another build) migrated it; run that procver, or upgrade this one (every procver that works on one registry must be the same version)`;
}

/**
 * Every command but `migrate`, and every dashboard change (lib/web/http.ts), calls this: it refuses
 * to work on an outdated registry, and on one a newer procver has migrated (an old binary left on a
 * cron host, or an old dashboard, would write without what the new columns and tables record: a
 * quarantine's WAL position, say, which cleanup's safety rests on).
 */
export async function requireMigrated(pool: pg.Pool): Promise<void> {
  const { pending, unknown } = await registryState(pool);
  if (pending > 0) {
    throw new ProcverError('not_migrated', `the procver registry in this database is missing ${pending} migration(s); run \`procver migrate\` first`);
  }
  if (unknown > 0) throw new ProcverError('not_migrated', unknownMigrationsMessage(unknown));
}
