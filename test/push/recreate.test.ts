import { beforeAll, describe, expect, it } from 'vitest';
import { quarantineNameFor } from '../../lib/cleanup/apply';
import { QUARANTINE_EXPLAINED } from '../../lib/cleanup/tripwire';
import { buildManifest } from '../../lib/compile/outputs';
import { qualifiedName } from '../../lib/identifiers';
import { checkManifest } from '../../lib/manifests';
import { pushVersions, type PushOptions } from '../../lib/push';
import { dropLikeCleanup, quarantineLikeCleanup } from '../helpers/cleanup';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

const opts: PushOptions = { actor: 'pusher', grants: { roles: [], publicExecute: true }, sourceLabel: 'src/' };
const files = {
  'a.sql': `
CREATE FUNCTION app.base(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT x * 10 $$;
CREATE FUNCTION app.plus(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT app.base(x) + 1 $$;
CREATE FUNCTION app.other() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 7; END $$;
CREATE FUNCTION app.spare() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 8; END $$;`,
};

describe('push re-creates dropped versions; check tells the truth about each version', () => {
  let t: TestDatabase;
  let c: Awaited<ReturnType<typeof compileFiles>>;
  const name = (logical: string) => c.versions.find((v) => v.name === logical)!.physicalName;
  beforeAll(async () => {
    t = await createTestDatabase();
    c = await compileFiles(files);
    await pushVersions(t.db, c, opts);
  });

  it('check names a quarantined and a dropped version and says what brings each back', async () => {
    await quarantineLikeCleanup(t.db, name('spare'));
    await dropLikeCleanup(t.db, name('plus'));
    await dropLikeCleanup(t.db, name('base'));
    const r = await checkManifest(t.db, buildManifest(c));
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => [p.label, p.problem, p.message])).toEqual([
      [
        'app.base(integer)',
        'dropped',
        `${name('base')} was dropped by cleanup; bring it back exactly with \`procver restore app.${name('base')} --reason <why>\` (or push its source again)`,
      ],
      [
        'app.plus(integer)',
        'dropped',
        `${name('plus')} was dropped by cleanup; bring it back exactly with \`procver restore app.${name('plus')} --reason <why>\` (or push its source again)`,
      ],
      [
        'app.spare()',
        'quarantined',
        `${name('spare')} is retired and in cleanup's quarantine: ${QUARANTINE_EXPLAINED}; it is now named ${quarantineNameFor(name('spare'))}; restore it with \`procver restore app.${name('spare')} --reason <why>\``,
      ],
    ]);
  });

  it('a second push of the same source re-creates the dropped ones (callee first) from the registry, each audited; the quarantined one stays', async () => {
    const r = await pushVersions(t.db, await compileFiles(files), opts);
    expect(r.created).toEqual([]);
    expect(r.recreated).toEqual([`app.${name('base')}`, `app.${name('plus')}`]);
    expect(r.unchanged).toBe(2);
    expect(r.retired).toEqual([`app.${name('spare')}`]);
    expect(r.drifted).toEqual([]);
    expect((await t.pool.query(`SELECT ${qualifiedName('app', name('plus'))}(4) AS v`)).rows[0].v).toBe(41);
    const rows = await t.pool.query(`SELECT physical_name, status::text, quarantine_name, oid IS NOT NULL AS has_oid FROM procver.versions ORDER BY physical_name`);
    expect(rows.rows.find((x) => x.physical_name === name('plus'))).toEqual({ physical_name: name('plus'), status: 'live', quarantine_name: null, has_oid: true });
    const audit = await t.pool.query(
      `SELECT actor, target, reason, before->>'status' AS was, after->>'status' AS now FROM procver.audit_log WHERE action = 'version.recreate' ORDER BY id`,
    );
    expect(audit.rows).toEqual(
      ['base', 'plus'].map((n) => ({
        actor: 'pusher',
        target: `app.${name(n)}`,
        reason: "push of src/: dropped by cleanup; re-created from the registry's source",
        was: 'dropped',
        now: 'live',
      })),
    );
    const check = await checkManifest(t.db, buildManifest(c));
    expect(check.problems.map((p) => p.problem)).toEqual(['quarantined']);
  });

  it('push reports drift in what it pushes, changes nothing, and check refuses the drifted version by name', async () => {
    await t.pool.query(`CREATE OR REPLACE FUNCTION ${qualifiedName('app', name('other'))}() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 666; END $$`);
    const r = await pushVersions(t.db, await compileFiles(files), opts);
    expect(r.created.length + r.recreated.length).toBe(0);
    expect(r.drifted.map((d) => [d.physicalName, d.kind])).toEqual([[name('other'), 'changed']]);
    expect((await t.pool.query(`SELECT ${qualifiedName('app', name('other'))}() AS v`)).rows[0].v).toBe(666);
    const check = await checkManifest(t.db, buildManifest(c));
    expect(check.problems.find((p) => p.problem === 'drifted')!.message).toBe(
      `app.${name('other')}: its code in the database is not what procver created (CREATE OR REPLACE or ALTER was run on it); callers run that code, not the registry's source; put procver's code back, or ship the change as a new version with \`procver push\``,
    );
  });

  it('refuses to re-create a dropped version whose name someone else took meanwhile', async () => {
    await dropLikeCleanup(t.db, name('base'));
    await t.pool.query(`CREATE FUNCTION ${qualifiedName('app', name('base'))}(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT 0 $$`);
    await expect(pushVersions(t.db, await compileFiles(files), opts)).rejects.toMatchObject({
      code: 'conflict',
      details: [`app.${name('base')} was dropped by cleanup, yet a function of that name is in the database that procver did not create; drop or rename it first`],
    });
  });
});
