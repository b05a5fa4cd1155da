import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { quarantineNameFor } from '../../lib/cleanup/apply';
import { versions } from '../../lib/db/schema';
import { addDeployment, restoreDeploymentVersions } from '../../lib/deployments';
import { buildManifest } from '../../lib/compile/outputs';
import { qualifiedName } from '../../lib/identifiers';
import { pushVersions, type PushOptions } from '../../lib/push';
import { restoreVersion } from '../../lib/versions';
import { dropLikeCleanup as dropIn, quarantineLikeCleanup as quarantineIn } from '../helpers/cleanup';
import { createTestDatabase, createTestRole, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
const dropLikeCleanup = (physical: string) => dropIn(t.db, physical);
const quarantineLikeCleanup = (physical: string) => quarantineIn(t.db, physical);

/** Roles by label, created on first use (dropped when the file ends). */
const roles = new Map<string, string>();
const role = (label: string) => roles.get(label)!;
async function newRole(label: string): Promise<string> {
  roles.set(label, await createTestRole(label));
  return role(label);
}
const push = (over: Partial<PushOptions['grants']> = {}): PushOptions => ({
  actor: 'test',
  grants: { roles: [], publicExecute: true, ...over },
  sourceLabel: 'test',
});

/** Pushes these definitions (schema app); returns each version's physical name by logical name. */
async function pushed(sqlText: string, opts = push()): Promise<Record<string, string>> {
  const c = await compileFiles({ 'a.sql': sqlText });
  await pushVersions(t.db, c, opts);
  return Object.fromEntries(c.versions.map((v) => [v.name, v.physicalName]));
}

/** Everything restore must bring back exactly; privileges as a set (NULL = the default ACL). */
async function described(physical: string) {
  const r = await t.pool.query(
    `SELECT pg_get_functiondef(p.oid) AS def, pg_get_userbyid(p.proowner) AS owner, obj_description(p.oid, 'pg_proc') AS comment,
       (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(coalesce(p.proacl, acldefault('f', p.proowner))) a) AS acl,
       p.proacl IS NULL AS default_acl
     FROM pg_proc p WHERE p.proname = $1`,
    [physical],
  );
  expect(r.rows, physical).toHaveLength(1);
  return r.rows[0] as { def: string; owner: string; comment: string | null; acl: string[]; default_acl: boolean };
}

describe('restore is exact: definition, owner, privileges (as a set), comment', () => {
  const fn = (name: string, extra = '') => `CREATE FUNCTION app.${name}(x integer) RETURNS integer LANGUAGE plpgsql ${extra} AS $$ BEGIN RETURN x * 2; END $$;`;
  const cases: [string, () => Promise<string>, (before: Awaited<ReturnType<typeof described>>) => void][] = [
    ['NULL ACL (PostgreSQL defaults)', async () => (await pushed(fn('r_null')))['r_null']!, (b) => expect(b.default_acl).toBe(true)],
    [
      'NULL ACL, while default privileges now grant another role on new functions',
      async () => {
        const p = (await pushed(fn('r_null_dp')))['r_null_dp']!;
        await newRole('dp');
        await t.pool.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT EXECUTE ON FUNCTIONS TO ${role('dp')}`);
        return p;
      },
      (b) => expect(b.default_acl).toBe(true),
    ],
    [
      'PUBLIC plus a granted role (push --grant)',
      async () => {
        await newRole('r');
        return (await pushed(fn('r_public_role'), push({ roles: [role('r')] })))['r_public_role']!;
      },
      (b) => expect(b.acl).toContain(`=X/${b.owner}`),
    ],
    [
      'PUBLIC revoked plus a role (push --revoke-public --grant)',
      async () => {
        await newRole('rr');
        return (await pushed(fn('r_revoked'), push({ roles: [role('rr')], publicExecute: false })))['r_revoked']!;
      },
      (b) => expect(b.acl.some((a) => a.startsWith('='))).toBe(false),
    ],
    [
      'a grant chain with a later owner grant (WITH GRANT OPTION), another owner and a comment',
      async () => {
        const p = (await pushed(fn('r_chain')))['r_chain']!;
        const s = `${qualifiedName('app', p)}(integer)`;
        const [own, a, b] = [await newRole('own'), await newRole('ga'), await newRole('gb')];
        await t.pool.query(`GRANT USAGE ON SCHEMA app TO ${own}, ${a}, ${b}`);
        await t.pool.query(`ALTER FUNCTION ${s} OWNER TO ${own}`);
        await t.pool.query(`REVOKE ALL ON FUNCTION ${s} FROM PUBLIC`);
        await t.pool.query(`SET ROLE ${own}; GRANT EXECUTE ON FUNCTION ${s} TO ${a} WITH GRANT OPTION; RESET ROLE`);
        await t.pool.query(`SET ROLE ${a}; GRANT EXECUTE ON FUNCTION ${s} TO ${b} WITH GRANT OPTION; RESET ROLE`);
        await t.pool.query(`SET ROLE ${b}; GRANT EXECUTE ON FUNCTION ${s} TO PUBLIC; RESET ROLE`);
        await t.pool.query(`SET ROLE ${own}; GRANT EXECUTE ON FUNCTION ${s} TO ${b}; RESET ROLE`);
        await t.pool.query(`COMMENT ON FUNCTION ${s} IS 'chain; don''t ask'`);
        return p;
      },
      (b) => expect(b.acl).toEqual(expect.arrayContaining([`${role('gb')}=X*/${role('ga')}`, `${role('gb')}=X/${role('own')}`, `=X/${role('gb')}`])),
    ],
    [
      'SECURITY DEFINER with SET search_path (PUBLIC never kept)',
      async () => (await pushed(fn('r_definer', 'SECURITY DEFINER SET search_path = pg_catalog, pg_temp')))['r_definer']!,
      (b) => expect(b.def).toContain('SECURITY DEFINER'),
    ],
    [
      'a procedure with a comment',
      async () => {
        const p = (await pushed(`CREATE PROCEDURE app.r_proc(INOUT n integer) LANGUAGE plpgsql AS $$ BEGIN n := n + 1; END $$;`))['r_proc']!;
        await t.pool.query(`COMMENT ON PROCEDURE ${qualifiedName('app', p)}(integer) IS 'a procedure'`);
        return p;
      },
      (b) => expect(b.def).toContain('CREATE OR REPLACE PROCEDURE'),
    ],
  ];

  it.each(cases)('%s', async (_label, setUp, shape) => {
    const physical = await setUp();
    const before = await described(physical);
    shape(before);
    await dropLikeCleanup(physical);
    expect((await t.pool.query('SELECT 1 FROM pg_proc WHERE proname = $1', [physical])).rowCount).toBe(0);

    const r = await restoreVersion(t.db, { name: physical, reason: 'needed again', actor: 'ops' });
    expect(r).toMatchObject({ status: 'live', restoredCallees: [] });
    const after = await described(physical);
    expect(after.def).toBe(before.def);
    expect(after.owner).toBe(before.owner);
    expect(after.acl).toEqual(before.acl);
    expect(after.comment).toBe(before.comment);
    const [v] = await t.db.select().from(versions).where(eq(versions.physicalName, physical));
    expect(v).toMatchObject({ status: 'live', quarantineName: null });
    const audit = await t.pool.query(`SELECT after->>'how' AS how FROM procver.audit_log WHERE action = 'version.restore' AND target = $1`, [`app.${physical}`]);
    expect(audit.rows).toEqual([{ how: 'recreated' }]);
    if (roles.has('dp')) await t.pool.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE ALL ON FUNCTIONS FROM ${role('dp')}`);
  });
});

describe('restore brings back the managed versions a restored version calls', () => {
  const pair = (tag: string) => `
CREATE FUNCTION app.callee_${tag}(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT x * 10 $$;
CREATE FUNCTION app.caller_${tag}(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT app.callee_${tag}(x) + 1 $$;`;
  const restoreAudit = async (physical: string) =>
    (await t.pool.query(`SELECT reason, after FROM procver.audit_log WHERE action = 'version.restore' AND target = $1 ORDER BY id`, [`app.${physical}`])).rows;

  it('a dropped caller whose callee was dropped too: the callee first, in the same transaction, each audited', async () => {
    const p = await pushed(pair('dd'));
    await dropLikeCleanup(p['caller_dd']!);
    await dropLikeCleanup(p['callee_dd']!);
    const r = await restoreVersion(t.db, { name: p['caller_dd']!, reason: 'rollback', actor: 'ops' });
    expect(r.restoredCallees).toEqual([`app.${p['callee_dd']}`]);
    expect((await t.pool.query(`SELECT ${qualifiedName('app', p['caller_dd']!)}(2) AS v`)).rows[0].v).toBe(21);
    expect(await restoreAudit(p['callee_dd']!)).toEqual([
      { reason: `rollback (called by app.${p['caller_dd']}, restored with it)`, after: expect.objectContaining({ how: 'recreated', calledBy: `app.${p['caller_dd']}` }) },
    ]);
    expect((await restoreAudit(p['caller_dd']!)).map((a) => a.reason)).toEqual(['rollback']);
    // callee's entry was written first
    const order = await t.pool.query(`SELECT target FROM procver.audit_log WHERE action = 'version.restore' AND target = ANY($1) ORDER BY id`, [
      [`app.${p['caller_dd']}`, `app.${p['callee_dd']}`],
    ]);
    expect(order.rows.map((x) => x.target)).toEqual([`app.${p['callee_dd']}`, `app.${p['caller_dd']}`]);
  });

  it('a dropped caller whose callee is quarantined: the callee is renamed back first', async () => {
    const p = await pushed(pair('dq'));
    await dropLikeCleanup(p['caller_dq']!);
    await quarantineLikeCleanup(p['callee_dq']!);
    const r = await restoreVersion(t.db, { name: p['caller_dq']!, reason: 'rollback', actor: 'ops' });
    expect(r.restoredCallees).toEqual([`app.${p['callee_dq']}`]);
    expect((await restoreAudit(p['callee_dq']!))[0].after.how).toBe('unquarantined');
    expect((await t.pool.query(`SELECT ${qualifiedName('app', p['caller_dq']!)}(3) AS v`)).rows[0].v).toBe(31);
  });

  it('restore --deployment with dropped callers and callees: one transaction, callees first', async () => {
    const c = await compileFiles({ 'a.sql': pair('dep') });
    await pushVersions(t.db, c, push());
    await addDeployment(t.db, { app: 'rst', deploymentId: 'd1', manifest: buildManifest(c), live: false, actor: 'test' });
    const p = Object.fromEntries(c.versions.map((v) => [v.name, v.physicalName]));
    await dropLikeCleanup(p['callee_dep']!);
    await dropLikeCleanup(p['caller_dep']!);
    const restored = await restoreDeploymentVersions(t.db, 'rst', 'd1', 'rolling back', 'ops');
    expect(restored.map((r) => [r.name, r.how])).toEqual([
      [`app.${p['callee_dep']}`, 'recreated'],
      [`app.${p['caller_dep']}`, 'recreated'],
    ]);
    expect((await t.pool.query(`SELECT ${qualifiedName('app', p['caller_dep']!)}(1) AS v`)).rows[0].v).toBe(11);
  });

  it('says exactly why not, and restores nothing, when a role in its grants is gone', async () => {
    await newRole('gone');
    const p = await pushed(pair('gone'), push({ roles: [role('gone')] }));
    await dropLikeCleanup(p['caller_gone']!);
    await dropLikeCleanup(p['callee_gone']!);
    await t.pool.query(`DROP ROLE ${role('gone')}`);
    const err = await restoreVersion(t.db, { name: p['caller_gone']!, reason: 'rollback', actor: 'ops' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'conflict' });
    expect(err.message).toBe(
      `cannot restore app.${p['callee_gone']} exactly: role(s) ${role('gone')} (its owner or in its grants) no longer exist; create them first; nothing was restored`,
    );
    const statuses = await t.pool.query(`SELECT status::text FROM procver.versions WHERE physical_name = ANY($1)`, [[p['caller_gone'], p['callee_gone']]]);
    expect(statuses.rows.map((r) => r.status)).toEqual(['dropped', 'dropped']);
  });
});

describe('restore of a version someone dropped by hand', () => {
  it.each([
    ['retired', async (_p: string) => undefined],
    ['quarantined', async (p: string) => quarantineLikeCleanup(p)],
  ])('a %s one comes back from the registry source', async (state, prepare) => {
    const p = (await pushed(`CREATE FUNCTION app.byhand_${state}(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT x + 5 $$;`))[`byhand_${state}`]!;
    await t.pool.query(`UPDATE procver.versions SET status = 'retired' WHERE physical_name = $1`, [p]);
    await prepare(p);
    await t.pool.query(`DROP FUNCTION app.${state === 'quarantined' ? quarantineNameFor(p) : p}(integer)`);
    await restoreVersion(t.db, { name: p, reason: 'it is needed', actor: 'ops' });
    expect((await t.pool.query(`SELECT ${qualifiedName('app', p)}(1) AS v`)).rows[0].v).toBe(6);
    const audit = await t.pool.query(`SELECT after->>'how' AS how FROM procver.audit_log WHERE action = 'version.restore' AND target = $1`, [`app.${p}`]);
    expect(audit.rows).toEqual([{ how: 'source' }]);
  });
});

describe('cleanup never snapshots drifted code', () => {
  it('refuses the snapshot of a version whose code was replaced under its quarantine name', async () => {
    const p = (await pushed(`CREATE FUNCTION app.drifty(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT x $$;`))['drifty']!;
    await quarantineLikeCleanup(p);
    await t.pool.query(`CREATE OR REPLACE FUNCTION app.${quarantineNameFor(p)}(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT -x $$`);
    await expect(dropLikeCleanup(p)).rejects.toThrow(
      `app.${quarantineNameFor(p)} (quarantined ${p}): its code in the database is not what procver created (CREATE OR REPLACE or ALTER was run on it); callers run that code, not the registry's source; a drifted version is never dropped, since what would be stored to restore it is not its code`,
    );
    const [v] = await t.db.select().from(versions).where(eq(versions.physicalName, p));
    expect(v!.dropSnapshot).toBeNull();
    expect(v!.status).toBe('retired');
  });
});
