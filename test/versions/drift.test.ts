import { beforeAll, describe, expect, it } from 'vitest';
import { qualifiedName } from '../../lib/compile/parser';
import { describeDrift, findDrift } from '../../lib/drift';
import { pushVersions, type PushOptions } from '../../lib/push';
import { getVersionDetail } from '../../lib/versions';
import { corpusFiles } from '../fixtures/corpus';
import { createTestDatabase, createTestRole, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

const opts: PushOptions = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' };

describe('drift: a managed version whose code in the database is not what procver created', () => {
  let t: TestDatabase;
  let compiled: Awaited<ReturnType<typeof compileFiles>>;
  const idOf = async (physicalName: string) =>
    Number((await t.pool.query<{ id: number }>('SELECT id FROM procver.versions WHERE physical_name = $1', [physicalName])).rows[0]!.id);
  const version = (key: string) => compiled.versions.find((v) => `${v.schema}.${v.name}(${v.args})` === key)!;

  beforeAll(async () => {
    t = await createTestDatabase();
    compiled = await compileFiles(corpusFiles);
    await pushVersions(t.db, compiled, opts);
  });

  it('finds none among untouched versions of every kind (SQL, PL/pgSQL, BEGIN ATOMIC, procedures, SET, SECURITY DEFINER, defaults)', async () => {
    expect(compiled.versions.length).toBeGreaterThan(10);
    expect([...(await findDrift(t.db)).values()]).toEqual([]);
  });

  it('finds none whatever the session search_path, nor after grants, owner changes, comments and a quarantine rename', async () => {
    const other = await createTestRole('drift_other');
    const c = await t.pool.connect();
    try {
      const v = version('corpus.describe(integer)');
      const sig = `${qualifiedName(v.schema, v.physicalName)}(integer)`;
      await c.query(`GRANT EXECUTE ON FUNCTION ${sig} TO ${other}`);
      await c.query(`COMMENT ON FUNCTION ${sig} IS 'hello'`);
      await c.query(`ALTER FUNCTION ${sig} OWNER TO ${other}`);
      // What cleanup's quarantine does: the same OID under another name.
      const q = compiled.versions.find((x) => x.kind === 'procedure')!;
      await c.query(`ALTER ROUTINE ${qualifiedName(q.schema, q.physicalName)} RENAME TO ${q.physicalName.slice(0, 40)}__q`);
      await c.query(`UPDATE procver.versions SET status = 'retired', quarantine_name = $1, quarantined_at = now() WHERE physical_name = $2`, [
        `${q.physicalName.slice(0, 40)}__q`,
        q.physicalName,
      ]);
      await c.query(`SET search_path = corpus, public`);
      expect([...(await findDrift(t.db)).values()]).toEqual([]);
      // compared on a connection whose search_path makes corpus types print unqualified
      const r = await c.query(`SELECT count(*)::int AS n FROM procver.versions v
        JOIN pg_namespace n ON n.nspname = v.schema JOIN pg_proc p ON p.pronamespace = n.oid AND p.proname = coalesce(v.quarantine_name, v.physical_name)
        WHERE procver.code_fingerprint(p.oid) <> v.code_fingerprint`);
      expect(r.rows[0].n).toBe(0);
    } finally {
      c.release();
    }
  });

  it('reports CREATE OR REPLACE with other code, an ALTER of an attribute, and an overload under the hashed name', async () => {
    const replaced = version('corpus.describe(integer)');
    const altered = compiled.versions.find((x) => x.language === 'plpgsql' && x.kind === 'function')!;
    const overloaded = version('corpus.describe(text, text)');
    const alteredSig = (await t.pool.query<{ s: string }>(`SELECT p.oid::regprocedure::text AS s FROM pg_proc p WHERE p.proname = $1`, [altered.physicalName])).rows[0]!
      .s;
    await t.pool.query(
      `CREATE OR REPLACE FUNCTION ${qualifiedName(replaced.schema, replaced.physicalName)}(x integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'hacked ' || x $$`,
    );
    await t.pool.query(`ALTER FUNCTION ${alteredSig} COST 1234`);
    await t.pool.query(`CREATE FUNCTION ${qualifiedName(overloaded.schema, overloaded.physicalName)}(boolean) RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$`);

    const drift = await findDrift(t.db);
    const byName = new Map([...drift.values()].map((d) => [d.physicalName, d]));
    expect([...byName.keys()].sort()).toEqual([replaced.physicalName, altered.physicalName, overloaded.physicalName].sort());
    expect(byName.get(replaced.physicalName)).toMatchObject({ kind: 'changed', status: 'live', quarantined: false, schema: 'corpus' });
    expect(byName.get(overloaded.physicalName)!.kind).toBe('overloaded');
    expect(describeDrift(byName.get(replaced.physicalName)!)).toBe(
      `corpus.${replaced.physicalName}: its code in the database is not what procver created (CREATE OR REPLACE or ALTER was run on it); callers run that code, not the registry's source`,
    );
    // limited to some versions
    const only = await findDrift(t.db, { versionIds: [await idOf(replaced.physicalName), await idOf(version('corpus.series(integer)').physicalName)] });
    expect([...only.values()].map((d) => d.physicalName)).toEqual([replaced.physicalName]);
    expect((await findDrift(t.db, { versionIds: [] })).size).toBe(0);

    // The version page shows the drift and what the database runs instead.
    const detail = await getVersionDetail(t.db, replaced.schema, replaced.physicalName);
    expect(detail!.drift!.info.kind).toBe('changed');
    expect(detail!.drift!.definitions).toHaveLength(1);
    expect(detail!.drift!.definitions[0]).toContain(`SELECT 'hacked ' || x`);
    expect((await getVersionDetail(t.db, 'corpus', version('corpus.series(integer)').physicalName))!.drift).toBeNull();
    expect((await getVersionDetail(t.db, overloaded.schema, overloaded.physicalName))!.drift!.definitions).toHaveLength(2);
  });

  it('reports a quarantined version whose code was replaced under its quarantine name', async () => {
    const q = compiled.versions.find((x) => x.kind === 'procedure')!;
    const name = `${q.physicalName.slice(0, 40)}__q`;
    const sig = (await t.pool.query<{ s: string }>(`SELECT p.oid::regprocedure::text AS s FROM pg_proc p WHERE p.proname = $1`, [name])).rows[0]!.s;
    await t.pool.query(`ALTER PROCEDURE ${sig} SET work_mem = '8MB'`);
    const d = [...(await findDrift(t.db)).values()].find((x) => x.physicalName === q.physicalName);
    expect(d).toMatchObject({ quarantined: true, currentName: name, status: 'retired', kind: 'changed' });
  });
});
