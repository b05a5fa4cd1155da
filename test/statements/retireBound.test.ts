import { beforeAll, describe, expect, it } from 'vitest';
import type { CompileResult } from '../../lib/compile/compile';
import { pushVersions } from '../../lib/push';
import { retireVersion } from '../../lib/versions';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';
import { plainPush, touchTrigger } from '../helpers/touchTrigger';

const opts = plainPush;
const sources = touchTrigger;

describe('retire refuses a version a binding calls', () => {
  let t: TestDatabase;
  let first: CompileResult;
  let second: CompileResult;
  const physical = (c: CompileResult) => c.versions.find((v) => v.name === 'touch')!.physicalName;
  const status = async (name: string) => (await t.pool.query('SELECT status FROM procver.versions WHERE physical_name = $1', [name])).rows[0].status;

  beforeAll(async () => {
    t = await createTestDatabase();
    await t.pool.query('CREATE SCHEMA app; CREATE TABLE app.items (n int)');
    first = await compileFiles(sources(1));
    await pushVersions(t.db, first, opts);
    second = await compileFiles(sources(2));
  });

  it('names the trigger and changes nothing; once the trigger moved on, the old version retires', async () => {
    const v1 = physical(first);
    const err = await retireVersion(t.db, { name: `app.${v1}`, reason: 'replaced', actor: 'test' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'conflict', reason: 'referenced', details: ['bound: trigger items_touch on app.items'] });
    expect(await status(v1)).toBe('live');

    await pushVersions(t.db, second, opts);
    const done = await retireVersion(t.db, { name: `app.${v1}`, reason: 'replaced', actor: 'test' });
    expect(done).toMatchObject({ status: 'retired', overriddenDeployments: [] });
    expect(await status(v1)).toBe('retired');
  });

  it('an admin override retires a bound version and the audit entry lists the binding', async () => {
    const v2 = physical(second);
    const done = await retireVersion(t.db, { name: `app.${v2}`, reason: 'testing', actor: 'admin', override: true });
    expect(done.overriddenDeployments).toEqual(['bound: trigger items_touch on app.items']);
    const audit = await t.pool.query(`SELECT action, after FROM procver.audit_log WHERE target = $1 ORDER BY id DESC LIMIT 1`, [`app.${v2}`]);
    expect(audit.rows[0]).toMatchObject({ action: 'version.retire.override', after: { overriddenDeployments: ['bound: trigger items_touch on app.items'] } });
  });
});
