import { eq } from 'drizzle-orm';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../../lib/compile/manifest';
import { buildManifest } from '../../lib/compile/outputs';
import { auditLog, deployments, versions } from '../../lib/db/schema';
import { addDeployment, listDeployments, markLive, restoreDeploymentVersions } from '../../lib/deployments';
import { readManifestFile } from '../../lib/cli/manifestFile';
import { checkManifest } from '../../lib/manifests';
import { pushVersions } from '../../lib/push';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { compileFiles, writeTree } from '../helpers/sources';

const push = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' };
const rev1 = {
  'a.sql': `CREATE FUNCTION app.greet(n text) RETURNS text LANGUAGE sql AS $$ SELECT 'hi ' || n $$;
CREATE FUNCTION app.bye() RETURNS text LANGUAGE sql AS $$ SELECT 'bye' $$;`,
};
const rev2 = { 'a.sql': rev1['a.sql'].replace("'hi '", "'hello '") };

describe('deployments', () => {
  let t: TestDatabase;
  let m1: Manifest;
  let m2: Manifest;
  // Each test its own registry with both revisions pushed: none relies on another's deployments.
  beforeEach(async () => {
    t = await createTestDatabase();
    const c1 = await compileFiles(rev1);
    const c2 = await compileFiles(rev2);
    await pushVersions(t.db, c1, push);
    await pushVersions(t.db, c2, push);
    m1 = buildManifest(c1);
    m2 = buildManifest(c2);
  });

  it('registers a deployment with the versions it references, pending by default', async () => {
    const r = await addDeployment(t.db, { app: 'web', deploymentId: 'w1', manifest: m1, live: false, actor: 'ci' });
    expect(r.versions).toBe(2);
    const [d] = await listDeployments(t.db, 'web');
    expect(d).toMatchObject({ app: 'web', deploymentId: 'w1', status: 'pending', versions: 2, retired: 0, dropped: 0 });
  });

  it('refuses a duplicate registration', async () => {
    await addDeployment(t.db, { app: 'web', deploymentId: 'w1', manifest: m1, live: false, actor: 'ci' });
    await expect(addDeployment(t.db, { app: 'web', deploymentId: 'w1', manifest: m1, live: false, actor: 'ci' })).rejects.toThrow(/already registered/);
  });

  it('marks live, turning the previously live one into a rollback target, and rolls back', async () => {
    await addDeployment(t.db, { app: 'web', deploymentId: 'w1', manifest: m1, live: false, actor: 'ci' });
    await markLive(t.db, 'web', 'w1', 'ops');
    await addDeployment(t.db, { app: 'web', deploymentId: 'w2', manifest: m2, live: true, actor: 'ci' });
    let rows = await listDeployments(t.db, 'web');
    expect(Object.fromEntries(rows.map((r) => [r.deploymentId, r.status]))).toEqual({ w1: 'previous', w2: 'live' });
    const back = await markLive(t.db, 'web', 'w1', 'ops');
    expect(back.previous).toBe('w2');
    rows = await listDeployments(t.db, 'web');
    expect(Object.fromEntries(rows.map((r) => [r.deploymentId, r.status]))).toEqual({ w1: 'live', w2: 'previous' });
    const audit = await t.db.select().from(auditLog).where(eq(auditLog.action, 'deployment.live'));
    expect(audit.map((a) => a.target)).toEqual(['web/w1', 'web/w2', 'web/w1']);
  });

  it('keeps at most one live deployment per app, also under concurrent switches', async () => {
    await addDeployment(t.db, { app: 'race', deploymentId: 'r1', manifest: m1, live: false, actor: 'ci' });
    await addDeployment(t.db, { app: 'race', deploymentId: 'r2', manifest: m2, live: false, actor: 'ci' });
    await Promise.all([markLive(t.db, 'race', 'r1', 'a'), markLive(t.db, 'race', 'r2', 'b')]);
    const rows = await listDeployments(t.db, 'race');
    expect(rows.filter((r) => r.status === 'live')).toHaveLength(1);
    expect(rows.filter((r) => r.status === 'previous')).toHaveLength(1);
  });

  it('refuses a manifest that references versions not in the database, listing them', async () => {
    const bogus: Manifest = {
      version: 1,
      procedures: [...m1.procedures, { schema: 'app', name: 'ghost', args: '', kind: 'function', hash: 'a'.repeat(64), physicalName: 'ghost__aaaaaaaaaa' }],
    };
    const err = await addDeployment(t.db, { app: 'web', deploymentId: 'bad', manifest: bogus, live: false, actor: 'ci' }).catch((e) => e);
    expect(err.code).toBe('invalid_input');
    expect(err.details).toEqual(['app.ghost(): ghost__aaaaaaaaaa was never pushed; run `procver push`']);
    expect(await t.db.select().from(deployments).where(eq(deployments.deploymentId, 'bad'))).toEqual([]);
  });

  it('refuses to roll back to a deployment whose versions were dropped, naming them', async () => {
    await addDeployment(t.db, { app: 'old', deploymentId: 'o1', manifest: m1, live: false, actor: 'ci' });
    const greet = m1.procedures.find((p) => p.name === 'greet')!;
    await t.db.update(versions).set({ status: 'dropped' }).where(eq(versions.physicalName, greet.physicalName));
    const err = await markLive(t.db, 'old', 'o1', 'ops').catch((e) => e);
    expect(err.code).toBe('conflict');
    expect(err.message).toMatch(/restore these 1 version/);
    expect(err.details).toEqual([`app.greet(text) -> ${greet.physicalName}`]);
    await t.db.update(versions).set({ status: 'live' }).where(eq(versions.physicalName, greet.physicalName));
  });
});

describe('check: the CI gate', () => {
  it('passes when every version is live and lists each problem otherwise', async () => {
    const t = await createTestDatabase();
    const c = await compileFiles(rev1);
    await pushVersions(t.db, c, push);
    const m = buildManifest(c);
    expect((await checkManifest(t.db, m)).ok).toBe(true);

    const [greet, bye] = [m.procedures.find((p) => p.name === 'greet')!, m.procedures.find((p) => p.name === 'bye')!];
    await t.db.update(versions).set({ status: 'retired' }).where(eq(versions.physicalName, greet.physicalName));
    await t.pool.query(`DROP FUNCTION app.${bye.physicalName}()`);
    const unpushed = (await compileFiles(rev2)).versions.find((v) => v.name === 'greet')!;
    const r = await checkManifest(t.db, { ...m, procedures: [...m.procedures, { ...unpushed }] });
    expect(r.ok).toBe(false);
    expect(Object.fromEntries(r.problems.map((p) => [p.physicalName, p.problem]))).toEqual({
      [greet.physicalName]: 'retired',
      [bye.physicalName]: 'absent_from_database',
      [unpushed.physicalName]: 'missing',
    });
  });

  it('rejects a file that is not a manifest with the reason', async () => {
    const dir = writeTree({});
    const path = join(dir, 'm.json');
    writeFileSync(path, JSON.stringify({ version: 1, procedures: [{ schema: 'a', name: 'b', args: '', kind: 'function', hash: 'xyz', physicalName: 'b__x' }] }));
    await expect(readManifestFile(path)).rejects.toMatchObject({ details: ['procedures.0.hash: a sha256 in lower-case hex'] });
  });
});

describe('hostile deployment input', () => {
  let t: TestDatabase;
  let m1: Manifest;
  beforeAll(async () => {
    t = await createTestDatabase();
    const c1 = await compileFiles(rev1);
    await pushVersions(t.db, c1, push);
    m1 = buildManifest(c1);
  });

  it('refuses an app or deployment id outside the documented characters and lengths, before any database work', async () => {
    for (const [app, deploymentId] of [
      ['store/front', 'x'],
      ['web', 'a/b'],
      ['', 'x'],
      ['web', ''],
      ['a'.repeat(65), 'x'],
      ['web', 'x'.repeat(129)],
      ['-web', 'x'],
      ['web', 'x\u0000'],
      ['wéb', 'x'],
    ]) {
      await expect(
        addDeployment(t.db, { app: app!, deploymentId: deploymentId!, manifest: m1, live: false, actor: 't' }),
        `${app}/${deploymentId}`,
      ).rejects.toMatchObject({ code: 'invalid_input' });
    }
    const ok = await addDeployment(t.db, { app: 'Web_2.app', deploymentId: '1.2.3+build.7', manifest: m1, live: false, actor: 't' });
    expect(ok.versions).toBe(2);
  });

  it('checks every logical name in a manifest against the registry, one by one', async () => {
    const lying = {
      ...m1,
      procedures: m1.procedures.map((p) => (p.name === 'greet' ? { ...p, name: 'admin_reset' } : p.name === 'bye' ? { ...p, args: 'integer' } : p)),
    };
    const r = await checkManifest(t.db, lying);
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => [p.label, p.problem, p.message]).sort()).toEqual([
      [
        'app.admin_reset(text)',
        'name_mismatch',
        `${m1.procedures.find((p) => p.name === 'greet')!.physicalName} is app.greet(text) in the registry, not app.admin_reset(text)`,
      ],
      ['app.bye(integer)', 'name_mismatch', `${m1.procedures.find((p) => p.name === 'bye')!.physicalName} is app.bye() in the registry, not app.bye(integer)`],
    ]);
    await expect(addDeployment(t.db, { app: 'web', deploymentId: 'lying', manifest: lying, live: false, actor: 't' })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('restoring the versions of a deployment that does not exist is not found', async () => {
    await expect(restoreDeploymentVersions(t.db, 'web', 'never-registered', 'r', 't')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('reads a manifest file as a stream and stops at the size cap', async () => {
    const dir = writeTree({});
    const path = join(dir, 'big.json');
    writeFileSync(path, JSON.stringify(m1) + ' '.repeat(200_000));
    await expect(readManifestFile(path, { maxBytes: 100_000 })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/larger than 100000 bytes/),
    });
    expect((await readManifestFile(path, { maxBytes: 300_000 })).procedures).toHaveLength(2);
  });
});
