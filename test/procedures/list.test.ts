import { beforeAll, describe, expect, it } from 'vitest';
import { listProcedures, procedureSorts, type ProcedureRow } from '../../lib/procedures';
import { pushVersions } from '../../lib/push';
import { collectUsage } from '../../lib/usage/collect';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

const push = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' };
const N = 23;

describe('listProcedures: keyset pages', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
    const files: Record<string, string> = {};
    for (let i = 0; i < N; i++) {
      // Names with digits, an underscore and mixed schemas, so ties and collation order matter.
      const schema = i % 3 === 0 ? 'billing' : 'app';
      files[`f${i}.sql`] = `CREATE FUNCTION ${schema}.proc_${String(i % 7)}_${i}(x integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN x + ${i}; END $$;`;
    }
    await pushVersions(t.db, await compileFiles(files), push);
    const procs = await t.pool.query<{ id: number }>('SELECT id FROM procver.procedures ORDER BY id');
    // Calls: several procedures share a count (ties), some have none.
    for (const [n, p] of procs.rows.entries()) {
      if (n % 4 === 3) continue;
      await t.pool.query(`INSERT INTO procver.procedure_calls_hourly (procedure_id, hour, calls) VALUES ($1, date_trunc('hour', now()), $2)`, [p.id, n % 5]);
    }
  });

  async function walk(sort: (typeof procedureSorts)[number], dir: 'asc' | 'desc', pageSize: number) {
    const pages: ProcedureRow[][] = [];
    let after: string | undefined;
    for (let i = 0; i < 50; i++) {
      const page = await listProcedures(t.db, { sort, dir, pageSize, after });
      expect(page.total).toBe(N);
      pages.push(page.rows);
      if (!page.next) break;
      after = page.next;
    }
    return pages;
  }

  for (const sort of procedureSorts) {
    for (const dir of ['asc', 'desc'] as const) {
      it(`pages through every procedure exactly once by ${sort} ${dir}, forwards and back`, async () => {
        const all = await listProcedures(t.db, { sort, dir, pageSize: 200 });
        expect(all.rows).toHaveLength(N);
        expect(all.next).toBeNull();
        const pages = await walk(sort, dir, 5);
        expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
        expect(pages.flat().map((r) => r.id)).toEqual(all.rows.map((r) => r.id));

        // Back from the last page, by `previous` cursors, gives the same pages.
        let page = await listProcedures(t.db, { sort, dir, pageSize: 5, after: (await listProcedures(t.db, { sort, dir, pageSize: 20 })).next! });
        expect(page.rows.map((r) => r.id)).toEqual(pages[4]!.map((r) => r.id));
        for (let i = 3; i >= 0; i--) {
          page = await listProcedures(t.db, { sort, dir, pageSize: 5, before: page.previous! });
          expect(page.rows.map((r) => r.id)).toEqual(pages[i]!.map((r) => r.id));
        }
        expect(page.previous).toBeNull();
      });
    }
  }

  it('orders by calls, and shows each page the calls of its own rows', async () => {
    const rows = (await listProcedures(t.db, { sort: 'calls', dir: 'desc', pageSize: 200 })).rows;
    const calls = rows.map((r) => r.calls);
    expect(calls).toEqual([...calls].sort((a, b) => b - a));
    expect(calls[0]).toBe(4);
    // No hourly row for every fourth procedure (n % 4 === 3: 5 of them), a row of 0 calls for n % 5 === 0 (4 more).
    expect(rows.filter((r) => r.calls === 0)).toHaveLength(9);
  });

  it('searches literally (LIKE wildcards in the query are plain characters) and counts the matches', async () => {
    const billing = await listProcedures(t.db, { q: 'billing', pageSize: 3 });
    expect(billing.total).toBe(8);
    expect(billing.rows.every((r) => r.schema === 'billing')).toBe(true);
    const ones = (await listProcedures(t.db, { q: 'proc_1_' })).rows.map((r) => `${r.schema}.${r.name}`);
    expect(ones).toEqual(['app.proc_1_1', 'app.proc_1_22', 'app.proc_1_8', 'billing.proc_1_15']);
    expect((await listProcedures(t.db, { q: '%' })).total).toBe(0);
  });

  it('refuses a cursor it did not make', async () => {
    await expect(listProcedures(t.db, { after: 'not-a-cursor' })).rejects.toThrow(/page cursor is not valid/);
    await expect(listProcedures(t.db, { after: Buffer.from('{"k":"x"}').toString('base64url') })).rejects.toThrow(/page cursor is not valid/);
  });
});

describe('listProcedures: "not counted" is the evidence module\'s decision', () => {
  it('marks inlinable SQL, and SQL on an instance with track_functions = pl, as not counted, saying why; PL/pgSQL is counted', async () => {
    const t = await createTestDatabase();
    const c = await compileFiles({
      'a.sql': `CREATE FUNCTION app.pl(x integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN x; END $$;
CREATE FUNCTION app.inlined(x integer) RETURNS integer LANGUAGE sql STABLE AS $$ SELECT x + 1 $$;
CREATE FUNCTION app.not_inlined(x integer) RETURNS integer LANGUAGE sql SECURITY DEFINER AS $$ SELECT x + 2 $$;`,
    });
    await pushVersions(t.db, c, push);
    const why = async () => new Map((await listProcedures(t.db, { pageSize: 10 })).rows.map((r) => [r.name, [r.uncounted, r.uncountedWhy]]));
    const inlined = 'PostgreSQL may inline this LANGUAGE sql function into its callers, so its calls cannot be counted';
    expect(await why()).toEqual(
      new Map([
        ['inlined', [true, [inlined]]],
        ['not_inlined', [false, []]],
        ['pl', [false, []]],
      ]),
    );
    await collectUsage(t.db, [{ url: t.url, role: 'primary' }]);
    // As an instance that counts PL functions only reports itself:
    const { label } = (await t.pool.query(`UPDATE procver.instances SET track_functions = 'pl' RETURNING label`)).rows[0];
    const pl = `track_functions = 'pl' on ${label}: calls are not counted there`;
    expect(await why()).toEqual(
      new Map([
        ['inlined', [true, [inlined, pl]]],
        ['not_inlined', [true, [pl]]],
        ['pl', [false, []]],
      ]),
    );

    // Only the configured instances count, as for the evidence: a replica no longer configured that
    // counted nothing says nothing about these versions.
    const primary = { url: t.url, role: 'primary' as const };
    await t.pool.query(
      `INSERT INTO procver.instances (label, host, port, role, first_collected_at, last_collected_at, last_attempt_at, track_functions)
       VALUES ('127.0.0.1:1/gone', '127.0.0.1', 1, 'replica', now() - interval '1 day', now(), now(), 'none')`,
    );
    await t.pool.query(`UPDATE procver.instances SET track_functions = 'all' WHERE label = $1`, [label]);
    const configured = new Map((await listProcedures(t.db, { pageSize: 10, targets: [primary] })).rows.map((r) => [r.name, [r.uncounted, r.uncountedWhy]]));
    expect(configured).toEqual(
      new Map([
        ['inlined', [true, [inlined]]],
        ['not_inlined', [false, []]],
        ['pl', [false, []]],
      ]),
    );
    const gone = "track_functions = 'none' on 127.0.0.1:1/gone: calls are not counted there";
    expect(await why()).toEqual(
      new Map([
        ['inlined', [true, [inlined, gone]]],
        ['not_inlined', [true, [gone]]],
        ['pl', [true, [gone]]],
      ]),
    );
  });
});
