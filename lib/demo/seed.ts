import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eq, and } from 'drizzle-orm';
import type pg from 'pg';
import { compileDirectory } from '../compile/compile';
import { buildManifest, writeOutputs } from '../compile/outputs';
import { readEnv } from '../config';
import type { Db } from '../db/client';
import { deployments, users } from '../db/schema';
import { addUser, setPassword } from '../users';
import { randomBytes } from 'node:crypto';
import { addDeployment, markLive } from '../deployments';
import { packageRoot } from '../packageRoot';
import { pushVersions } from '../push';

const DEMO_DIR = join(packageRoot(), 'examples/shop');
const DEMO_USERS = [
  { email: 'admin@procver.demo', name: 'Demo admin', role: 'admin' as const },
  { email: 'viewer@procver.demo', name: 'Demo viewer', role: 'viewer' as const },
];
const ACTOR = 'demo:seed';

/** Which revision each demo deployment was built from, in the order they went out. */
const demoDeployments = [
  { app: 'storefront', id: 'sf-101', revision: 'v1', live: true },
  { app: 'backoffice', id: 'bo-7', revision: 'v1', live: true }, // never upgraded: an old build still live
  { app: 'storefront', id: 'sf-102', revision: 'v2', live: true },
  { app: 'storefront', id: 'sf-103', revision: 'v3', live: true },
  { app: 'backoffice', id: 'bo-8', revision: 'v3', live: false }, // built, not yet rolled out
];

/**
 * Creates the demo shop: its tables, four revisions of its procedures (v0 is referenced by no
 * deployment: lib/demo/lifecycle.ts retires, quarantines and drops its versions), and the frontend
 * deployments built against them. Safe to run again: existing things are left alone. Returns the
 * v0 versions' hashes and whether this run created them (the first run).
 */
export async function seedDemo(db: Db, pool: pg.Pool, outDir: string, log: (line: string) => void): Promise<{ firstRun: boolean; v0Hashes: string[] }> {
  await pool.query(await readFile(join(DEMO_DIR, 'setup.sql'), 'utf8'));
  const manifests = new Map<string, ReturnType<typeof buildManifest>>();
  let seeded = { firstRun: false, v0Hashes: [] as string[] };
  for (const revision of ['v0', 'v1', 'v2', 'v3']) {
    const compiled = await compileDirectory(join(DEMO_DIR, revision));
    await writeOutputs(compiled, join(outDir, revision));
    const r = await pushVersions(db, compiled, {
      actor: ACTOR,
      grants: { roles: [], publicExecute: true },
      sourceLabel: `examples/shop/${revision}`,
    });
    log(`demo ${revision}: ${r.created.length} version(s) created, ${r.unchanged} unchanged`);
    if (revision === 'v0') seeded = { firstRun: r.created.length > 0, v0Hashes: compiled.versions.map((v) => v.hash) };
    manifests.set(revision, buildManifest(compiled));
  }
  for (const d of demoDeployments) {
    const exists = await db
      .select({ id: deployments.id })
      .from(deployments)
      .where(and(eq(deployments.app, d.app), eq(deployments.deploymentId, d.id)));
    if (exists.length > 0) continue;
    await addDeployment(db, { app: d.app, deploymentId: d.id, manifest: manifests.get(d.revision)!, live: false, actor: ACTOR });
    if (d.live) await markLive(db, d.app, d.id, ACTOR);
    log(`demo deployment ${d.app}/${d.id} (${d.revision})${d.live ? ' live' : ' pending'}`);
  }
  return seeded;
}

/** Demo users (admin and viewer) with one password: PROCVER_DEMO_PASSWORD, else a new random one. */
export async function seedDemoUsers(db: Db, log: (line: string) => void): Promise<void> {
  const password = readEnv().PROCVER_DEMO_PASSWORD ?? randomBytes(9).toString('base64url');
  for (const u of DEMO_USERS) {
    const [existing] = await db.select().from(users).where(eq(users.email, u.email));
    if (existing) await setPassword(db, u.email, password, ACTOR);
    else await addUser(db, { ...u, password, actor: ACTOR });
  }
  log(`sign in as ${DEMO_USERS.map((u) => `${u.email} (${u.role})`).join(' or ')} with password: ${password}`);
}
