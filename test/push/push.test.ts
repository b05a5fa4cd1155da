import { eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { qualifiedName } from '../../lib/compile/parser';
import { auditLog, versions } from '../../lib/db/schema';
import { ProcverError } from '../../lib/errors';
import { pushVersions, type PushOptions } from '../../lib/push';
import { corpusCalls, corpusFiles } from '../fixtures/corpus';
import { createTestDatabase, createTestRole, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

const opts: PushOptions = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' };

describe('push: the corpus', () => {
  let t: TestDatabase;
  let compiled: Awaited<ReturnType<typeof compileFiles>>;
  beforeAll(async () => {
    t = await createTestDatabase();
    compiled = await compileFiles(corpusFiles);
    await pushVersions(t.db, compiled, opts);
  });

  it('creates every version under its physical name with the identity PostgreSQL reports', async () => {
    for (const v of compiled.versions) {
      const r = await t.pool.query<{ args: string; kind: string }>(
        `SELECT coalesce((SELECT string_agg(format_type(a, NULL), ', ' ORDER BY o) FROM unnest(p.proargtypes) WITH ORDINALITY u(a, o)), '') AS args,
                p.prokind::text AS kind
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = $2`,
        [v.schema, v.physicalName],
      );
      expect(r.rows, `${v.schema}.${v.physicalName}`).toHaveLength(1);
      expect(r.rows[0]!.args, `${v.schema}.${v.name}`).toBe(v.args);
      expect(r.rows[0]!.kind).toBe(v.kind === 'procedure' ? 'p' : 'f');
    }
  });

  it.each(corpusCalls)('%s answers through its physical name', async (key, template, expected) => {
    const v = compiled.versions.find((x) => `${x.schema}.${x.name}(${x.args})` === key);
    expect(v, key).toBeDefined();
    const r = await t.pool.query({ text: template.replace('{fn}', qualifiedName(v!.schema, v!.physicalName)), rowMode: 'array' });
    if (expected !== undefined) expect(r.rows[0]?.[0]).toBe(expected);
  });

  it('records each version with its exact source, and one audit entry for the push', async () => {
    const rows = await t.db.select().from(versions);
    expect(rows).toHaveLength(compiled.versions.length);
    for (const v of compiled.versions) {
      const row = rows.find((r) => r.physicalName === v.physicalName && r.schema === v.schema)!;
      expect(row.source).toBe(v.source);
      expect(row.hash).toBe(v.hash);
      expect(row.status).toBe('live');
      const proc = await t.pool.query<{ oid: number }>(
        'SELECT p.oid::int AS oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = $2',
        [v.schema, v.physicalName],
      );
      expect(proc.rows.map((r) => r.oid)).toEqual([row.oid]);
    }
    const audit = await t.db.select().from(auditLog).where(eq(auditLog.action, 'push'));
    expect(audit).toHaveLength(1);
    expect((audit[0]!.after as { created: string[] }).created).toHaveLength(compiled.versions.length);
  });

  it('is idempotent: a second push of the same code creates nothing', async () => {
    const again = await pushVersions(t.db, await compileFiles(corpusFiles), opts);
    expect(again.created).toEqual([]);
    expect(again.unchanged).toBe(compiled.versions.length);
    // Nothing changed, so nothing is audited.
    expect(await t.db.select().from(auditLog).where(eq(auditLog.action, 'push'))).toHaveLength(1);
  });
});

describe('push: versions side by side', () => {
  it('keeps the old version when a changed one is pushed, and re-versions callers', async () => {
    const t = await createTestDatabase();
    const files = {
      'a.sql': `CREATE FUNCTION app.rate() RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT 0.2 $$;
CREATE FUNCTION app.tax(c numeric) RETURNS numeric LANGUAGE plpgsql SET search_path = app AS $$ BEGIN RETURN c * rate(); END $$;`,
    };
    const v1 = await compileFiles(files);
    await pushVersions(t.db, v1, opts);
    const v2 = await compileFiles({ 'a.sql': files['a.sql'].replace('0.2', '0.25') });
    const r = await pushVersions(t.db, v2, opts);
    expect(r.created).toHaveLength(2);
    const call = async (c: typeof v1) => {
      const tax = c.versions.find((v) => v.name === 'tax')!;
      return (await t.pool.query(`SELECT ${qualifiedName(tax.schema, tax.physicalName)}(100) AS x`)).rows[0].x;
    };
    expect(Number(await call(v1))).toBe(20);
    expect(Number(await call(v2))).toBe(25);
  });
});

describe('push: a registry hashed under an older scheme', () => {
  it('says which procedures got a new version only because the hash rules changed', async () => {
    const t = await createTestDatabase();
    const c = await compileFiles({ 'a.sql': 'CREATE FUNCTION app.one() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;' });
    // A version pushed by an older procver: another physical name, a normalized form without hashScheme.
    const old = { ...c.versions[0]!, hash: 'f'.repeat(64), physicalName: 'one__ffffffffff', normalized: '{"kind":"function"}' };
    old.source = old.source.replace(c.versions[0]!.physicalName, old.physicalName);
    const first = await pushVersions(t.db, { ...c, versions: [old] }, opts);
    expect(first.rehashed).toEqual([]);
    const r = await pushVersions(t.db, c, opts);
    expect(r.created).toEqual([`app.${c.versions[0]!.physicalName}`]);
    expect(r.rehashed).toEqual(['app.one()']);
    const again = await compileFiles({ 'a.sql': 'CREATE FUNCTION app.one() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;' });
    expect((await pushVersions(t.db, again, opts)).rehashed).toEqual([]);
  });
});

describe('push: refusals', () => {
  it('never rebinds a physical name to a different hash', async () => {
    const t = await createTestDatabase();
    const c = await compileFiles({ 'a.sql': 'CREATE FUNCTION app.one() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;' });
    await pushVersions(t.db, c, opts);
    // Simulate the registry holding another hash for that name (e.g. a truncated-hash clash).
    await t.pool.query(`UPDATE procver.versions SET hash = repeat('0', 64)`);
    const err = await pushVersions(t.db, c, opts).catch((e) => e);
    expect(err).toBeInstanceOf(ProcverError);
    expect(err.code).toBe('conflict');
    expect(err.details[0]).toMatch(/^app\.one__[0-9a-f]{10} is registered with hash 0{64}/);
  });

  it('refuses a physical name that exists in the database but was not created by procver, creating nothing', async () => {
    const t = await createTestDatabase();
    const c = await compileFiles({
      'a.sql': `CREATE FUNCTION app.one() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION app.two() RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;`,
    });
    const one = c.versions.find((v) => v.name === 'one')!;
    await t.pool.query('CREATE SCHEMA app');
    await t.pool.query(`CREATE FUNCTION app.${one.physicalName}() RETURNS int LANGUAGE sql AS $$ SELECT 99 $$`);
    const err = await pushVersions(t.db, c, opts).catch((e) => e);
    expect(err.code).toBe('conflict');
    expect(err.details.join()).toContain('procver did not create it');
    const two = c.versions.find((v) => v.name === 'two')!;
    const exists = await t.pool.query('SELECT 1 FROM pg_proc WHERE proname = $1', [two.physicalName]);
    expect(exists.rowCount).toBe(0);
    expect((await t.db.select().from(versions)).length).toBe(0);
  });

  it('rolls back every version when one CREATE fails', async () => {
    const t = await createTestDatabase();
    const c = await compileFiles({
      'a.sql': `CREATE FUNCTION app.fine() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION app.broken() RETURNS int LANGUAGE sql AS $$ SELECT missing_column FROM app.missing_table $$;`,
    });
    await expect(pushVersions(t.db, c, opts)).rejects.toThrow(/missing_table/);
    expect((await t.pool.query(`SELECT 1 FROM pg_proc WHERE proname LIKE 'fine__%'`)).rowCount).toBe(0);
    expect((await t.db.select().from(versions)).length).toBe(0);
    expect((await t.db.select().from(auditLog)).length).toBe(0);
  });
});

describe('push: concurrency', () => {
  it('serializes concurrent pushes of overlapping sets: each version is created exactly once', async () => {
    const t = await createTestDatabase();
    const defs = Array.from({ length: 30 }, (_, i) => `CREATE FUNCTION app.f${i}() RETURNS int LANGUAGE sql AS $$ SELECT ${i} $$;`);
    const a = await compileFiles({ 'a.sql': defs.slice(0, 20).join('\n') });
    const b = await compileFiles({ 'b.sql': defs.slice(10).join('\n') });
    const results = await Promise.all([pushVersions(t.db, a, opts), pushVersions(t.db, b, opts), pushVersions(t.db, a, opts)]);
    const created = results.flatMap((r) => r.created);
    expect(created).toHaveLength(30);
    expect(new Set(created).size).toBe(30);
    const count = await t.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM pg_proc WHERE proname ~ '^f[0-9]+__'`);
    expect(count.rows[0]!.n).toBe(30);
  });
});

describe('push: grants', () => {
  it('grants EXECUTE to configured roles, and never leaves PUBLIC on SECURITY DEFINER versions', async () => {
    const t = await createTestDatabase();
    const role = await createTestRole('app_reader');
    const c = await compileFiles({
      'a.sql': `CREATE FUNCTION app.open() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION app.definer() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 2 $$;`,
    });
    await pushVersions(t.db, c, { ...opts, grants: { roles: [role], publicExecute: true } });
    const can = async (who: string, name: string) => {
      const v = c.versions.find((x) => x.name === name)!;
      const r = await t.pool.query(`SELECT has_function_privilege($1, $2, 'EXECUTE') AS ok`, [who, `${qualifiedName(v.schema, v.physicalName)}()`]);
      return r.rows[0].ok as boolean;
    };
    const nobody = await createTestRole('nobody');
    expect(await can(role, 'open')).toBe(true);
    expect(await can(role, 'definer')).toBe(true);
    expect(await can(nobody, 'open')).toBe(true); // PUBLIC kept by default
    expect(await can(nobody, 'definer')).toBe(false); // never PUBLIC for SECURITY DEFINER
  });

  it('revokes PUBLIC when configured', async () => {
    const t = await createTestDatabase();
    const c = await compileFiles({ 'a.sql': 'CREATE FUNCTION app.closed() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;' });
    await pushVersions(t.db, c, { ...opts, grants: { roles: [], publicExecute: false } });
    const v = c.versions[0]!;
    const acl = await t.pool.query(`SELECT proacl::text AS acl FROM pg_proc WHERE proname = $1`, [v.physicalName]);
    expect(acl.rows[0].acl).not.toMatch(/(^|[{,])=X/);
  });
});

describe('push: hostile names', () => {
  it('creates injection-shaped schema and function names verbatim and harmlessly', async () => {
    const t = await createTestDatabase();
    const c = await compileFiles({
      'a.sql': `CREATE FUNCTION "x""); DROP TABLE procver.versions; --"."f'; DELETE FROM procver.audit_log; --"() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;`,
    });
    await pushVersions(t.db, c, opts);
    const v = c.versions[0]!;
    expect(v.schema).toBe('x"); DROP TABLE procver.versions; --');
    expect(v.name).toBe("f'; DELETE FROM procver.audit_log; --");
    const r = await t.pool.query(`SELECT ${qualifiedName(v.schema, v.physicalName)}() AS one`);
    expect(r.rows[0].one).toBe(1);
    expect((await t.db.select().from(versions)).map((x) => x.schema)).toEqual([v.schema]);
    expect((await t.db.select().from(auditLog)).length).toBe(1);
  });
});
