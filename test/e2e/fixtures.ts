import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { compileSources } from '../../lib/compile/compile';
import { buildManifest } from '../../lib/compile/outputs';
import { qualifiedName } from '../../lib/compile/parser';
import { SourceText } from '../../lib/compile/sourceText';
import { createDb, createPool, type Db } from '../../lib/db/client';
import { addDeployment } from '../../lib/deployments';
import { pushVersions } from '../../lib/push';
import { collectUsage } from '../../lib/usage/collect';
import { addUser } from '../../lib/users';
import { restoreVersion } from '../../lib/versions';

/**
 * What a browser test sets up for itself in the e2e database, beside the running dashboard
 * (`procver dev` writes the database's URL into its state directory): its own procedure, versions
 * and deployments, the calls it needs, a collection, users. Nothing depends on the demo's traffic
 * (the e2e server runs with PROCVER_DEMO_TRAFFIC=off) or on what another test did.
 */
export const E2E_SCHEMA = 'e2e';

export function databaseUrl(): string {
  return readFileSync(join(process.env.E2E_STATE_DIR!, 'database-url'), 'utf8').trim();
}

let shared: { pool: pg.Pool; db: Db } | undefined;
export function registry(): { pool: pg.Pool; db: Db } {
  if (!shared) {
    const pool = createPool(databaseUrl(), 3);
    shared = { pool, db: createDb(pool) };
  }
  return shared;
}

export const uniqueSuffix = () => randomBytes(4).toString('hex');

export interface OwnProcedure {
  schema: string;
  name: string;
  app: string;
  /** v1: referenced only by the previous deployment d1 (a rollback target); v2: by the live d2 */
  v1: string;
  v2: string;
  /** the procedure page */
  path: string;
}

/**
 * Pushes two versions of a new procedure e2e.<label>_<random>(x integer) and registers them as two
 * deployments of a new app: d1 (v1), then d2 (v2) live, so d1 is `previous` (went live 3 hours ago,
 * replaced 2 hours ago). With `deployments: false`
 * nothing references either version (cleanup may take them).
 */
export async function ownProcedure(label: string, opts: { deployments?: boolean } = {}): Promise<OwnProcedure> {
  const { db } = registry();
  const name = `${label}_${uniqueSuffix()}`;
  const app = `e2e-${name}`;
  const physical: string[] = [];
  for (const [i, body] of ['RETURN x;', 'RETURN x + 1;'].entries()) {
    const compiled = await compileSources([
      new SourceText(`${name}.sql`, `CREATE FUNCTION ${E2E_SCHEMA}.${name}(x integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN ${body} END $$;`),
    ]);
    await pushVersions(db, compiled, { actor: 'e2e:setup', grants: { roles: [], publicExecute: true }, sourceLabel: 'e2e' });
    physical.push(compiled.versions[0]!.physicalName);
    if (opts.deployments !== false) {
      await addDeployment(db, { app, deploymentId: `d${i + 1}`, manifest: buildManifest(compiled), live: true, actor: 'e2e:setup' });
    }
  }
  if (opts.deployments !== false) {
    // A history with round figures, the same on any machine: d1 went live 3 hours ago, d2 replaced it 2 hours ago.
    await db.execute(sql`UPDATE procver.deployments SET
        live_at = now() - CASE deployment_id WHEN 'd1' THEN interval '3 hours' ELSE interval '2 hours' END,
        superseded_at = CASE deployment_id WHEN 'd1' THEN now() - interval '2 hours' END
      WHERE app = ${app}`); // created_at stays: the deployments page lists the newest registered first
  }
  return { schema: E2E_SCHEMA, name, app, v1: physical[0]!, v2: physical[1]!, path: `/procedures/${E2E_SCHEMA}/${name}` };
}

/** Calls a version `n` times as the frontend `applicationName` (`app@deployment`), flushing the counters. */
export async function callVersion(physical: string, n: number, applicationName = 'e2e-test'): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl(), application_name: applicationName });
  await c.connect();
  try {
    for (let i = 0; i < n; i++) await c.query(`SELECT ${qualifiedName(E2E_SCHEMA, physical)}(1)`);
    await c.query('SELECT pg_stat_force_next_flush()');
  } finally {
    await c.end();
  }
}

/** One collection pass now, as the demo's own collector would do a few seconds later. */
export async function collectNow(): Promise<void> {
  const r = await collectUsage(registry().db, [{ url: databaseUrl(), role: 'primary' }]);
  if (!r[0]?.ok) throw new Error(`collection failed: ${JSON.stringify(r)}`);
}

/** A user of the given role with a random email; returns the credentials. */
export async function newUser(role: 'viewer' | 'operator' | 'admin') {
  const email = `${role}-${uniqueSuffix()}@e2e.test`;
  const password = `e2e password ${uniqueSuffix()}`;
  await addUser(registry().db, { email, name: `E2E ${role}`, role, password, actor: 'e2e:setup' });
  return { email, password };
}

/**
 * Puts every retired, quarantined or dropped version of the e2e schema back to live, so that what
 * one test retired never shows in another's cleanup plan (run after each test, passed or not).
 */
export async function restoreE2eVersions(): Promise<void> {
  const { db } = registry();
  const rows = await db.execute<{ physical_name: string }>(sql`SELECT physical_name FROM procver.versions WHERE schema = ${E2E_SCHEMA} AND status <> 'live' ORDER BY id`);
  for (const r of rows.rows) await restoreVersion(db, { name: r.physical_name, reason: 'e2e: after the test', actor: 'e2e:teardown' });
}
