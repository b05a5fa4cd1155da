import { beforeAll, describe, expect, it } from 'vitest';
import type { CompileResult } from '../../lib/compile/compile';
import { pushVersions } from '../../lib/push';
import { retireVersion } from '../../lib/versions';
import { quarantineLikeCleanup } from '../helpers/cleanup';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';
import { plainPush, touchTrigger } from '../helpers/touchTrigger';

const opts = plainPush;
const sources = touchTrigger;

describe('push never points a binding at a quarantined version', () => {
  let t: TestDatabase;
  let first: CompileResult;
  const physical = (c: CompileResult) => c.versions.find((v) => v.name === 'touch')!.physicalName;
  const triggerFunction = async () => (await t.pool.query(`SELECT tgfoid::regproc::text AS fn FROM pg_trigger WHERE tgname = 'items_touch'`)).rows[0].fn;

  beforeAll(async () => {
    t = await createTestDatabase();
    await t.pool.query('CREATE SCHEMA app; CREATE TABLE app.items (n int)');
    first = await compileFiles(sources(1));
    await pushVersions(t.db, first, opts);
    await pushVersions(t.db, await compileFiles(sources(2)), opts);
  });

  it('refuses a push whose trigger would call the tripwire of a quarantined version, names the restore, and changes nothing', async () => {
    const v1 = physical(first);
    await retireVersion(t.db, { name: `app.${v1}`, reason: 'replaced', actor: 'test' });
    await quarantineLikeCleanup(t.db, v1);
    const before = await triggerFunction();
    expect(before).not.toContain(v1);

    const err = await pushVersions(t.db, await compileFiles(sources(1)), opts).catch((e) => e);
    expect(err).toMatchObject({ code: 'conflict' });
    expect(err.message).toMatch(/^push refused: the sources point 1 binding\(s\) or entry point\(s\) at versions cleanup has quarantined/);
    expect(err.details).toEqual([`trigger items_touch on app.items → app.${v1}: procver restore app.${v1} --reason <why>`]);
    expect(await triggerFunction()).toBe(before);
    await t.pool.query('INSERT INTO app.items VALUES (0)');
    expect((await t.pool.query('SELECT n FROM app.items')).rows).toEqual([{ n: 2 }]);
  });
});
