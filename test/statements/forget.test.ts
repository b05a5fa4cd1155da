import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { bindingReferences } from '../../lib/bindings';
import { createDb, createPool, type Db } from '../../lib/db/client';
import { migrate } from '../../lib/db/migrate';
import { databaseUrlFor } from '../../lib/embedded';
import { pushVersions } from '../../lib/push';
import { retireVersion } from '../../lib/versions';
import { procverOk } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { onFileEnd } from '../helpers/disposal';
import { replicationUnavailable, startServer } from '../helpers/replication';
import { compileFiles, writeTree } from '../helpers/sources';
import { bindingsUnchanged, functionOnly, plainPush, touchTrigger } from '../helpers/touchTrigger';

/** An aggregate over a managed state function (a binding in pg_proc). */
const aggregate = {
  'sum.sql': `
CREATE FUNCTION app.add(s int, x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT s + coalesce(x, 0) $$;
CREATE AGGREGATE app.total(int) (sfunc = app.add, stype = int, initcond = '0');
`,
};
const aggregateFunctionOnly = { 'sum.sql': aggregate['sum.sql'].split('\n').slice(0, 2).join('\n') };

describe('a binding gone from the sources is forgotten once it is gone from the database too', () => {
  let t: TestDatabase;
  let touch = '';
  let add = '';
  const q = async (text: string, params: unknown[] = []) => (await t.pool.query(text, params)).rows;
  const idOf = async (name: string) => Number((await q('SELECT id FROM procver.versions WHERE schema || $2 || physical_name = $1', [name, '.']))[0].id);
  const registry = async () =>
    q(`SELECT b.identity, b.object_catalog, b.object_name, b.object_oid::bigint > 0 AS has_oid,
              array(SELECT v.physical_name FROM procver.binding_versions bv JOIN procver.versions v ON v.id = bv.version_id WHERE bv.binding_id = b.id) AS versions
       FROM procver.bindings b ORDER BY 1`);

  beforeAll(async () => {
    t = await createTestDatabase();
    await t.pool.query('CREATE SCHEMA app; CREATE TABLE app.items (n int)');
    const c = await compileFiles({ ...touchTrigger(1), ...aggregate });
    touch = `app.${c.versions.find((v) => v.name === 'touch')!.physicalName}`;
    add = `app.${c.versions.find((v) => v.name === 'add')!.physicalName}`;
    const r = await pushVersions(t.db, c, plainPush);
    expect(r.statements!.bindings.created).toEqual(['trigger items_touch on app.items', 'aggregate app.total(integer)']);
  });

  it('push records where each binding is: its catalog, name and OID', async () => {
    expect(await registry()).toEqual([
      { identity: 'aggregate app.total(integer)', object_catalog: 'pg_proc', object_name: ['app.total(integer)'], has_oid: true, versions: [add.slice(4)] },
      {
        identity: 'trigger items_touch on app.items',
        object_catalog: 'pg_trigger',
        object_name: ['app.items', 'items_touch'],
        has_oid: true,
        versions: [touch.slice(4)],
      },
    ]);
    const oids = await q(`SELECT
      (SELECT object_oid::bigint FROM procver.bindings WHERE identity = 'trigger items_touch on app.items') = (SELECT oid::bigint FROM pg_trigger WHERE tgname = 'items_touch') AS trigger,
      (SELECT object_oid::bigint FROM procver.bindings WHERE identity = 'aggregate app.total(integer)') = 'app.total(integer)'::regprocedure::oid::bigint AS aggregate`);
    expect(oids).toEqual([{ trigger: true, aggregate: true }]);
  });

  it('one removed from the sources but still in the database (renamed, even) is kept, and push says so', async () => {
    await t.pool.query('ALTER TRIGGER items_touch ON app.items RENAME TO items_touch_renamed');
    const dir = writeTree({ ...functionOnly(1), ...aggregate });
    const out = await procverOk(['push', dir], { DATABASE_URL: t.url });
    expect(out.split('\n')).toEqual([
      'also: 1 binding(s)',
      'pushed 2 version(s): 0 created, 0 re-created, 2 unchanged',
      `  ? trigger items_touch on app.items is not in the sources but still in the database, so it keeps ${touch} referenced: drop it, or put it back in the sources`,
      '',
    ]);
    expect((await registry()).map((r) => r.identity)).toEqual(['aggregate app.total(integer)', 'trigger items_touch on app.items']);
    expect([...(await bindingReferences(t.db, [await idOf(touch)])).values()].flat().map((b) => b.label)).toEqual(['trigger items_touch on app.items']);
    const refused = await retireVersion(t.db, { name: touch, reason: 'unused', actor: 'test' }).catch((e) => e);
    expect(refused).toMatchObject({ code: 'conflict', reason: 'referenced', details: ['bound: trigger items_touch on app.items'] });
    expect(await q(`SELECT count(*)::int AS n FROM procver.audit_log WHERE action = 'binding.forget'`)).toEqual([{ n: 0 }]);
  });

  it('once dropped, the next push forgets it with an audit entry and says so; its version retires without an override', async () => {
    await t.pool.query('DROP TRIGGER items_touch_renamed ON app.items');
    const c = await compileFiles({ ...functionOnly(1), ...aggregate });
    const r = await pushVersions(t.db, c, plainPush);
    expect(r.statements!.bindings).toEqual({ ...bindingsUnchanged, forgotten: [{ identity: 'trigger items_touch on app.items', takenBy: null }] });
    expect((await registry()).map((x) => x.identity)).toEqual(['aggregate app.total(integer)']);
    expect(await q(`SELECT count(*)::int AS n FROM procver.binding_versions WHERE version_id = $1`, [await idOf(touch)])).toEqual([{ n: 0 }]);
    const audit = await q(`SELECT actor, target_type, target, reason, before, after FROM procver.audit_log WHERE action = 'binding.forget'`);
    expect(audit).toEqual([
      {
        actor: 'test',
        target_type: 'binding',
        target: 'trigger items_touch on app.items',
        reason: 'gone from the sources and from the database',
        before: {
          versions: [touch],
          statements: [`CREATE OR REPLACE TRIGGER items_touch BEFORE INSERT ON app.items FOR EACH ROW EXECUTE FUNCTION ${touch}()`],
          object: { catalog: 'pg_trigger', name: ['app.items', 'items_touch'], oid: expect.any(Number) },
        },
        after: null,
      },
    ]);
    const done = await retireVersion(t.db, { name: touch, reason: 'unused', actor: 'test' });
    expect(done.overriddenDeployments).toEqual([]);

    // Nothing left to forget: the next push changes nothing.
    const before = await q('SELECT count(*)::int AS n FROM procver.audit_log');
    const again = await pushVersions(t.db, c, plainPush);
    expect(again.statements!.bindings).toEqual(bindingsUnchanged);
    expect(await q('SELECT count(*)::int AS n FROM procver.audit_log')).toEqual(before);
  });

  it('push prints the line for a forgotten binding (an aggregate, dropped together with its removal from the sources)', async () => {
    await t.pool.query('DROP AGGREGATE app.total(int)');
    const out = await procverOk(['push', writeTree({ ...functionOnly(1), ...aggregateFunctionOnly })], { DATABASE_URL: t.url });
    expect(out.split('\n')).toEqual([
      'pushed 2 version(s): 0 created, 0 re-created, 2 unchanged',
      '  - aggregate app.total(integer) forgotten: gone from the sources and from the database',
      'note: 1 version(s) in this push are retired and stay retired until restored:',
      `  - ${touch}`,
      '',
    ]);
    expect(await registry()).toEqual([]);
  });

  it('a row recorded before procver stored where to look is filled in by a push of its sources; without that it is kept (when in doubt, keep)', async () => {
    const c = await compileFiles({ ...touchTrigger(1), ...aggregate });
    await pushVersions(t.db, c, plainPush);
    await t.pool.query('UPDATE procver.bindings SET object_catalog = NULL, object_name = NULL, object_oid = NULL');
    const filled = await pushVersions(t.db, c, plainPush);
    expect(filled.statements!.bindings).toEqual(bindingsUnchanged);
    expect((await registry()).map((r) => [r.identity, r.object_catalog, r.has_oid])).toEqual([
      ['aggregate app.total(integer)', 'pg_proc', true],
      ['trigger items_touch on app.items', 'pg_trigger', true],
    ]);

    await t.pool.query(`UPDATE procver.bindings SET object_catalog = NULL, object_name = NULL, object_oid = NULL WHERE identity LIKE 'trigger %';
      DROP TRIGGER items_touch ON app.items`);
    const dir = writeTree({ ...functionOnly(1), ...aggregate });
    const out = await procverOk(['push', dir], { DATABASE_URL: t.url });
    expect(out.split('\n')).toEqual([
      'also: 1 binding(s)',
      'pushed 2 version(s): 0 created, 0 re-created, 2 unchanged',
      `  ? trigger items_touch on app.items is not in the sources; procver cannot tell whether it is still in the database (registered before procver recorded where to look), so it keeps ${touch} referenced: push it once from the sources, then remove it from both`,
      'note: 1 version(s) in this push are retired and stay retired until restored:',
      `  - ${touch}`,
      '',
    ]);
    expect((await registry()).map((r) => r.identity)).toEqual(['aggregate app.total(integer)', 'trigger items_touch on app.items']);
  });
});

describe('a table renamed by the migration tool, its trigger declared on the new name in the sources', () => {
  it('the new binding takes the trigger over (CREATE OR REPLACE keeps its OID) and the old one is forgotten, saying why', async () => {
    const t = await createTestDatabase();
    await t.pool.query('CREATE SCHEMA app; CREATE TABLE app.items (n int)');
    await pushVersions(t.db, await compileFiles(touchTrigger(1)), plainPush);
    const oid = async () => (await t.pool.query(`SELECT oid::bigint AS oid FROM pg_trigger WHERE tgname = 'items_touch'`)).rows;
    const before = await oid();
    expect(before).toHaveLength(1);

    await t.pool.query('ALTER TABLE app.items RENAME TO goods');
    const renamed = { 'touch.sql': touchTrigger(1)['touch.sql'].replace('ON app.items', 'ON app.goods') };
    const out = await procverOk(['push', writeTree(renamed)], { DATABASE_URL: t.url });
    expect(out.split('\n')).toEqual([
      'also: 1 binding(s)',
      'pushed 1 version(s): 0 created, 0 re-created, 1 unchanged',
      '  + trigger items_touch on app.goods',
      '  - trigger items_touch on app.items forgotten: gone from the sources; its object in the database is now trigger items_touch on app.goods',
      '',
    ]);
    expect(await oid()).toEqual(before);
    expect((await t.pool.query('SELECT identity, object_oid::bigint AS oid FROM procver.bindings')).rows).toEqual([
      { identity: 'trigger items_touch on app.goods', oid: before[0].oid },
    ]);
    const audit = await t.pool.query(`SELECT reason FROM procver.audit_log WHERE action = 'binding.forget'`);
    expect(audit.rows).toEqual([{ reason: 'gone from the sources; its object in the database is now trigger items_touch on app.goods' }]);
  });
});

/**
 * An aggregate over a type from another schema, dropped with that schema: its signature names a
 * type that no longer exists, which PostgreSQL 15 answers with an error, not NULL.
 */
async function forgetsAggregateOverDroppedType(db: Db, pool: pg.Pool): Promise<void> {
  const overDomain = {
    'sum.sql': `
CREATE FUNCTION app.add(s int, x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT s + coalesce(x, 0) $$;
CREATE AGGREGATE app.total(ext.amount) (sfunc = app.add, stype = int, initcond = '0');
`,
  };
  await pool.query('CREATE SCHEMA app; CREATE SCHEMA ext; CREATE DOMAIN ext.amount AS int');
  const r = await pushVersions(db, await compileFiles(overDomain), plainPush);
  expect(r.statements!.bindings.created).toEqual(['aggregate app.total(ext.amount)']);
  await pool.query('DROP SCHEMA ext CASCADE');
  const gone = await pushVersions(db, await compileFiles(aggregateFunctionOnly), plainPush);
  expect(gone.statements!.bindings).toEqual({ ...bindingsUnchanged, forgotten: [{ identity: 'aggregate app.total(ext.amount)', takenBy: null }] });
  expect((await pool.query('SELECT identity FROM procver.bindings')).rows).toEqual([]);
  expect((await pushVersions(db, await compileFiles(aggregateFunctionOnly), plainPush)).statements!.bindings).toEqual(bindingsUnchanged);
}

describe('a binding whose signature names a type that is gone with it', () => {
  it('is forgotten (embedded server)', async () => {
    const t = await createTestDatabase();
    await forgetsAggregateOverDroppedType(t.db, t.pool);
  });

  const unavailable = replicationUnavailable();
  it.skipIf(unavailable !== null)(
    `is forgotten on PostgreSQL 15, where looking up its signature raises${unavailable ? ` (skipped: ${unavailable})` : ''}`,
    async () => {
      const server = await startServer();
      const pool = createPool(databaseUrlFor(server.adminUrl, 'postgres'), 2);
      onFileEnd('PostgreSQL 15 server', async () => {
        await pool.end();
        await server.stop();
      });
      expect((await pool.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]!.server_version_num).toMatch(/^15/);
      await migrate(pool);
      await forgetsAggregateOverDroppedType(createDb(pool), pool);
    },
    120_000,
  );
});
