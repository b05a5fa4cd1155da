import { readEnv } from '../../lib/config';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyCleanup } from '../../lib/cleanup/apply';
import { pushStatementLines } from '../../lib/cli/statementsReport';
import { cleanupConfig } from '../../lib/cleanup/config';
import { planCleanup } from '../../lib/cleanup/plan';
import { compileDirectory, type CompileResult } from '../../lib/compile/compile';
import { importDatabase, writeImport, type ImportResult } from '../../lib/import';
import { bindingsUnchanged } from '../helpers/touchTrigger';
import { pushVersions, type PushOptions } from '../../lib/push';
import { restoreVersion, retireVersion } from '../../lib/versions';
import { createTestDatabase, createTestRole, type TestDatabase } from '../helpers/db';
import { testTempDir } from '../helpers/disposal';

const dumpFile = readFileSync(join(__dirname, '../fixtures/shopDump.sql'), 'utf8');
/** The dump's role, made for this file (roles are server-wide). */
let clerk = '';
const opts: PushOptions = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'imported/' };
/** Short windows; the test moves the clock by backdating the registry instead of waiting. */
const config = cleanupConfig(readEnv({ PROCVER_STATS_FLUSH_DELAY: '1s', PROCVER_COLLECT_INTERVAL: '1s' }), { quietWindow: '2s', quarantine: '2s' });

/** Restores the dump on its own connection (it empties search_path for its session, as pg_dump's output does). */
async function restore(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(dumpFile.replaceAll('procver_shop_clerk', clerk));
  } finally {
    await c.end();
  }
}

/** When each trigger of the dump fires (pg_trigger.tgenabled, pg_event_trigger.evtenabled). */
const firingStates = async (db: TestDatabase) =>
  (
    await db.pool.query(`SELECT tgname AS name, tgenabled AS state FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'app.%'
                         UNION ALL SELECT evtname, evtenabled FROM pg_event_trigger WHERE evtname = 'shop_note_ddl' ORDER BY 1`)
  ).rows;
const FIRING_STATES = [
  { name: 'customers_touch', state: 'D' },
  { name: 'items_audit', state: 'O' },
  { name: 'items_touch', state: 'O' },
  { name: 'orders_audit', state: 'O' },
  { name: 'orders_touch', state: 'R' },
  { name: 'shop_note_ddl', state: 'A' },
];

describe('procver import: adopting an existing database', () => {
  let source: TestDatabase;
  let copy: TestDatabase;
  let imported: ImportResult;
  let dir: string;
  let compiled: CompileResult;
  const phys = (c: CompileResult, name: string) => `app.${c.versions.find((v) => v.name === name)!.physicalName}`;

  beforeAll(async () => {
    clerk = await createTestRole('clerk');
    source = await createTestDatabase({ migrated: false });
    copy = await createTestDatabase();
    await restore(source.url);
    await restore(copy.url);
    imported = await importDatabase(source.pool, { schemas: ['app'] });
    dir = testTempDir('procver-import-');
    await writeImport(imported, dir);
    compiled = await compileDirectory(dir);
  });

  it('writes one file per schema with every function, its properties and its bindings, and no extension members', () => {
    expect([...imported.files.keys()]).toEqual(['app.sql']);
    expect(imported.functions).toBe(12);
    expect(imported.bindings).toBe(9);
    expect(imported.leftOut).toEqual([]);
    expect(compiled.versions.map((v) => `${v.name}(${v.args})`).sort()).toEqual([
      'audit_change()',
      'cents(numeric)',
      'is_mine(integer)',
      'line_total(integer, numeric)',
      'max_price_state(numeric, numeric)',
      'next_order_ref()',
      'note_ddl()',
      'order_total(integer)',
      'place_order(integer, integer, integer)',
      'same_price(numeric, numeric)',
      'ship_paid()',
      'touch_updated_at()',
    ]);
    expect(compiled.statements.skipped).toEqual([]);
    expect(compiled.statements.bindings.map((b) => b.identity)).toEqual([
      'trigger customers_touch on app.customers',
      'trigger items_audit on app.items',
      'trigger items_touch on app.items',
      'trigger orders_audit on app.orders',
      'trigger orders_touch on app.orders',
      'event trigger shop_note_ddl',
      'aggregate app.max_price(numeric)',
      'operator app.=~(numeric, numeric)',
      'policy own_orders on app.orders',
    ]);
    const text = imported.files.get('app.sql')!;
    expect(text).toContain(
      `REVOKE ALL ON ROUTINE app.place_order(integer, integer, integer) FROM PUBLIC;\nGRANT EXECUTE ON ROUTINE app.place_order(integer, integer, integer) TO ${clerk};`,
    );
    expect(text).toContain("COMMENT ON ROUTINE app.order_total(integer) IS 'Sum of an order''s lines';");
    expect(text).not.toContain('citext');
    // Triggers that are not plainly enabled keep their state, right after their CREATE.
    expect(text).toContain(
      'CREATE TRIGGER customers_touch BEFORE UPDATE ON app.customers FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();\nALTER TABLE app.customers DISABLE TRIGGER customers_touch;\n',
    );
    expect(text).toContain('ALTER TABLE app.orders ENABLE REPLICA TRIGGER orders_touch;\n');
    expect(text).toContain("WHEN TAG IN ('CREATE TABLE', 'DROP TABLE') EXECUTE FUNCTION app.note_ddl();\nALTER EVENT TRIGGER shop_note_ddl ENABLE ALWAYS;\n");
    expect(text).not.toContain('items_audit;');
  });

  it('refuses to write over an earlier import', async () => {
    await expect(writeImport(imported, dir)).rejects.toThrow(`${join(dir, 'app.sql')} already exists; import into an empty directory`);
  });

  it('pushed to a copy, the copy behaves like the original, its triggers and aggregate running hashed versions', async () => {
    const r = await pushVersions(copy.db, compiled, opts);
    expect(r.created).toHaveLength(12);
    expect(r.statements!.bindings.created).toHaveLength(9);
    expect(
      (
        await copy.pool.query(`SELECT
          (SELECT evtfoid::regproc::text FROM pg_event_trigger WHERE evtname = 'shop_note_ddl') AS event_trigger,
          (SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polname = 'own_orders') AS policy,
          (SELECT oprcode::regproc::text FROM pg_operator WHERE oprname = '=~') AS operator`)
      ).rows[0],
    ).toEqual({ event_trigger: phys(compiled, 'note_ddl'), policy: `${phys(compiled, 'is_mine')}(customer_id)`, operator: phys(compiled, 'same_price') });

    const triggers = async (db: TestDatabase) =>
      (await db.pool.query(`SELECT tgname, tgfoid::regproc::text AS fn FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'app.%' ORDER BY 1`)).rows;
    expect(await triggers(copy)).toEqual([
      { tgname: 'customers_touch', fn: phys(compiled, 'touch_updated_at') },
      { tgname: 'items_audit', fn: phys(compiled, 'audit_change') },
      { tgname: 'items_touch', fn: phys(compiled, 'touch_updated_at') },
      { tgname: 'orders_audit', fn: phys(compiled, 'audit_change') },
      { tgname: 'orders_touch', fn: phys(compiled, 'touch_updated_at') },
    ]);
    expect(await firingStates(copy)).toEqual(await firingStates(source));
    expect(await firingStates(copy)).toEqual(FIRING_STATES);

    // The same workload on both: the original through its functions, the copy through the hashed versions.
    const workload = async (db: TestDatabase, fn: (name: string) => string) => {
      const c = await db.pool.connect();
      try {
        const order = (await c.query(`SELECT ${fn('place_order')}(1, 2, 3) AS id`)).rows[0].id;
        await c.query(`SELECT ${fn('place_order')}(2, 1, 1)`);
        await c.query(`UPDATE app.orders SET status = 'paid' WHERE id = $1`, [order]);
        await c.query(`UPDATE app.items SET price = price + 1 WHERE id = 3`);
        await c.query(`UPDATE app.customers SET name = name || '!' WHERE id = 2`);
        await c.query(`CALL ${fn('ship_paid')}()`);
        const q = async (text: string) => (await c.query(text)).rows;
        return {
          summary: await q(`SELECT * FROM app.order_summary ORDER BY id`),
          totals: await q(`SELECT ${fn('order_total')}(id)::text AS total FROM app.orders ORDER BY id`),
          orders: await q(`SELECT id, ref, status::text, updated_at::text FROM app.orders ORDER BY id`),
          audit: await q(`SELECT id, table_name, op, row_id FROM app.audit_log ORDER BY id`),
          touched: await q(
            `SELECT 'items' AS t, id, updated_at::text FROM app.items UNION ALL SELECT 'customers', id, updated_at::text FROM app.customers ORDER BY 1, 2`,
          ),
          maxPrice: await q(`SELECT app.max_price(price)::text AS m FROM app.items`),
          samePrice: await q(`SELECT id FROM app.items WHERE price OPERATOR(app.=~) 18.4 ORDER BY id`),
          asClerk: await (async () => {
            await c.query(`BEGIN; SET LOCAL ROLE ${clerk}; SET LOCAL app.customer = '2'`);
            const rows = await q(`SELECT id, customer_id FROM app.orders ORDER BY id`);
            await c.query('ROLLBACK');
            return rows;
          })(),
        };
      } finally {
        c.release();
      }
    };
    const original = await workload(source, (n) => `app.${n}`);
    const hashed = await workload(copy, (n) => phys(compiled, n));
    expect(hashed).toEqual(original);
    expect(original.audit).toHaveLength(5);
    // customers_touch is disabled and orders_touch fires only in replica sessions: neither touched its rows.
    expect(original.touched.filter((r) => r.t === 'customers')).toEqual([
      { t: 'customers', id: 1, updated_at: null },
      { t: 'customers', id: 2, updated_at: null },
    ]);
    expect(original.maxPrice).toEqual([{ m: '2550' }]);
    expect(original.samePrice).toEqual([{ id: 2 }]);
    expect(original.asClerk).toEqual([{ id: 2, customer_id: 2 }]);

    // Properties came along: grants, comments, SECURITY DEFINER.
    const props = async (db: TestDatabase, sig: string) =>
      (
        await db.pool.query(
          `SELECT p.prosecdef AS secdef, obj_description(p.oid, 'pg_proc') AS comment,
                  has_function_privilege('${clerk}', p.oid, 'EXECUTE') AS clerk,
                  EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0) AS public
           FROM pg_proc p WHERE p.oid = $1::regprocedure`,
          [sig],
        )
      ).rows[0];
    for (const [name, args] of [
      ['place_order', 'integer, integer, integer'],
      ['order_total', 'integer'],
      ['audit_change', ''],
      ['ship_paid', ''],
      ['line_total', 'integer, numeric'],
    ] as const) {
      expect(await props(copy, `${phys(compiled, name)}(${args})`), name).toEqual(await props(source, `app.${name}(${args})`));
    }
  });

  it('a changed trigger function moves its triggers at the next push; cleanup drops the old version, and restore brings it back', async () => {
    const file = join(dir, 'app.sql');
    writeFileSync(file, readFileSync(file, 'utf8').replace("NEW.updated_at := '2020-02-02 10:00:00+00';", "NEW.updated_at := '2021-03-03 10:00:00+00';"));
    const next = await compileDirectory(dir);
    const oldName = phys(compiled, 'touch_updated_at');
    const newName = phys(next, 'touch_updated_at');
    expect(newName).not.toBe(oldName);
    const r = await pushVersions(copy.db, next, opts);
    expect(r.created).toEqual([newName]);
    expect(r.statements!.bindings.moved).toEqual(['trigger customers_touch on app.customers', 'trigger items_touch on app.items', 'trigger orders_touch on app.orders']);
    // CREATE OR REPLACE TRIGGER enables a trigger; the move sets the state the sources declare again.
    expect(await firingStates(copy)).toEqual(FIRING_STATES);
    await copy.pool.query(`UPDATE app.items SET name = name WHERE id = 1`);
    expect((await copy.pool.query(`SELECT updated_at::text AS u FROM app.items WHERE id = 1`)).rows).toEqual([{ u: '2021-03-03 10:00:00+00' }]);

    const definition = async () => (await copy.pool.query(`SELECT pg_get_functiondef(to_regprocedure($1 || '()')) AS d`, [oldName])).rows[0].d as string | null;
    const before = await definition();
    expect(before).toContain("'2020-02-02 10:00:00+00'");

    await retireVersion(copy.db, { name: oldName.slice(4), actor: 'test', reason: 'replaced' });
    const backdate = () =>
      copy.pool.query(
        `UPDATE procver.versions SET status_changed_at = status_changed_at - interval '1 hour', quarantined_at = quarantined_at - interval '1 hour'
                       WHERE schema || '.' || physical_name = $1`,
        [oldName],
      );
    const plan = async () => {
      await backdate();
      return planCleanup(copy.db, [], config);
    };
    const row = async () => (await plan()).rows.find((x) => `${x.schema}.${x.physicalName}` === oldName)!;
    expect((await row()).action).toBe('quarantine');
    expect((await applyCleanup(copy.db, await plan(), 'test', [])).map((x) => x.outcome)).toEqual(['quarantined']);
    expect((await row()).action).toBe('drop');
    expect((await applyCleanup(copy.db, await plan(), 'test', [])).map((x) => x.outcome)).toEqual(['dropped']);
    expect(await definition()).toBeNull();
    expect((await copy.pool.query(`SELECT status::text FROM procver.versions WHERE schema || '.' || physical_name = $1`, [oldName])).rows).toEqual([
      { status: 'dropped' },
    ]);

    await restoreVersion(copy.db, { name: oldName.slice(4), actor: 'test', reason: 'bring it back' });
    expect(await definition()).toBe(before);
    expect((await copy.pool.query(`SELECT status::text FROM procver.versions WHERE schema || '.' || physical_name = $1`, [oldName])).rows).toEqual([{ status: 'live' }]);
  });

  it('a firing state changed by hand is set back to what the sources declare at the next push; an ALTER removed from the sources enables the trigger', async () => {
    await copy.pool.query('ALTER TABLE app.customers ENABLE TRIGGER customers_touch; ALTER EVENT TRIGGER shop_note_ddl DISABLE');
    const current = await compileDirectory(dir);
    const r = await pushVersions(copy.db, current, opts);
    expect(r.created).toEqual([]);
    expect(r.statements!.bindings).toEqual({
      ...bindingsUnchanged,
      repaired: [
        { identity: 'trigger customers_touch on app.customers', found: { missing: false, pointsElsewhere: false, fires: { found: 'O', declared: 'D' } } },
        { identity: 'event trigger shop_note_ddl', found: { missing: false, pointsElsewhere: false, fires: { found: 'D', declared: 'A' } } },
      ],
    });
    expect(pushStatementLines(r.statements)).toEqual([
      '  ! trigger customers_touch on app.customers fired differently (enabled in the database, disabled in the sources): created again',
      '  ! event trigger shop_note_ddl fired differently (disabled in the database, enabled always in the sources): created again',
    ]);
    expect(await firingStates(copy)).toEqual(FIRING_STATES);
    expect((await pushVersions(copy.db, current, opts)).statements!.bindings).toEqual(bindingsUnchanged);

    const file = join(dir, 'app.sql');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('ALTER TABLE app.customers DISABLE TRIGGER customers_touch;\n');
    writeFileSync(file, text.replace('ALTER TABLE app.customers DISABLE TRIGGER customers_touch;\n', ''));
    const enabled = await pushVersions(copy.db, await compileDirectory(dir), opts);
    expect(enabled.statements!.bindings).toEqual({
      created: [],
      moved: [],
      updated: ['trigger customers_touch on app.customers'],
      repaired: [],
      forgotten: [],
      notInSources: [],
    });
    expect(await firingStates(copy)).toEqual(FIRING_STATES.map((x) => (x.name === 'customers_touch' ? { ...x, state: 'O' } : x)));
  });
});
