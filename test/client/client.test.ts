import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readCatalog } from '../../lib/compile/client/catalog';
import type { Catalog } from '../../lib/compile/client/typeMap';
import type { CompileResult } from '../../lib/compile/compile';
import { qualifiedName } from '../../lib/compile/parser';
import { renderProcsModule, writeOutputs } from '../../lib/compile/outputs';
import { pushVersions } from '../../lib/push';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testTempDir } from '../helpers/disposal';
import { procver } from '../helpers/cli';
import { compileFiles, writeTree } from '../helpers/sources';
import { typeErrors } from '../helpers/typecheck';
import { clientSetupSql, clientSources } from './fixture';

type Fn = ((db: unknown, ...args: unknown[]) => Promise<unknown>) & { named: (db: unknown, args: object) => Promise<unknown> };
interface ProcsModule {
  call: Record<string, Fn>;
  applicationName(identity?: { app?: string; deployment?: string }): string;
  poolConfig<T extends object>(config: T, identity?: { app?: string; deployment?: string }): T & { application_name: string };
}

describe('typed calls in procs.ts', () => {
  let t: TestDatabase;
  let compiled: CompileResult;
  let catalog: Catalog;
  let dir: string;
  let procs: ProcsModule;
  const sent: string[] = [];
  /** the test pool, recording the SQL text the generated code sends */
  let frontend: pg.Pool;
  let db: { query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };
  const physical = (key: string) => {
    const v = compiled.versions.find((x) => `${x.schema}.${x.name}(${x.args})` === key);
    if (!v) throw new Error(`no ${key}`);
    return qualifiedName(v.schema, v.physicalName);
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    await t.pool.query(clientSetupSql);
    compiled = await compileFiles(clientSources);
    await pushVersions(t.db, compiled, { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' });
    const read = await readCatalog(t.url, compiled);
    expect(read.missing).toEqual([]);
    catalog = read.catalog;
    dir = testTempDir('procver-client-');
    await writeOutputs(compiled, dir, { catalog });
    procs = (await import(join(dir, 'procs.ts'))) as ProcsModule;
    // A frontend's pool with pg's stock parsers: procver's own pool (lib/db/client.ts) reads int8 as a
    // number, process-wide, so the stock int8 parser (text kept as a string) is put back for this one.
    frontend = new pg.Pool({
      connectionString: t.url,
      max: 2,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === 20 ? (v: string) => v : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    db = {
      query: (text, values) => {
        sent.push(text);
        return frontend.query(text, values);
      },
    };
  });

  afterAll(async () => {
    await frontend.end();
  });

  afterEach(() => {
    sent.length = 0;
  });

  it('a scalar function is called with casts and its value read under the logical name, never the version', async () => {
    expect(await procs.call['app.add']!(db, 1, 2)).toBe(3);
    expect(sent).toEqual([`SELECT ${physical('app.add(integer, integer)')}($1::integer, $2::integer) AS add`]);
    // The same SQL by hand: the column is named after the procedure.
    const r = await t.pool.query(sent[0]!, [1, 2]);
    expect(r.fields.map((f) => f.name)).toEqual(['add']);
    expect(r.rows).toEqual([{ add: 3 }]);
  });

  it('defaults: trailing positional arguments and named arguments may be left out', async () => {
    expect(await procs.call['app.add']!(db, 1)).toBe(11);
    expect(await procs.call['app.add']!.named(db, { a: 5 })).toBe(15);
    expect(await procs.call['app.add']!.named(db, { b: 1, a: 5 })).toBe(6);
    expect(sent).toEqual([
      `SELECT ${physical('app.add(integer, integer)')}($1::integer) AS add`,
      `SELECT ${physical('app.add(integer, integer)')}(a => $1::integer) AS add`,
      `SELECT ${physical('app.add(integer, integer)')}(a => $1::integer, b => $2::integer) AS add`,
    ]);
  });

  it('values arrive as pg parses them: bigint and numeric as strings, date and timestamptz as Date, json parsed', async () => {
    expect(await procs.call['app.big']!(db, 9007199254740993n)).toBe('18014398509481986');
    expect(await procs.call['app.ratio']!(db, '1')).toBe('0.25000000000000000000');
    const day = (await procs.call['app.next_day']!(db, '2026-02-28')) as Date;
    expect(day).toBeInstanceOf(Date);
    expect([day.getFullYear(), day.getMonth() + 1, day.getDate()]).toEqual([2026, 3, 1]);
    expect(await procs.call['app.stamp']!(db, new Date('2026-01-01T00:00:00Z'))).toEqual(new Date('2026-01-01T01:00:00Z'));
    // A JSON array stays JSON (pg alone would send it as a PostgreSQL array).
    expect(await procs.call['app.echo_json']!(db, [1, { a: 'b' }])).toEqual([1, { a: 'b' }]);
    expect(await procs.call['app.echo_json']!(db, 'text')).toBe('text');
    expect(await procs.call['app.tags']!(db, 4)).toEqual(['t4', null]);
    expect(await procs.call['app.total']!(db, [1, 2, 3])).toBe(6);
    expect(await procs.call['app.nothing']!(db)).toBeUndefined();
    expect(await procs.call['app.numbers']!(db, 3)).toEqual([1, 2, 3]);
    // character(3) and bit(3) keep their length: the casts are bpchar and "bit", not character and bit (length 1).
    expect(await procs.call['app.padded']!(db, 'abc', '101')).toBe('abc/101');
    // Polymorphic arguments go without a cast (nothing casts to anyarray), and PostgreSQL cannot infer
    // a type from an untyped parameter: such functions need SQL with a cast of your own (README).
    await expect(procs.call['app.first_of']!(db, [5, 6])).rejects.toThrow('could not determine polymorphic type because input has type unknown');
    expect(sent).toContain(`SELECT ${physical('app.total(integer[])')}(VARIADIC $1::integer[]) AS total`);
  });

  it('overloads are reached by signature, and each cast picks its own', async () => {
    expect(procs.call['app.describe']).toBeUndefined();
    expect(await procs.call['app.describe(integer)']!(db, 7)).toBe('integer 7');
    expect(await procs.call['app.describe(text)']!(db, '7')).toBe('text 7');
  });

  it('row types: one row, rows, RETURNS TABLE, OUT arguments; a single OUT argument is a value', async () => {
    expect(await procs.call['app.item']!(db, 2)).toEqual({ id: 2, label: 'two', mood: 'sad', weight: '2.25' });
    expect(await procs.call['app.all_items']!(db)).toEqual([
      { id: 1, label: 'one', mood: 'happy', weight: '1.5' },
      { id: 2, label: 'two', mood: 'sad', weight: '2.25' },
    ]);
    expect(await procs.call['app.item_labels']!(db, 2)).toEqual([{ id: 2, label: 'two' }]);
    expect(await procs.call['app.bounds']!(db)).toEqual({ lo: 1, hi: 2 });
    expect(await procs.call['app.count_items']!(db)).toBe('2');
    expect(await procs.call['app.mood_of']!(db, 1)).toBe('happy');
    expect(await procs.call['app.double_positive']!(db, 4)).toBe(8);
    expect(sent[0]).toBe(`SELECT * FROM ${physical('app.item(integer)')}($1::integer)`);
  });

  it('procedures are CALLed and return their OUT and INOUT values', async () => {
    expect(await procs.call['app.note']!(db, 'hi', 41)).toEqual({ p_count: 42, p_echo: 'HI' });
    expect(await procs.call['app.note']!.named(db, { p_count: 1, p_text: 'yo' })).toEqual({ p_count: 2, p_echo: 'YO' });
    expect(await procs.call['app.clear_log']!(db)).toBeUndefined();
    expect(sent).toEqual([
      `CALL ${physical('app.note(text, integer)')}($1::text, $2::integer, NULL::text)`,
      `CALL ${physical('app.note(text, integer)')}(p_text => $1::text, p_count => $2::integer, p_echo => NULL::text)`,
      `CALL ${physical('app.clear_log()')}()`,
    ]);
    expect((await t.pool.query('SELECT count(*)::int AS n FROM app.log')).rows[0]).toEqual({ n: 0 });
  });

  // The TypeScript compiler, in-process: seconds on an idle machine, more on a busy one.
  it('type-checks the right calls with a pg Pool, Client and PoolClient, and a wrong argument type fails tsc', { timeout: 180_000 }, () => {
    writeFileSync(
      join(dir, 'good.ts'),
      `import type { Client, Pool, PoolClient } from 'pg';
import { call, poolConfig } from './procs';
export async function good(pool: Pool, client: Client, pc: PoolClient) {
  const sum: number | null = await call['app.add'](pool, 1);
  const named: number | null = await call['app.add'].named(client, { a: 1, b: 2 });
  const big: string | null = await call['app.big'](pc, 10n);
  const day: Date | null = await call['app.next_day'](pool, new Date());
  const labels: { id: number | null; label: string | null }[] = await call['app.item_labels'](pool, 1);
  const item = await call['app.item'](pool, 1);
  const mood: 'happy' | 'sad' | null = item.mood;
  const weight: string | null = item.weight;
  const text: string | null = await call['app.describe(text)'](pool, 'x');
  const out = await call['app.note'](pool, 'hi', 1);
  const count: number | null = out.p_count;
  const config = poolConfig({ connectionString: 'postgres://localhost/app', max: 2 });
  const name: string = config.application_name;
  return [sum, named, big, day, labels, mood, weight, text, count, name];
}
`,
    );
    writeFileSync(
      join(dir, 'wrong.ts'),
      `import type { Pool } from 'pg';
import { call } from './procs';
export async function wrong(pool: Pool) {
  await call['app.add'](pool, 'one');
  await call['app.add'].named(pool, { a: 1, c: 2 });
  const when: string | null = await call['app.next_day'](pool, '2026-01-01');
  await call['app.item'](pool);
  return when;
}
`,
    );
    // One program for both files (the compiler loads Node's and pg's types once): every error is in wrong.ts.
    const errors = typeErrors([join(dir, 'good.ts'), join(dir, 'wrong.ts')]);
    expect(errors.map((e) => e.split(' ')[0] + ' ' + e.split(' ')[1])).toEqual(['wrong.ts:4: TS2345', 'wrong.ts:5: TS2353', 'wrong.ts:6: TS2322', 'wrong.ts:7: TS2554']);
    expect(errors[0]).toContain(`Argument of type 'string' is not assignable to parameter of type 'number'`);
  });

  it('without the catalog, row types, domains and enums are unknown, never guessed', async () => {
    const text = renderProcsModule(compiled);
    // The line after an entry's comment and its statement: `const callN = … (db: Queryable, …): Promise<…> =>`.
    const signatureOf = (key: string) => text.split(`/** ${key} `)[1]?.split('\n')[2] ?? '';
    expect(signatureOf('app.item(integer)')).toContain('(db: Queryable, p_id: number | null): Promise<unknown> =>');
    expect(signatureOf('app.mood_of(integer)')).toContain('Promise<unknown> =>');
    expect(signatureOf('app.double_positive(app.positive)')).toContain('(db: Queryable, p: unknown): Promise<unknown> =>');
    // With it, the same entries are typed from the database.
    const typed = renderProcsModule(compiled, catalog);
    expect(typed).toContain(`Promise<{ id: number | null; label: string | null; mood: "happy" | "sad" | null; weight: string | null }>`);
  });

  it('is byte-identical for the same input and imports nothing at run time', async () => {
    const again = await compileFiles(clientSources);
    expect(renderProcsModule(again, (await readCatalog(t.url, again)).catalog)).toBe(readFileSync(join(dir, 'procs.ts'), 'utf8'));
    expect(readFileSync(join(dir, 'procs.ts'), 'utf8')).not.toMatch(/^\s*import\b|\brequire\(|\bimport\(/m);
  });

  it('compile --database-url writes the same typed module; types the database lacks are named; no database is exit 3', { timeout: 180_000 }, async () => {
    const out = testTempDir('procver-client-cli-');
    const ok = await procver(['compile', writeTree(clientSources), '--out', out, '--database-url', t.url]);
    expect(ok.code).toBe(0);
    expect(readFileSync(join(out, 'procs.ts'), 'utf8')).toBe(readFileSync(join(dir, 'procs.ts'), 'utf8'));

    const ghost = writeTree({ 'g.sql': 'CREATE FUNCTION app.ghost(p app.nope) RETURNS app.nope LANGUAGE sql AS $$ SELECT p $$;' });
    const noted = await procver(['compile', ghost, '--out', out, '--database-url', t.url]);
    expect(noted.code).toBe(0);
    expect(noted.stdout).toContain('note: not in the database, typed unknown in procs.ts: app.nope');
    expect(readFileSync(join(out, 'procs.ts'), 'utf8')).toContain('(db: Queryable, p: unknown): Promise<unknown> =>');

    const refused = await procver(['compile', ghost, '--out', out, '--database-url', 'postgres://nobody@127.0.0.1:1/none']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('procver: --database-url: cannot connect to read the types the procedures use: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('applicationName and poolConfig name the deployment `<app>@<id>`, from PROCVER_APP/PROCVER_DEPLOYMENT or as passed', () => {
    const saved = { app: process.env.PROCVER_APP, deployment: process.env.PROCVER_DEPLOYMENT };
    try {
      process.env.PROCVER_APP = 'storefront';
      process.env.PROCVER_DEPLOYMENT = 'sf-7';
      expect(procs.applicationName()).toBe('storefront@sf-7');
      expect(procs.poolConfig({ max: 3 })).toEqual({ max: 3, application_name: 'storefront@sf-7' });
      expect(procs.applicationName({ deployment: 'sf-8' })).toBe('storefront@sf-8');
      delete process.env.PROCVER_DEPLOYMENT;
      expect(() => procs.applicationName()).toThrow('set PROCVER_APP and PROCVER_DEPLOYMENT');
      expect(() => procs.applicationName({ app: 'a@b', deployment: '1' })).toThrow('must not contain "@"');
      expect(() => procs.applicationName({ app: 'a', deployment: 'x'.repeat(62) })).toThrow('at most 63 printable ASCII characters');
      expect(() => procs.applicationName({ app: 'a', deployment: 'café' })).toThrow('at most 63 printable ASCII characters');
    } finally {
      for (const [k, v] of [
        ['PROCVER_APP', saved.app],
        ['PROCVER_DEPLOYMENT', saved.deployment],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
