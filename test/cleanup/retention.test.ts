import { readEnv } from '../../lib/config';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCleanup } from '../../lib/cleanup/apply';
import { cleanupConfig } from '../../lib/cleanup/config';
import { planCleanup } from '../../lib/cleanup/plan';
import { retentionPolicy } from '../../lib/cleanup/retention';
import { buildManifest } from '../../lib/compile/outputs';
import { qualifiedName } from '../../lib/compile/parser';
import { addDeployment } from '../../lib/deployments';
import { pushVersions } from '../../lib/push';
import { collectUsage } from '../../lib/usage/collect';
import type { InstanceTarget } from '../../lib/usage/readInstance';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

const push = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' };

describe('cleanup: the retention policy', () => {
  let t: TestDatabase;
  let targets: InstanceTarget[];
  const names: string[] = []; // physical names of app.f, oldest first
  const status = async () =>
    Object.fromEntries((await t.pool.query(`SELECT physical_name, status FROM procver.versions ORDER BY id`)).rows.map((r) => [r.physical_name, r.status]));

  beforeAll(async () => {
    t = await createTestDatabase();
    targets = [{ url: t.url, role: 'primary' }];
    // Six versions of app.f, and one inlinable SQL function's two versions.
    for (let i = 0; i < 6; i++) {
      const c = await compileFiles({
        'f.sql': `CREATE FUNCTION app.f(x integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN x + ${i}; END $$;
CREATE FUNCTION app.s(x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT x + ${i % 2} $$;`,
      });
      await pushVersions(t.db, c, push);
      names.push(c.versions.find((v) => v.name === 'f')!.physicalName);
      if (i === 1) await addDeployment(t.db, { app: 'web', deploymentId: 'old-build', manifest: buildManifest(c), live: false, actor: 'ci' });
    }
    // Everything was pushed 40 days ago, in order; usage history covers 40 days.
    await t.pool.query(`UPDATE procver.versions SET created_at = now() - interval '40 days' + make_interval(secs => id)`);
    await collectUsage(t.db, targets);
    await t.pool.query(`UPDATE procver.instances SET first_collected_at = now() - interval '40 days'`);
    // Version 3 (of 6) was called lately.
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    await c.query(`SELECT ${qualifiedName('app', names[2]!)}(1)`);
    await c.query('SELECT pg_stat_force_next_flush()');
    await c.end();
    await collectUsage(t.db, targets);
  });

  it('is off unless configured, and says how to turn it on', async () => {
    expect(retentionPolicy(readEnv({}))).toBeNull();
    expect(() => retentionPolicy(readEnv({ PROCVER_RETENTION_AFTER: '30d', PROCVER_RETENTION_KEEP: '0' }))).toThrow(/PROCVER_RETENTION_KEEP/);
    const plan = await planCleanup(t.db, targets, cleanupConfig(readEnv({})));
    expect(plan.retire).toEqual([]);
  });

  it('plans to retire only old, unreferenced, uncalled, countable versions beyond the newest N, and explains each', async () => {
    const config = cleanupConfig(readEnv({ PROCVER_RETENTION_AFTER: '30d', PROCVER_RETENTION_KEEP: '3' }));
    const plan = await planCleanup(t.db, targets, config);
    // Of 6: the newest 3 are kept, #2 is in a pending deployment, #3 was called; #1 remains. The
    // inlinable SQL function is never retired (its calls cannot be counted).
    expect(plan.retire.map((r) => r.physicalName)).toEqual([names[0]]);
    expect(plan.retire[0]!.reasons.join('\n')).toMatch(/newest 3 are kept[\s\S]*no call on any instance for 30d[\s\S]*no live, pending or previous deployment/);
    // A shorter period than the versions' age: nothing is old enough.
    expect((await planCleanup(t.db, targets, cleanupConfig(readEnv({ PROCVER_RETENTION_AFTER: '41d' })))).retire).toEqual([]);
  });

  it('retires them when applied, each with an audit entry naming the policy, and drops nothing', async () => {
    const config = cleanupConfig(readEnv({ PROCVER_RETENTION_AFTER: '30d', PROCVER_RETENTION_KEEP: '3' }));
    const progress: [string, number, number][] = [];
    const { retired } = await runCleanup(t.db, targets, config, { apply: true, actor: 'cron', onProgress: (...p) => progress.push(p) });
    expect(progress).toEqual([['retire', 1, 1]]); // nothing to quarantine or drop in this run
    expect(retired).toEqual([{ schema: 'app', physicalName: names[0], outcome: 'retired', detail: 'retired by the retention policy' }]);
    const s = await status();
    expect(s[names[0]!]).toBe('retired');
    expect(names.slice(1).map((n) => s[n])).toEqual(['live', 'live', 'live', 'live', 'live']);
    const audit = await t.pool.query(`SELECT actor, action, reason FROM procver.audit_log WHERE target = $1`, [`app.${names[0]}`]);
    expect(audit.rows).toEqual([{ actor: 'cron', action: 'version.retire', reason: expect.stringMatching(/^retention policy: keep the newest 3/) }]);
    // The same run did not drop it: its quiet window starts now.
    const next = await planCleanup(t.db, targets, config);
    expect(next.rows.find((r) => r.physicalName === names[0])!.checks[0]).toMatchObject({ name: 'retired', verdict: 'fail' });
  });
  // Last: the fresh reading makes that instance known, and once it is no longer configured it keeps
  // everything for the whole period too (a replica removed during it).
  it('keeps everything while an instance has not been read for the whole period', async () => {
    const replica: InstanceTarget = { url: t.url.replace('127.0.0.1', 'localhost'), role: 'replica' };
    const plan = await planCleanup(t.db, [...targets, replica], cleanupConfig(readEnv({ PROCVER_RETENTION_AFTER: '30d' })));
    expect(plan.retire).toEqual([]);
  });
});
