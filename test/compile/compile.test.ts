import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileDirectory, physicalNameFor } from '../../lib/compile/compile';
import { renderManifest, renderProcsModule, renderSql, writeOutputs } from '../../lib/compile/outputs';
import { ProcverError } from '../../lib/errors';
import { corpusFiles } from '../fixtures/corpus';
import { compileFiles, writeTree } from '../helpers/sources';

async function compileError(files: Record<string, string>): Promise<ProcverError> {
  try {
    await compileFiles(files);
  } catch (e) {
    if (e instanceof ProcverError) return e;
    throw e;
  }
  throw new Error('expected compile to fail');
}

const byKey = (r: Awaited<ReturnType<typeof compileFiles>>) => new Map(r.versions.map((v) => [`${v.schema}.${v.name}(${v.args})`, v]));

describe('compile: the corpus of tricky definitions', () => {
  it('compiles every definition with PostgreSQL-style identity arguments', async () => {
    const r = await compileFiles(corpusFiles);
    const keys = [...byKey(r).keys()].sort();
    expect(keys).toContain('corpus.describe(integer)');
    expect(keys).toContain('corpus.describe(text, text)');
    expect(keys).toContain('corpus.split_total(numeric, integer)');
    expect(keys).toContain('corpus.sum_all(integer[])');
    expect(keys).toContain('corpus.out_proc(integer)');
    expect(keys).toContain('Corpus Mixed.Hello World(text)');
    expect(r.versions).toHaveLength(16);
    const procs = r.versions
      .filter((v) => v.kind === 'procedure')
      .map((v) => v.name)
      .sort();
    expect(procs).toEqual(['noop', 'out_proc']);
  });

  it('keeps physical names within 63 bytes by shortening the name, never the hash', async () => {
    const r = await compileFiles(corpusFiles);
    for (const v of r.versions) {
      expect(Buffer.byteLength(v.physicalName, 'utf8')).toBeLessThanOrEqual(63);
      expect(v.physicalName.endsWith(`__${v.hash.slice(0, 10)}`)).toBe(true);
    }
    const unicode = r.versions.find((v) => v.name.startsWith('résumé'))!;
    expect(Buffer.byteLength(unicode.physicalName)).toBeLessThanOrEqual(63);
    expect(unicode.physicalName.startsWith('résumé_größe')).toBe(true);
    // Cut on a character boundary: the shortened name is still valid UTF-8 that round-trips.
    expect(Buffer.from(unicode.physicalName, 'utf8').toString('utf8')).toBe(unicode.physicalName);
    expect(physicalNameFor('x'.repeat(100), 'f'.repeat(64))).toBe(`${'x'.repeat(51)}__ffffffffff`);
    expect(physicalNameFor(`${'x'.repeat(50)}é`, 'a'.repeat(64))).toBe(`${'x'.repeat(50)}__aaaaaaaaaa`);
  });

  it('quotes what needs quoting in the rewritten statement', async () => {
    const r = await compileFiles(corpusFiles);
    const hello = byKey(r).get('Corpus Mixed.Hello World(text)')!;
    expect(hello.source).toMatch(/^CREATE FUNCTION "Corpus Mixed"\."Hello World__[0-9a-f]{10}"\("Who" text\)/);
    const split = byKey(r).get('corpus.split_total(numeric, integer)')!;
    expect(split.source.startsWith('CREATE FUNCTION corpus.split_total__')).toBe(true); // OR REPLACE removed
  });
});

describe('compile: hashing', () => {
  const base = `CREATE FUNCTION app.total(p_id integer, p_rate numeric DEFAULT 1.2)
RETURNS numeric LANGUAGE plpgsql STABLE AS $$
BEGIN
  -- the total with tax
  RETURN (SELECT sum(amount) FROM app.items WHERE id = p_id) * p_rate;
END
$$;`;

  it('ignores whitespace, comments (inside the body too) and keyword case', async () => {
    const reformatted = `/* header */ create   function app.total(
    p_id INTEGER,
    p_rate NUMERIC default 1.2
) returns NUMERIC
language PLPGSQL
stable
as $body$ begin return (select SUM(amount) from app.items /* inline */ where id = p_id) * p_rate; end $body$`;
    const a = await compileFiles({ 'a.sql': base });
    const b = await compileFiles({ 'b.sql': reformatted });
    expect(b.versions[0]!.hash).toBe(a.versions[0]!.hash);
  });

  it('ignores the function name, so a rename keeps the code hash', async () => {
    const a = await compileFiles({ 'a.sql': base });
    const b = await compileFiles({ 'a.sql': base.replace('app.total', 'app.grand_total') });
    expect(b.versions[0]!.hash).toBe(a.versions[0]!.hash);
    expect(b.versions[0]!.physicalName).toBe(`grand_total__${a.versions[0]!.hash.slice(0, 10)}`);
  });

  it.each([
    ['the body', base.replace('* p_rate', '* p_rate * 2')],
    ['a string literal in the body', base.replace('WHERE id = p_id', "WHERE id = p_id AND kind = 'x'")],
    ['an argument type', base.replace('p_id integer', 'p_id bigint')],
    ['a default', base.replace('DEFAULT 1.2', 'DEFAULT 1.3')],
    ['the return type', base.replace('RETURNS numeric', 'RETURNS double precision')],
    ['the volatility', base.replace('STABLE', 'VOLATILE')],
    ['an attribute', base.replace('STABLE', 'STABLE SECURITY DEFINER')],
    ['a SET clause', base.replace('STABLE', 'STABLE SET search_path = app')],
    ['a quoted identifier', base.replace('app.items', 'app."Items"')],
  ])('changes when %s changes', async (_what, changed) => {
    const a = await compileFiles({ 'a.sql': base });
    const b = await compileFiles({ 'a.sql': changed });
    expect(b.versions[0]!.hash).not.toBe(a.versions[0]!.hash);
  });

  it('is the same for the same input, and the outputs are byte-identical on re-run', async () => {
    const dir = writeTree(corpusFiles);
    const first = await compileDirectory(dir);
    await writeOutputs(first, join(dir, 'out1'));
    const second = await compileDirectory(dir);
    await writeOutputs(second, join(dir, 'out2'));
    for (const f of ['procver.manifest.json', 'procs.ts', 'procver.sql']) {
      expect(readFileSync(join(dir, 'out2', f), 'utf8')).toBe(readFileSync(join(dir, 'out1', f), 'utf8'));
    }
  });
});

describe('compile: calls between managed procedures (Merkle)', () => {
  const files = {
    'tax.sql': `CREATE FUNCTION shop.tax(c integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT round(c * 0.2)::int $$;`,
    'price.sql': `CREATE FUNCTION shop.price(c integer) RETURNS integer LANGUAGE plpgsql SET search_path = shop AS $$ BEGIN RETURN c + tax(c); END $$;`,
    'checkout.sql': `CREATE FUNCTION shop.checkout(c integer) RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT shop.price(c); END;`,
    'other.sql': `CREATE FUNCTION shop.unrelated() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;`,
  };

  it('rewrites calls to the callee physical name, qualified', async () => {
    const r = byKey(await compileFiles(files));
    const tax = r.get('shop.tax(integer)')!;
    const price = r.get('shop.price(integer)')!;
    expect(price.source).toContain(`RETURN c + shop.${tax.physicalName}(c);`);
    expect(price.callees).toEqual([tax.physicalName]);
    expect(r.get('shop.checkout(integer)')!.source).toContain(`SELECT shop.${price.physicalName}(c) AS price;`);
  });

  it('gives every transitive caller a new version when a callee changes, and nothing else', async () => {
    const before = byKey(await compileFiles(files));
    const after = byKey(await compileFiles({ ...files, 'tax.sql': files['tax.sql'].replace('0.2', '0.21') }));
    for (const k of ['shop.tax(integer)', 'shop.price(integer)', 'shop.checkout(integer)']) {
      expect(after.get(k)!.hash, k).not.toBe(before.get(k)!.hash);
    }
    expect(after.get('shop.unrelated()')!.hash).toBe(before.get('shop.unrelated()')!.hash);
  });

  it('rewrites a self-recursive call to its own physical name', async () => {
    const r = await compileFiles({
      'f.sql': `CREATE FUNCTION m.fact(n integer) RETURNS bigint LANGUAGE plpgsql SET search_path = m AS $$ BEGIN IF n < 2 THEN RETURN 1; END IF; RETURN n * fact(n - 1); END $$;`,
    });
    const v = r.versions[0]!;
    expect(v.source).toContain(`RETURN n * m.${v.physicalName}(n - 1)`);
  });

  it('refuses mutual recursion, naming the cycle', async () => {
    const e = await compileError({
      'a.sql': `CREATE FUNCTION m.even(n integer) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RETURN n = 0 OR m.odd(n - 1); END $$;`,
      'b.sql': `CREATE FUNCTION m.odd(n integer) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RETURN n <> 0 AND m.even(n - 1); END $$;`,
    });
    expect(e.details.join('\n')).toMatch(/mutual recursion .*m\.(even|odd)\(integer\) -> m\.(odd|even)\(integer\) -> m\.(even|odd)\(integer\)/);
  });

  it('resolves overloads by argument count and types, and refuses a call it cannot decide', async () => {
    const ok = await compileFiles({
      'o.sql': `CREATE FUNCTION m.f(a integer) RETURNS integer LANGUAGE sql AS 'SELECT a';
CREATE FUNCTION m.f(a integer, b integer) RETURNS integer LANGUAGE sql AS 'SELECT a + b';
CREATE FUNCTION m.g() RETURNS integer LANGUAGE sql AS 'SELECT m.f(1) + m.f(1, 2)';`,
    });
    const g = ok.versions.find((v) => v.name === 'g')!;
    const f = (args: string) => ok.versions.find((v) => v.name === 'f' && v.args === args)!.physicalName;
    // Each call reached the overload with its argument count, in the order the calls appear.
    expect(g.source).toContain(`SELECT m.${f('integer')}(1) + m.${f('integer, integer')}(1, 2)$`);
    expect([...g.callees].sort()).toEqual([f('integer'), f('integer, integer')].sort());
    const e = await compileError({
      'o.sql': `CREATE FUNCTION m.f(a integer) RETURNS integer LANGUAGE sql AS 'SELECT a';
CREATE FUNCTION m.f(a text) RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION m.g() RETURNS integer LANGUAGE sql AS 'SELECT m.f(x) FROM m.t';`,
    });
    expect(e.details[0]).toMatch(/^o\.sql:3:\d+: call to m\.f with 1 argument\(s\) could go to m\.f\(integer\) or m\.f\(text\): the type of argument 1 cannot be known/);
  });

  it('does not rewrite names inside string literals or comments', async () => {
    const r = await compileFiles({
      'a.sql': `CREATE FUNCTION m.t() RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION m.u() RETURNS text LANGUAGE plpgsql AS $$ BEGIN -- m.t() here is a comment
  RETURN 'm.t()'; END $$;`,
    });
    const u = r.versions.find((v) => v.name === 'u')!;
    expect(u.callees).toEqual([]);
    expect(u.source).toContain("RETURN 'm.t()'");
  });
});

describe('compile: errors name file:line:column and write nothing', () => {
  it('reports a syntax error with its position', async () => {
    const e = await compileError({
      'good.sql': 'CREATE FUNCTION a() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;',
      'bad.sql': '-- first line\nCREATE FUNCTION b() RETURNS int\n  LANGUAGE sql AS $$ SELECT 1 $$\n  IMMUTABLEE;',
    });
    expect(e.code).toBe('compile_failed');
    expect(e.details).toEqual(['bad.sql:4:3: syntax error at or near "IMMUTABLEE"']);
  });

  it('counts columns in characters on lines with multi-byte text', async () => {
    const e = await compileError({ 'u.sql': "SELECT 'ééé'; CREATE FUNCTON x()" });
    expect(e.details[0]).toBe('u.sql:1:22: syntax error at or near "FUNCTON"');
  });

  it('reports errors inside a LANGUAGE sql body at their position in the file', async () => {
    const e = await compileError({ 'b.sql': 'CREATE FUNCTION b() RETURNS int\nLANGUAGE sql AS $$\n  SELECT 1 FROM WHERE\n$$;' });
    expect(e.details[0]).toBe('b.sql:3:17: in the function body: syntax error at or near "WHERE"');
  });

  it('reports errors inside a PL/pgSQL body', async () => {
    const e = await compileError({ 'p.sql': '\nCREATE FUNCTION p() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1 END $$;' });
    expect(e.details[0]).toMatch(/^p\.sql:2:\d+: in the PL\/pgSQL body: /);
  });

  it('refuses statements other than CREATE FUNCTION / PROCEDURE', async () => {
    const e = await compileError({
      'mixed.sql': 'CREATE FUNCTION a() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n\n  CREATE TABLE t (id int);\nDROP FUNCTION a();',
    });
    expect(e.details).toEqual([
      'mixed.sql:3:3: CREATE TABLE is not managed by procver; it belongs to your migration tool (pass --skip-other to skip such statements)',
      'mixed.sql:4:1: DROP FUNCTION is not managed by procver; it belongs to your migration tool (pass --skip-other to skip such statements)',
    ]);
  });

  it('refuses duplicate definitions of the same identity', async () => {
    const e = await compileError({
      'a.sql': 'CREATE FUNCTION m.a(x int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;',
      'b.sql': 'CREATE FUNCTION m.a(y integer) RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;',
    });
    expect(e.details).toEqual(['b.sql:1:1: duplicate definition of m.a(integer); first defined at a.sql:1:1']);
  });

  it('refuses two procedures whose physical names would collide', async () => {
    const prefix = 'p'.repeat(51);
    const e = await compileError({
      'a.sql': `CREATE FUNCTION m.${prefix}_one() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION m.${prefix}_two() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;`,
    });
    expect(e.details[0]).toMatch(/physical name m\.p+__[0-9a-f]{10} collides with/);
  });

  it('writes no output when any file fails', async () => {
    const dir = writeTree({ 'ok.sql': 'CREATE FUNCTION a() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;', 'bad.sql': 'CREATE FUNCTION (' });
    await expect(compileDirectory(dir)).rejects.toThrow(/compile failed/);
    expect(existsSync(join(dir, 'procver.manifest.json'))).toBe(false);
  });
});

describe('compile: outputs', () => {
  it('writes a manifest, a typed procs module and the SQL', async () => {
    const r = await compileFiles(corpusFiles);
    const manifest = JSON.parse(renderManifest(r));
    expect(manifest.version).toBe(1);
    expect(manifest.hashScheme).toBe(2);
    const entry = manifest.procedures.find((p: { name: string }) => p.name === 'sum_all');
    expect(Object.keys(entry).sort()).toEqual(['args', 'hash', 'kind', 'name', 'physicalName', 'schema']);
    const procs = renderProcsModule(r);
    expect(procs).toContain(`"corpus.sum_all": "corpus.${entry.physicalName}"`);
    expect(procs).not.toContain('"corpus.describe":'); // overloaded: only in `procedures`
    expect(procs).toContain('"corpus.describe(integer)"');
    expect(procs).toContain('"Corpus Mixed.Hello World": "\\"Corpus Mixed\\".\\"Hello World__');
    const sql = renderSql(r);
    expect(sql.split('\n').slice(0, 4)).toEqual([
      '-- Generated by `procver compile`. Do not edit: re-run the compiler instead.',
      '-- A listing of the versions compiled from the sources, for review; not a script to apply:',
      '-- `procver push` creates them with their properties, bindings and entry points, and records them.',
      '',
    ]);
    // callees before callers
    expect(sql.indexOf('add_one__')).toBeLessThan(sql.indexOf('CREATE FUNCTION corpus.add_two__'));
  });
});
