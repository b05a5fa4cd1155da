import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { pushStatementLines } from '../../lib/cli/statementsReport';
import type { CompileResult } from '../../lib/compile/compile';
import { pushVersions, type PushOptions } from '../../lib/push';
import { createTestDatabase, createTestRole, type TestDatabase } from '../helpers/db';
import { bindingsUnchanged } from '../helpers/touchTrigger';
import { compileFiles } from '../helpers/sources';

const suffix = randomBytes(4).toString('hex');
let owner = '';
let reader = '';
const opts: PushOptions = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'sql/' };

const sources = (v: number, triggerSpacing = ' ') => ({
  'bindings.sql': `
CREATE FUNCTION app.ddl_note() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO app.ddl_log (tag, v) VALUES (tg_tag, ${v}); END $$;
CREATE EVENT TRIGGER note_ddl_${suffix} ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION app.ddl_note();

CREATE FUNCTION app.visible(who text) RETURNS boolean LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN who = ${v === 1 ? "'ann'" : "'bob'"}; END $$;
CREATE POLICY only_one ON app.notes FOR SELECT USING (app.visible(who));

CREATE FUNCTION app.near(a int, b int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN abs(a - b) <= ${v}; END $$;
CREATE OPERATOR app.~~~ (FUNCTION = app.near, LEFTARG = int, RIGHTARG = int);
ALTER FUNCTION app.near(int, int) OWNER TO ${owner};

CREATE FUNCTION app.check_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF length(NEW.body) < ${v} THEN RAISE EXCEPTION 'note too short'; END IF; RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER notes_check AFTER INSERT ON app.notes${triggerSpacing}FOR EACH ROW EXECUTE FUNCTION app.check_note();
`,
});

describe('bindings that PostgreSQL cannot replace in place: event trigger, policy, operator, constraint trigger', () => {
  let t: TestDatabase;
  const phys = (c: CompileResult, name: string) => `app.${c.versions.find((v) => v.name === name)!.physicalName}`;
  const state = async () =>
    (
      await t.pool.query(`SELECT
        (SELECT evtfoid::regproc::text FROM pg_event_trigger WHERE evtname = 'note_ddl_${suffix}') AS event_trigger,
        (SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polname = 'only_one') AS policy,
        (SELECT oprcode::regproc::text FROM pg_operator WHERE oprname = '~~~' AND oprnamespace = 'app'::regnamespace) AS operator,
        (SELECT tgfoid::regproc::text FROM pg_trigger WHERE tgname = 'notes_check') AS constraint_trigger`)
    ).rows[0];
  const visibleTo = async () => {
    const c = await t.pool.connect();
    try {
      await c.query(`SET ROLE ${reader}`);
      return (await c.query(`SELECT who FROM app.notes ORDER BY who`)).rows.map((r) => r.who);
    } finally {
      await c.query('RESET ROLE');
      c.release();
    }
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    owner = await createTestRole('owner');
    reader = await createTestRole('reader');
    await t.pool.query(`CREATE SCHEMA app; GRANT USAGE ON SCHEMA app TO ${reader};
      CREATE TABLE app.ddl_log (tag text, v int);
      CREATE TABLE app.notes (who text, body text); ALTER TABLE app.notes ENABLE ROW LEVEL SECURITY; GRANT SELECT ON app.notes TO ${reader};
      INSERT INTO app.notes VALUES ('ann', 'hello'), ('bob', 'hi there')`);
  });

  it('creates them pointing at the hashed versions, and they work', async () => {
    const c1 = await compileFiles(sources(1));
    const r = await pushVersions(t.db, c1, opts);
    expect(r.statements!.bindings.created).toEqual([
      `event trigger note_ddl_${suffix}`,
      'policy only_one on app.notes',
      'operator app.~~~(integer, integer)',
      'trigger notes_check on app.notes',
    ]);
    expect(await state()).toEqual({
      event_trigger: phys(c1, 'ddl_note'),
      policy: `${phys(c1, 'visible')}(who)`,
      operator: phys(c1, 'near'),
      constraint_trigger: phys(c1, 'check_note'),
    });
    expect((await t.pool.query(`SELECT pg_get_userbyid(proowner)::text AS o FROM pg_proc WHERE oid = '${phys(c1, 'near')}(int, int)'::regprocedure`)).rows).toEqual([
      { o: owner },
    ]);
    expect(await visibleTo()).toEqual(['ann']);
    expect((await t.pool.query(`SELECT 3 OPERATOR(app.~~~) 4 AS near, 3 OPERATOR(app.~~~) 5 AS far`)).rows).toEqual([{ near: true, far: false }]);
    await t.pool.query(`CREATE TABLE app.t1 (x int)`);
    expect((await t.pool.query(`SELECT tag, v FROM app.ddl_log`)).rows).toEqual([{ tag: 'CREATE TABLE', v: 1 }]);
  });

  it('moves every one of them to the new versions in one push (drop and create)', async () => {
    const c2 = await compileFiles(sources(2));
    const r = await pushVersions(t.db, c2, opts);
    expect(r.statements!.bindings).toEqual({
      created: [],
      moved: [`event trigger note_ddl_${suffix}`, 'policy only_one on app.notes', 'operator app.~~~(integer, integer)', 'trigger notes_check on app.notes'],
      updated: [],
      repaired: [],
      forgotten: [],
      notInSources: [],
    });
    expect(await state()).toEqual({
      event_trigger: phys(c2, 'ddl_note'),
      policy: `${phys(c2, 'visible')}(who)`,
      operator: phys(c2, 'near'),
      constraint_trigger: phys(c2, 'check_note'),
    });
    expect(await visibleTo()).toEqual(['bob']);
    expect((await t.pool.query(`SELECT 3 OPERATOR(app.~~~) 5 AS near`)).rows).toEqual([{ near: true }]);
    await expect(t.pool.query(`INSERT INTO app.notes VALUES ('cy', 'x')`)).rejects.toThrow('note too short');
    await t.pool.query(`CREATE TABLE app.t2 (x int)`);
    expect((await t.pool.query(`SELECT v FROM app.ddl_log ORDER BY v`)).rows).toEqual([{ v: 1 }, { v: 2 }]);
  });

  it('a binding whose statement changed but points at the same versions is updated, not moved', async () => {
    const r = await pushVersions(t.db, await compileFiles(sources(2, '\n  ')), opts);
    expect(r.statements!.bindings).toEqual({ created: [], moved: [], updated: ['trigger notes_check on app.notes'], repaired: [], forgotten: [], notInSources: [] });
    const audit = (await t.pool.query(`SELECT action, count(*)::int AS n FROM procver.audit_log WHERE action LIKE 'binding.%' GROUP BY 1 ORDER BY 1`)).rows;
    expect(audit).toEqual([
      { action: 'binding.create', n: 4 },
      { action: 'binding.move', n: 4 },
      { action: 'binding.update', n: 1 },
    ]);
  });

  it('a binding dropped, re-pointed or disabled by hand is created again at the next push, even with unchanged sources, saying what it found', async () => {
    const c2 = await compileFiles(sources(2, '\n  '));
    await t.pool.query(`DROP POLICY only_one ON app.notes; DROP EVENT TRIGGER note_ddl_${suffix};
      CREATE FUNCTION app.plain_check() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
      DROP TRIGGER notes_check ON app.notes;
      CREATE CONSTRAINT TRIGGER notes_check AFTER INSERT ON app.notes FOR EACH ROW EXECUTE FUNCTION app.plain_check();
      ALTER TABLE app.notes DISABLE TRIGGER notes_check;`);
    const r = await pushVersions(t.db, c2, opts);
    const missing = { missing: true, pointsElsewhere: false, fires: null };
    expect(r.statements!.bindings).toEqual({
      ...bindingsUnchanged,
      repaired: [
        { identity: `event trigger note_ddl_${suffix}`, found: missing },
        { identity: 'policy only_one on app.notes', found: missing },
        { identity: 'trigger notes_check on app.notes', found: { missing: false, pointsElsewhere: true, fires: { found: 'D', declared: 'O' } } },
      ],
    });
    expect(pushStatementLines(r.statements)).toEqual([
      `  ! event trigger note_ddl_${suffix} was missing from the database: created again`,
      '  ! policy only_one on app.notes was missing from the database: created again',
      '  ! trigger notes_check on app.notes pointed at another function and fired differently (disabled in the database, enabled in the sources): created again',
    ]);
    const audit = await t.pool.query(`SELECT target, reason, after->'found' AS found FROM procver.audit_log WHERE action = 'binding.repair' ORDER BY id`);
    expect(audit.rows).toEqual([
      { target: `event trigger note_ddl_${suffix}`, reason: 'was missing from the database', found: missing },
      { target: 'policy only_one on app.notes', reason: 'was missing from the database', found: missing },
      {
        target: 'trigger notes_check on app.notes',
        reason: 'pointed at another function and fired differently (disabled in the database, enabled in the sources)',
        found: { missing: false, pointsElsewhere: true, fires: { found: 'D', declared: 'O' } },
      },
    ]);
    expect((await t.pool.query(`SELECT tgenabled FROM pg_trigger WHERE tgname = 'notes_check'`)).rows).toEqual([{ tgenabled: 'O' }]);
    expect(await state()).toEqual({
      event_trigger: phys(c2, 'ddl_note'),
      policy: `${phys(c2, 'visible')}(who)`,
      operator: phys(c2, 'near'),
      constraint_trigger: phys(c2, 'check_note'),
    });
    const again = await pushVersions(t.db, c2, opts);
    expect(again.statements!.bindings).toEqual(bindingsUnchanged);
  });

  it('removed from the sources they stay registered while they are in the database, and are forgotten once dropped', async () => {
    const bound = /^CREATE (EVENT TRIGGER|POLICY|OPERATOR|CONSTRAINT TRIGGER) /;
    const functionsOnly = {
      'bindings.sql': sources(2)
        ['bindings.sql'].split('\n')
        .filter((l) => !bound.test(l))
        .join('\n'),
    };
    const c2 = await compileFiles(functionsOnly);
    expect(c2.statements.bindings).toEqual([]);
    const identities = [`event trigger note_ddl_${suffix}`, 'operator app.~~~(integer, integer)', 'policy only_one on app.notes', 'trigger notes_check on app.notes'];
    const kept = await pushVersions(t.db, c2, opts);
    expect(kept.created).toEqual([]);
    expect(kept.statements!.bindings.forgotten).toEqual([]);
    expect(kept.statements!.bindings.notInSources).toEqual([
      { identity: identities[0], versions: [phys(c2, 'ddl_note')], inDatabase: true },
      { identity: identities[1], versions: [phys(c2, 'near')], inDatabase: true },
      { identity: identities[2], versions: [phys(c2, 'visible')], inDatabase: true },
      { identity: identities[3], versions: [phys(c2, 'check_note')], inDatabase: true },
    ]);

    await t.pool.query(
      `DROP EVENT TRIGGER note_ddl_${suffix}; DROP POLICY only_one ON app.notes; DROP OPERATOR app.~~~ (int, int); DROP TRIGGER notes_check ON app.notes`,
    );
    const forgotten = await pushVersions(t.db, c2, opts);
    expect(forgotten.statements!.bindings).toEqual({ ...bindingsUnchanged, forgotten: identities.map((identity) => ({ identity, takenBy: null })) });
    expect((await t.pool.query('SELECT count(*)::int AS n FROM procver.bindings')).rows).toEqual([{ n: 0 }]);
    const audit = await t.pool.query(`SELECT target FROM procver.audit_log WHERE action = 'binding.forget' ORDER BY id`);
    expect(audit.rows.map((r) => r.target)).toEqual(identities);
  });
});

describe('a disabled trigger on a partitioned table', () => {
  let t: TestDatabase;
  const sources = (v: number) => ({
    'events.sql': `
CREATE FUNCTION app.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.v := ${v}; RETURN NEW; END $$;
CREATE TRIGGER events_stamp BEFORE INSERT ON app.events FOR EACH ROW EXECUTE FUNCTION app.stamp();
ALTER TABLE app.events DISABLE TRIGGER events_stamp;
`,
  });
  const states = async () =>
    (await t.pool.query(`SELECT tgrelid::regclass::text AS rel, tgenabled AS state FROM pg_trigger WHERE tgname = 'events_stamp' ORDER BY 1`)).rows;
  const disabled = [
    { rel: 'app.events', state: 'D' },
    { rel: 'app.events_1', state: 'D' },
    { rel: 'app.events_1a', state: 'D' },
  ];

  beforeAll(async () => {
    t = await createTestDatabase();
    await t.pool.query(`CREATE SCHEMA app;
      CREATE TABLE app.events (k int, v int) PARTITION BY RANGE (k);
      CREATE TABLE app.events_1 PARTITION OF app.events FOR VALUES FROM (0) TO (10) PARTITION BY RANGE (k);
      CREATE TABLE app.events_1a PARTITION OF app.events_1 FOR VALUES FROM (0) TO (5)`);
  });

  it('is created disabled on every partition; a partition set on its own keeps its state when the trigger moves, and its sub-partitions follow it', async () => {
    const c1 = await compileFiles(sources(1));
    expect((await pushVersions(t.db, c1, opts)).statements!.bindings.created).toEqual(['trigger events_stamp on app.events']);
    expect(await states()).toEqual(disabled);
    await t.pool.query('INSERT INTO app.events (k) VALUES (1)');
    expect((await t.pool.query('SELECT v FROM app.events')).rows).toEqual([{ v: null }]);

    await t.pool.query('ALTER TABLE app.events_1a ENABLE TRIGGER events_stamp');
    expect((await pushVersions(t.db, c1, opts)).statements!.bindings).toEqual(bindingsUnchanged);
    const ownLeaf = [disabled[0], disabled[1], { rel: 'app.events_1a', state: 'O' }];
    expect(await states()).toEqual(ownLeaf);

    // A move re-creates the trigger, and with it every clone in the parent's state: push sets the
    // partition's own state back, and says so in the move's audit entry.
    const r = await pushVersions(t.db, await compileFiles(sources(2)), opts);
    expect(r.statements!.bindings.moved).toEqual(['trigger events_stamp on app.events']);
    expect(await states()).toEqual(ownLeaf);
    const audit = await t.pool.query(`SELECT after->'partitionsKept' AS kept FROM procver.audit_log WHERE action = 'binding.move' ORDER BY id DESC LIMIT 1`);
    expect(audit.rows).toEqual([{ kept: [{ table: 'app.events_1a', state: 'O' }] }]);
    expect((await pushVersions(t.db, await compileFiles(sources(2)), opts)).statements!.bindings).toEqual(bindingsUnchanged);

    // Set on the middle partition (the ALTER reaches its own partition too): after a move, the
    // middle one is set back and its partition follows it again.
    await t.pool.query('ALTER TABLE app.events_1 ENABLE ALWAYS TRIGGER events_stamp');
    const ownMiddle = [disabled[0], { rel: 'app.events_1', state: 'A' }, { rel: 'app.events_1a', state: 'A' }];
    expect(await states()).toEqual(ownMiddle);
    expect((await pushVersions(t.db, c1, opts)).statements!.bindings.moved).toEqual(['trigger events_stamp on app.events']);
    expect(await states()).toEqual(ownMiddle);
    await t.pool.query('DELETE FROM app.events; INSERT INTO app.events (k) VALUES (1)');
    expect((await t.pool.query('SELECT v FROM app.events')).rows).toEqual([{ v: 1 }]);
  });
});
