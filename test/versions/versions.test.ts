import { eq } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildManifest } from '../../lib/compile/outputs';
import { auditLog, versions } from '../../lib/db/schema';
import { addDeployment } from '../../lib/deployments';
import { pushVersions } from '../../lib/push';
import { restoreVersion, retireVersion } from '../../lib/versions';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

const push = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' };

describe('retire and restore', () => {
  let t: TestDatabase;
  let free: string; // referenced by no deployment
  let used: string; // referenced by a live deployment
  // Each test its own registry: v1 `free` live and unreferenced, v2 `used` by the live web/w2.
  beforeEach(async () => {
    t = await createTestDatabase();
    const c1 = await compileFiles({ 'a.sql': "CREATE FUNCTION app.f() RETURNS text LANGUAGE sql AS $$ SELECT 'one' $$;" });
    const c2 = await compileFiles({ 'a.sql': "CREATE FUNCTION app.f() RETURNS text LANGUAGE sql AS $$ SELECT 'two' $$;" });
    await pushVersions(t.db, c1, push);
    await pushVersions(t.db, c2, push);
    free = c1.versions[0]!.physicalName;
    used = c2.versions[0]!.physicalName;
    await addDeployment(t.db, { app: 'web', deploymentId: 'w2', manifest: buildManifest(c2), live: true, actor: 'ci' });
  });

  const statusOf = async (name: string) => (await t.db.select().from(versions).where(eq(versions.physicalName, name)))[0]!;

  it('retires with a reason and writes the audit entry in the same transaction', async () => {
    const r = await retireVersion(t.db, { name: free, reason: 'replaced by v2', actor: 'alice' });
    expect(r).toMatchObject({ status: 'retired', revision: 2 });
    const audit = await t.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.target, `app.${free}`));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor: 'alice',
      action: 'version.retire',
      reason: 'replaced by v2',
      before: { status: 'live', revision: 1 },
      after: { status: 'retired', revision: 2 },
    });
  });

  it('restores a retired version to live', async () => {
    await retireVersion(t.db, { name: free, reason: 'replaced by v2', actor: 'alice' });
    const r = await restoreVersion(t.db, { name: `app.${free}`, reason: 'rollback needs it', actor: 'bob' });
    expect(r).toMatchObject({ status: 'live', revision: 3 });
    expect((await statusOf(free)).status).toBe('live');
  });

  it('requires a reason', async () => {
    await expect(retireVersion(t.db, { name: free, reason: '  ', actor: 'alice' })).rejects.toThrow('a reason is required');
  });

  it('refuses to retire a version a live deployment uses, listing the deployments; an override is audited', async () => {
    const err = await retireVersion(t.db, { name: used, reason: 'cleanup', actor: 'alice' }).catch((e) => e);
    expect(err.code).toBe('conflict');
    expect(err.details).toEqual(['web/w2 (live)']);
    expect((await statusOf(used)).status).toBe('live');

    const r = await retireVersion(t.db, { name: used, reason: 'security fix, w3 is rolling out', actor: 'admin', override: true });
    expect(r.overriddenDeployments).toEqual(['web/w2 (live)']);
    const [audit] = await t.db.select().from(auditLog).where(eq(auditLog.action, 'version.retire.override'));
    expect(audit).toMatchObject({ actor: 'admin', reason: 'security fix, w3 is rolling out', after: { overriddenDeployments: ['web/w2 (live)'] } });
    await restoreVersion(t.db, { name: used, reason: 'undo', actor: 'admin' });
  });

  it('lets exactly one of two concurrent operators win; the other is told it changed meanwhile', async () => {
    const seen = (await statusOf(free)).revision;
    expect(seen).toBe(1);
    const auditBefore = (await t.db.select().from(auditLog)).length;
    const results = await Promise.allSettled([
      retireVersion(t.db, { name: free, reason: 'a', actor: 'alice', expectedRevision: seen }),
      retireVersion(t.db, { name: free, reason: 'b', actor: 'bob', expectedRevision: seen }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason.message).toMatch(/changed meanwhile \(now retired, revision 2; you saw revision 1\)/);
    expect((await t.db.select().from(auditLog)).length).toBe(auditBefore + 1);
  });

  it('names an unknown version', async () => {
    await expect(retireVersion(t.db, { name: 'nope__0000000000', reason: 'x', actor: 'a' })).rejects.toThrow('no version named nope__0000000000');
  });
});
