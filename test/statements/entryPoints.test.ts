import { readEnv } from '../../lib/config';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanupConfig } from '../../lib/cleanup/config';
import { planCleanup } from '../../lib/cleanup/plan';
import type { CompileResult } from '../../lib/compile/compile';
import { pushVersions, type PushOptions } from '../../lib/push';
import { retireVersion } from '../../lib/versions';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

const opts: PushOptions = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'sql/' };

const sources = (factor: number) => ({
  'audit.sql': `-- procver:entry-point
CREATE FUNCTION app.audit(n int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN n * ${factor}; END $$;

-- procver:entry-point
CREATE FUNCTION app.upto(n int, step int DEFAULT 1) RETURNS TABLE (i int) LANGUAGE sql AS $$ SELECT generate_series(1, n, step) $$;
COMMENT ON FUNCTION app.upto(int, int) IS 'counts';
`,
});

describe('entry points: the logical name as a forwarder to the newest pushed version', () => {
  let t: TestDatabase;
  let first: CompileResult;
  const phys = (c: CompileResult, name: string) => `app.${c.versions.find((v) => v.name === name)!.physicalName}`;
  const one = async (text: string) => (await t.pool.query(text)).rows[0];

  beforeAll(async () => {
    t = await createTestDatabase();
    // What the team had before procver: a plain function, and a view (owned by the migration tool) calling it.
    await t.pool.query(`CREATE SCHEMA app;
      CREATE FUNCTION app.audit(n int) RETURNS int LANGUAGE sql AS $$ SELECT n $$;
      CREATE VIEW app.audited AS SELECT app.audit(7) AS a;`);
    first = await compileFiles(sources(10));
  });

  it('replaces the plain function in place (same OID: the view keeps working) and forwards to the version', async () => {
    const oid = (await one(`SELECT 'app.audit(integer)'::regprocedure::oid::int AS oid`)).oid;
    const r = await pushVersions(t.db, first, opts);
    expect(r.statements!.entryPoints.moved).toEqual([`app.audit(integer) -> ${phys(first, 'audit')}`, `app.upto(integer, integer) -> ${phys(first, 'upto')}`]);
    expect((await one(`SELECT 'app.audit(integer)'::regprocedure::oid::int AS oid`)).oid).toBe(oid);
    expect(await one(`SELECT * FROM app.audited`)).toEqual({ a: 70 });
    expect((await t.pool.query(`SELECT * FROM app.upto(5, 2)`)).rows).toEqual([{ i: 1 }, { i: 3 }, { i: 5 }]);
    expect((await t.pool.query(`SELECT * FROM app.upto(2)`)).rows).toEqual([{ i: 1 }, { i: 2 }]);
    // The forwarder carries the procedure's properties too.
    expect(await one(`SELECT obj_description('app.upto(int, int)'::regprocedure, 'pg_proc') AS c`)).toEqual({ c: 'counts' });
    const audit = (await t.pool.query(`SELECT action, target, before FROM procver.audit_log WHERE action LIKE 'entry_point.%' ORDER BY id`)).rows;
    expect(audit).toEqual([
      { action: 'entry_point.create', target: 'app.audit(integer)', before: { replaced: 'a function procver did not create' } },
      { action: 'entry_point.create', target: 'app.upto(integer, integer)', before: null },
    ]);
  });

  it("counts calls through the forwarder on the version's own counter", async () => {
    // This transaction's own counts (what it flushes to pg_stat_user_functions at commit): exact,
    // whatever other sessions called.
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    try {
      await c.query(`SET track_functions = 'all'`);
      await c.query('BEGIN');
      for (let i = 0; i < 3; i++) await c.query(`SELECT * FROM app.audited`);
      const r = await c.query(`SELECT pg_stat_get_xact_function_calls('${phys(first, 'audit')}(integer)'::regprocedure)::int AS calls`);
      expect(r.rows).toEqual([{ calls: 3 }]);
      await c.query('COMMIT');
    } finally {
      await c.end();
    }
  });

  it('re-points the forwarder at the next push and releases the old version for cleanup', async () => {
    const second = await compileFiles(sources(100));
    const r = await pushVersions(t.db, second, opts);
    expect(r.statements!.entryPoints.moved).toEqual([`app.audit(integer) -> ${phys(second, 'audit')}`]);
    expect(await one(`SELECT * FROM app.audited`)).toEqual({ a: 700 });
    const moved = (await t.pool.query(`SELECT before, after->>'version' AS after FROM procver.audit_log WHERE action = 'entry_point.move'`)).rows;
    expect(moved).toEqual([{ before: { version: phys(first, 'audit') }, after: phys(second, 'audit') }]);

    // Retire refuses the version behind the entry point; an admin override retires it anyway.
    await retireVersion(t.db, { name: phys(first, 'audit'), actor: 'test', reason: 'test' });
    await retireVersion(t.db, { name: phys(second, 'audit'), actor: 'test', reason: 'test', override: true });
    const plan = await planCleanup(
      t.db,
      [],
      cleanupConfig(readEnv({ PROCVER_STATS_FLUSH_DELAY: '1s', PROCVER_COLLECT_INTERVAL: '1s' }), { quietWindow: '2s', quarantine: '2s' }),
    );
    const check = (name: string) => plan.rows.find((x) => `${x.schema}.${x.physicalName}` === name)!.checks.find((c) => c.name === 'deployments')!;
    expect(check(phys(first, 'audit')).verdict).toBe('pass');
    expect(check(phys(second, 'audit')).detail[0]).toMatch(/^entry point app\.audit\(integer\) points to it/);
  });
});
