import { beforeAll, describe, expect, it } from 'vitest';
import { quarantineNameFor } from '../../lib/cleanup/apply';
import { QUARANTINE_EXPLAINED } from '../../lib/cleanup/tripwire';
import { buildManifest } from '../../lib/compile/outputs';
import type { Manifest } from '../../lib/compile/manifest';
import { addDeployment, markLive, restoreDeploymentVersions } from '../../lib/deployments';
import { pushVersions } from '../../lib/push';
import { retireVersion } from '../../lib/versions';
import { quarantineLikeCleanup } from '../helpers/cleanup';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

describe('registering a deployment that references retired or quarantined versions', () => {
  let t: TestDatabase;
  let m: Manifest;
  let retired: string;
  let quarantined: string;
  beforeAll(async () => {
    t = await createTestDatabase();
    const c = await compileFiles({
      'a.sql': `CREATE FUNCTION app.r() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION app.q() RETURNS integer LANGUAGE sql AS $$ SELECT 2 $$;
CREATE FUNCTION app.ok() RETURNS integer LANGUAGE sql AS $$ SELECT 3 $$;`,
    });
    await pushVersions(t.db, c, { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' });
    m = buildManifest(c);
    retired = c.versions.find((v) => v.name === 'r')!.physicalName;
    quarantined = c.versions.find((v) => v.name === 'q')!.physicalName;
    await retireVersion(t.db, { name: retired, reason: 'old', actor: 'ops' });
    await quarantineLikeCleanup(t.db, quarantined);
  });

  it('registers it pending and says which versions are retired or quarantined', async () => {
    const r = await addDeployment(t.db, { app: 'web', deploymentId: 'p1', manifest: m, live: false, actor: 'ci' });
    expect(r.warnings.map((w) => [w.label, w.problem])).toEqual([
      ['app.q()', 'quarantined'],
      ['app.r()', 'retired'],
    ]);
    expect(r.warnings[0]!.message).toContain(`it is now named ${quarantineNameFor(quarantined)}`);
    const audit = await t.pool.query(`SELECT after FROM procver.audit_log WHERE action = 'deployment.add' AND target = 'web/p1'`);
    expect(audit.rows[0].after.warnings).toEqual(['app.q(): quarantined', 'app.r(): retired']);
  });

  it('refuses to put it live at once while a version is quarantined, even with an override, and registers nothing', async () => {
    for (const override of [false, true]) {
      const err = await addDeployment(t.db, { app: 'web', deploymentId: 'l1', manifest: m, live: true, override, actor: 'ci' }).catch((e) => e);
      expect(err).toMatchObject({ code: 'conflict', reason: 'referenced', details: [expect.stringMatching(/^app\.q\(\): /)] });
      expect(err.message).toBe(
        'deployment web/l1 not registered: it would go live calling 1 quarantined version(s), each renamed by cleanup, and until its drop a tripwire stands in under its name, counting each call and forwarding it (or, for a trigger or pseudo-type function it cannot forward, refusing it); register it without --live, restore them (procver restore --deployment web/l1 --reason <why>), then put it live',
      );
    }
    const n = await t.pool.query(`SELECT count(*)::int AS n FROM procver.deployments WHERE deployment_id = 'l1'`);
    expect(n.rows[0].n).toBe(0);
  });

  it('refuses to put it live at once with a retired version unless overridden; the override is audited', async () => {
    const withoutQ: Manifest = { ...m, procedures: m.procedures.filter((p) => p.name !== 'q') };
    const err = await addDeployment(t.db, { app: 'web', deploymentId: 'l2', manifest: withoutQ, live: true, actor: 'ci' }).catch((e) => e);
    expect(err.message).toBe(
      'deployment web/l2 not registered: it would go live calling 1 retired version(s); register it without --live, restore them (procver restore --deployment web/l2 --reason <why>), then put it live; or --override',
    );
    await addDeployment(t.db, { app: 'web', deploymentId: 'l2', manifest: withoutQ, live: true, override: true, actor: 'admin' });
    const audit = await t.pool.query(`SELECT action, after FROM procver.audit_log WHERE target = 'web/l2' ORDER BY id`);
    expect(audit.rows.map((a) => a.action)).toEqual(['deployment.add', 'deployment.live.override']);
    expect(audit.rows[1].after.overriddenVersions).toEqual(['app.r(): retired']);
  });

  it('putting the pending one live later is refused while a version is quarantined, and works after restore --deployment', async () => {
    const err = await markLive(t.db, 'web', 'p1', 'ci').catch((e) => e);
    expect(err).toMatchObject({ code: 'conflict', details: [`app.q() -> ${quarantined}`] });
    expect(err.message).toBe(
      `deployment web/p1 calls 1 version(s) that cleanup dropped or quarantined (a quarantined one is ${QUARANTINE_EXPLAINED}); restore these 1 version(s) first: procver restore --deployment web/p1 --reason <why>`,
    );
    const restored = await restoreDeploymentVersions(t.db, 'web', 'p1', 'rollback', 'ops');
    expect(restored.map((r) => [r.name, r.how])).toEqual([
      [`app.${quarantined}`, 'unquarantined'],
      [`app.${retired}`, 'status'],
    ]);
    await markLive(t.db, 'web', 'p1', 'ci');
  });
});
