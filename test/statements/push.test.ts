import { readEnv } from '../../lib/config';
import { beforeAll, describe, expect, it } from 'vitest';
import { bindingReferences } from '../../lib/bindings';
import { planCleanup } from '../../lib/cleanup/plan';
import { cleanupConfig } from '../../lib/cleanup/config';
import type { CompileResult } from '../../lib/compile/compile';
import { versionProperties } from '../../lib/properties';
import { pushVersions, type PushOptions } from '../../lib/push';
import { retireVersion } from '../../lib/versions';
import { createTestDatabase, createTestRole, type TestDatabase } from '../helpers/db';
import { bindingsUnchanged } from '../helpers/touchTrigger';
import { compileFiles } from '../helpers/sources';

let reader = '';
const opts: PushOptions = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'migrations/' };

/** A migration file as a team's migration tool has it: functions mixed with everything around them. */
const migration = (touchDate: string, comment: string, countBody = 'SELECT count(*) FROM app.items', grant = true) => `-- 0042_items.sql
BEGIN;
SET search_path = app, public;
SET lock_timeout = '5s';

CREATE OR REPLACE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := '${touchDate}';
  RETURN NEW;
END $$;

CREATE TRIGGER items_touch BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION app.touch();

CREATE FUNCTION app.add_price(state numeric, price numeric) RETURNS numeric LANGUAGE sql IMMUTABLE
AS $$ SELECT state + coalesce(price, 0) $$;
CREATE AGGREGATE app.total_price(numeric) (sfunc = app.add_price, stype = numeric, initcond = '0');

CREATE FUNCTION app.item_count() RETURNS bigint LANGUAGE sql STABLE AS $$ ${countBody} $$;
REVOKE ALL ON FUNCTION app.item_count() FROM PUBLIC;
${grant ? `GRANT EXECUTE ON FUNCTION app.item_count() TO ${reader};` : ''}
COMMENT ON FUNCTION app.item_count() IS '${comment}';
COMMIT;
`;

describe('push: a migration-style file with functions, a trigger, an aggregate, grants and comments', () => {
  let t: TestDatabase;
  let first: CompileResult;
  const phys = (c: CompileResult, name: string) => {
    const v = c.versions.find((x) => x.name === name)!;
    return `app.${v.physicalName}`;
  };
  const q = async <T>(text: string, params: unknown[] = []) => (await t.pool.query(text, params)).rows as T[];
  const triggerFunction = async () => (await q<{ fn: string }>(`SELECT tgfoid::regproc::text AS fn FROM pg_trigger WHERE tgname = 'items_touch'`))[0]!.fn;
  const props = async (sig: string) =>
    (
      await q<{ comment: string | null; grantees: string[] }>(
        `SELECT obj_description($1::regprocedure, 'pg_proc') AS comment,
                (SELECT array_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END ORDER BY 1)
                 FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                 WHERE p.oid = $1::regprocedure AND a.grantee <> p.proowner) AS grantees`,
        [sig],
      )
    )[0]!;

  beforeAll(async () => {
    t = await createTestDatabase();
    reader = await createTestRole('reader');
    await t.pool.query(`CREATE SCHEMA app; CREATE TABLE app.items (id int PRIMARY KEY, price numeric, updated_at timestamptz)`);
    await t.pool.query(`INSERT INTO app.items VALUES (1, 2.5, NULL), (2, 4, NULL)`);
    first = await compileFiles({ 'migrations/0042_items.sql': migration('2000-01-01', 'How many items') });
  });

  it('compiles without edits, skipping BEGIN, COMMIT and SET with a notice', () => {
    expect(first.versions.map((v) => v.name).sort()).toEqual(['add_price', 'item_count', 'touch']);
    expect(first.statements.skipped).toEqual([]);
    expect(first.statements.notices).toEqual([
      'skipped BEGIN, SET ×2, COMMIT: push runs in its own transaction and settings do not carry over; unqualified names use the schema public',
    ]);
    expect(first.statements.bindings.map((b) => b.identity)).toEqual(['trigger items_touch on app.items', 'aggregate app.total_price(numeric)']);
  });

  it('pushes: the trigger fires through the hashed version, the aggregate aggregates, properties are applied', async () => {
    const r = await pushVersions(t.db, first, opts);
    expect(r.created).toHaveLength(3);
    expect(r.statements!.bindings).toEqual({
      created: ['trigger items_touch on app.items', 'aggregate app.total_price(numeric)'],
      moved: [],
      updated: [],
      repaired: [],
      forgotten: [],
      notInSources: [],
    });
    expect(r.statements!.properties.changed).toEqual(['app.item_count()']);

    expect(await triggerFunction()).toBe(phys(first, 'touch'));
    await t.pool.query(`UPDATE app.items SET price = price WHERE id = 1`);
    expect(await q(`SELECT id, updated_at::date::text AS d FROM app.items ORDER BY id`)).toEqual([
      { id: 1, d: '2000-01-01' },
      { id: 2, d: null },
    ]);
    expect(await q(`SELECT app.total_price(price)::text AS total FROM app.items`)).toEqual([{ total: '6.5' }]);
    expect(await q(`SELECT aggtransfn::regproc::text AS fn FROM pg_aggregate WHERE aggfnoid = 'app.total_price(numeric)'::regprocedure`)).toEqual([
      { fn: phys(first, 'add_price') },
    ]);
    expect(await props(`${phys(first, 'item_count')}()`)).toEqual({ comment: 'How many items', grantees: [reader] });
    // What the version page shows.
    const countId = Number((await q<{ id: number }>(`SELECT id FROM procver.versions WHERE schema || '.' || physical_name = $1`, [phys(first, 'item_count')]))[0]!.id);
    const owner = (await q<{ u: string }>(`SELECT current_user AS u`))[0]!.u;
    expect(await versionProperties(t.db, countId)).toEqual({
      owner,
      comment: 'How many items',
      grants: [`${owner}: EXECUTE`, `${reader}: EXECUTE`].sort(),
      fromSources: [
        'REVOKE ALL ON ROUTINE app.item_count() FROM PUBLIC',
        `GRANT EXECUTE ON ROUTINE app.item_count() TO ${reader}`,
        "COMMENT ON ROUTINE app.item_count() IS 'How many items'",
      ],
    });
    // Not part of the code: a new version of add_price would not get item_count's grants.
    expect(await props(`${phys(first, 'add_price')}(numeric, numeric)`)).toEqual({ comment: null, grantees: ['PUBLIC'] });

    const rows = await q<{ identity: string; versions: string[] }>(`
      SELECT b.identity, array_agg(v.schema || '.' || v.physical_name) AS versions FROM procver.bindings b
      JOIN procver.binding_versions bv ON bv.binding_id = b.id JOIN procver.versions v ON v.id = bv.version_id GROUP BY 1 ORDER BY 1`);
    expect(rows).toEqual([
      { identity: 'aggregate app.total_price(numeric)', versions: [phys(first, 'add_price')] },
      { identity: 'trigger items_touch on app.items', versions: [phys(first, 'touch')] },
    ]);
    const audit = await q<{ action: string; target: string }>(`SELECT action, target FROM procver.audit_log ORDER BY id`);
    expect(audit).toEqual([
      { action: 'procedure.properties', target: 'app.item_count()' },
      { action: 'binding.create', target: 'trigger items_touch on app.items' },
      { action: 'binding.create', target: 'aggregate app.total_price(numeric)' },
      { action: 'push', target: 'migrations/' },
    ]);
  });

  it('a second push of the same file changes nothing', async () => {
    const before = await q(`SELECT count(*)::int AS n FROM procver.audit_log`);
    const r = await pushVersions(t.db, await compileFiles({ 'migrations/0042_items.sql': migration('2000-01-01', 'How many items') }), opts);
    expect(r.created).toEqual([]);
    expect(r.statements).toEqual({ properties: { changed: [] }, bindings: bindingsUnchanged, entryPoints: { moved: [] } });
    expect(await q(`SELECT count(*)::int AS n FROM procver.audit_log`)).toEqual(before);
  });

  it('a changed trigger function moves the trigger in the push transaction and releases the old version; changed properties reach existing versions', async () => {
    const second = await compileFiles({ 'migrations/0042_items.sql': migration('2001-01-01', 'Items, counted') });
    expect(phys(second, 'item_count')).toBe(phys(first, 'item_count'));
    const oldTouch = Number((await q<{ id: number }>(`SELECT id FROM procver.versions WHERE schema || '.' || physical_name = $1`, [phys(first, 'touch')]))[0]!.id);
    expect([...(await bindingReferences(t.db, [oldTouch])).values()].flat().map((b) => b.label)).toEqual(['trigger items_touch on app.items']);

    const r = await pushVersions(t.db, second, opts);
    expect(r.created).toEqual([phys(second, 'touch')]);
    expect(r.statements!.bindings).toEqual({ created: [], moved: ['trigger items_touch on app.items'], updated: [], repaired: [], forgotten: [], notInSources: [] });
    expect(r.statements!.properties.changed).toEqual(['app.item_count()']);
    expect(await triggerFunction()).toBe(phys(second, 'touch'));
    await t.pool.query(`UPDATE app.items SET price = price WHERE id = 2`);
    expect(await q(`SELECT updated_at::date::text AS d FROM app.items WHERE id = 2`)).toEqual([{ d: '2001-01-01' }]);
    expect(await props(`${phys(first, 'item_count')}()`)).toEqual({ comment: 'Items, counted', grantees: [reader] });

    const moved = await q<{ before: unknown; after: { versions: string[] } }>(`SELECT before, after FROM procver.audit_log WHERE action = 'binding.move'`);
    expect(moved.map((m) => [(m.before as { versions: string[] }).versions, m.after.versions])).toEqual([[[phys(first, 'touch')], [phys(second, 'touch')]]]);
    expect((await bindingReferences(t.db, [oldTouch])).size).toBe(0);

    // Cleanup sees the trigger as a reference like a deployment: the new version is kept, the old one released.
    const newTouch = Number((await q<{ id: number }>(`SELECT id FROM procver.versions WHERE schema || '.' || physical_name = $1`, [phys(second, 'touch')]))[0]!.id);
    // Retire refuses the bound version (test/statements/retireBound.test.ts); an admin override retires it anyway.
    await retireVersion(t.db, { name: phys(first, 'touch'), actor: 'test', reason: 'test' });
    await retireVersion(t.db, { name: phys(second, 'touch'), actor: 'test', reason: 'test', override: true });
    const plan = await planCleanup(
      t.db,
      [],
      cleanupConfig(readEnv({ PROCVER_STATS_FLUSH_DELAY: '1s', PROCVER_COLLECT_INTERVAL: '1s' }), { quietWindow: '2s', quarantine: '2s' }),
    );
    const deployments = (id: number) => plan.rows.find((x) => x.versionId === id)!.checks.find((c) => c.name === 'deployments')!;
    expect(deployments(oldTouch).verdict).toBe('pass');
    expect(deployments(newTouch).verdict).toBe('fail');
    expect(deployments(newTouch).detail[0]).toMatch(/^trigger items_touch on app\.items points to it \(since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$/);
  });

  it('a grant removed from the sources is removed from every version of the procedure', async () => {
    const third = await compileFiles({ 'migrations/0042_items.sql': migration('2001-01-01', 'Items, counted', 'SELECT count(*) + 0 FROM app.items', false) });
    const r = await pushVersions(t.db, third, opts);
    expect(r.created).toEqual([phys(third, 'item_count')]);
    expect(await props(`${phys(first, 'item_count')}()`)).toEqual({ comment: 'Items, counted', grantees: null });
    expect(await props(`${phys(third, 'item_count')}()`)).toEqual({ comment: 'Items, counted', grantees: null });
  });
});

describe('push: an aggregate of no arguments, agg(*) (PostgREST’s unsupported_agg)', () => {
  it('is created, and the next push finds it in place (to_regprocedure refuses `(*)`, so it is looked up as `()`)', async () => {
    const t = await createTestDatabase();
    const sources = {
      'a.sql': `CREATE FUNCTION app.tick(n integer) RETURNS integer LANGUAGE sql AS $$ SELECT n + 1 $$;
CREATE AGGREGATE app.ticks(*) (sfunc = app.tick, stype = integer, initcond = '0');`,
    };
    await t.pool.query('CREATE SCHEMA app');
    const first = await pushVersions(t.db, await compileFiles(sources), opts);
    expect(first.statements!.bindings.created).toEqual(['aggregate app.ticks(*)']);
    expect((await t.pool.query('SELECT app.ticks(*)::int AS n FROM generate_series(1, 3)')).rows).toEqual([{ n: 3 }]);
    const again = await pushVersions(t.db, await compileFiles(sources), opts);
    expect(again.statements!.bindings).toEqual(bindingsUnchanged);
  });
});
