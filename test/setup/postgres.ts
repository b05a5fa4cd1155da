import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg, { escapeIdentifier as quoteIdent } from 'pg';
import type { TestProject } from 'vitest/node';
import { createPool } from '../../lib/db/client';
import { migrate } from '../../lib/db/migrate';
import { databaseUrlFor, startEmbedded, type EmbeddedServer } from '../../lib/embedded';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    /** the registry, migrated once per run; test databases are cloned from it */
    pgTemplateDatabase: string;
    /** `procver_test_<run>_`: every database and role of this run starts with it */
    testRunPrefix: string;
  }
}

let server: EmbeddedServer | undefined;
let adminUrl = '';
let prefix = '';
let runDir = '';
let serverDir = '';
let rolesBefore = new Set<string>();

async function admin<T>(run: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return await run(c);
  } finally {
    await c.end();
  }
}

async function roleNames(): Promise<Set<string>> {
  return admin(async (c) => new Set((await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles')).rows.map((r) => r.rolname)));
}

/**
 * One real PostgreSQL for the run: PROCVER_TEST_ADMIN_URL (a role that may CREATE DATABASE and
 * CREATE ROLE) if set, else an embedded server. The registry is migrated once into a template
 * database that each test file clones (test/helpers/db.ts). Temporary directories of the run go
 * under one directory (TMPDIR for the workers), so the teardown can tell what a test left behind.
 */
export async function setup(project: TestProject) {
  const runId = randomBytes(4).toString('hex');
  prefix = `procver_test_${runId}_`;
  runDir = mkdtempSync(join(tmpdir(), `procver-test-run-${runId}-`));
  // PostgreSQL (user postgres when we are root) must get through to data directories below it.
  chmodSync(runDir, 0o755);
  process.env.TMPDIR = runDir; // inherited by the test workers, which start after this

  adminUrl = process.env.PROCVER_TEST_ADMIN_URL ?? '';
  if (!adminUrl) {
    serverDir = mkdtempSync(join(runDir, 'server-'));
    server = await startEmbedded({ dataDir: serverDir, ephemeral: true });
    adminUrl = server.adminUrl;
  }
  rolesBefore = await roleNames();

  const template = `${prefix}template`;
  await admin((c) => c.query(`CREATE DATABASE ${quoteIdent(template)}`));
  const pool = createPool(databaseUrlFor(adminUrl, template), 1);
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  // Nobody may connect: CREATE DATABASE … TEMPLATE refuses a template with open connections.
  await admin((c) => c.query(`ALTER DATABASE ${quoteIdent(template)} WITH ALLOW_CONNECTIONS false`));

  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplateDatabase', template);
  project.provide('testRunPrefix', prefix);
}

/**
 * Removes everything the run created, and fails the run naming what a test file left behind
 * (each file must clean up through test/helpers/db.ts and disposal.ts).
 */
export async function teardown() {
  const leftovers: string[] = [];
  try {
    const databases = await admin(async (c) =>
      (await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [prefix])).rows.map((r) => r.datname),
    );
    for (const d of databases) {
      if (d !== `${prefix}template`) leftovers.push(`database ${d}`);
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(d)} WITH (FORCE)`));
    }
    // Roles are server-wide: on our own server any new one was made by this run; on a shared
    // PROCVER_TEST_ADMIN_URL server only those carrying the run's prefix are ours.
    for (const r of await roleNames()) {
      if (rolesBefore.has(r) || (!server && !r.includes(prefix))) continue;
      leftovers.push(`role ${r}`);
      await admin((c) => c.query(`DROP ROLE IF EXISTS ${quoteIdent(r)}`));
    }
  } finally {
    await server?.stop();
    for (const entry of readdirSync(runDir)) {
      // tsx-<uid>: the compile cache of the CLI processes that tests start, not a test's directory.
      if (join(runDir, entry) !== serverDir && !/^tsx-\d+$/.test(entry)) leftovers.push(`directory ${join(runDir, entry)}`);
    }
    rmSync(runDir, { recursive: true, force: true });
  }
  if (leftovers.length > 0) {
    process.exitCode = 1; // vitest logs a teardown error but would still exit 0
    throw new Error(
      `the test run left behind (now removed):\n  ${leftovers.join('\n  ')}\n` +
        'create them with createTestDatabase / createTestRole / testTempDir (test/helpers) so that each file removes its own',
    );
  }
}
