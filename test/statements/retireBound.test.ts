import { beforeAll, describe, expect, it } from 'vitest';
import type { CompileResult } from '../../lib/compile/compile';
import { pushVersions } from '../../lib/push';
import { lockRegistry } from '../../lib/locks';
import { retireVersion } from '../../lib/versions';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';
import { functionOnly, plainPush, touchTrigger } from '../helpers/touchTrigger';

const opts = plainPush;
const sources = touchTrigger;

const physical = (c: CompileResult) => c.versions.find((v) => v.name === 'touch')!.physicalName;

describe('retire refuses a version a binding calls', () => {
  let t: TestDatabase;
  let first: CompileResult;
  let second: CompileResult;
  const status = async (name: string) => (await t.pool.query('SELECT status FROM procver.versions WHERE physical_name = $1', [name])).rows[0].status;

  beforeAll(async () => {
    t = await createTestDatabase();
    await t.pool.query('CREATE SCHEMA app; CREATE TABLE app.items (n int)');
    first = await compileFiles(sources(1));
    await pushVersions(t.db, first, opts);
    second = await compileFiles(sources(2));
  });

  it('names the trigger and changes nothing; once the trigger moved on, the old version retires', async () => {
    const v1 = physical(first);
    const err = await retireVersion(t.db, { name: `app.${v1}`, reason: 'replaced', actor: 'test' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'conflict', reason: 'referenced', details: ['bound: trigger items_touch on app.items'] });
    expect(await status(v1)).toBe('live');

    await pushVersions(t.db, second, opts);
    const done = await retireVersion(t.db, { name: `app.${v1}`, reason: 'replaced', actor: 'test' });
    expect(done).toMatchObject({ status: 'retired', overriddenDeployments: [] });
    expect(await status(v1)).toBe('retired');
  });

  it('an admin override retires a bound version and the audit entry lists the binding', async () => {
    const v2 = physical(second);
    const done = await retireVersion(t.db, { name: `app.${v2}`, reason: 'testing', actor: 'admin', override: true });
    expect(done.overriddenDeployments).toEqual(['bound: trigger items_touch on app.items']);
    const audit = await t.pool.query(`SELECT action, after FROM procver.audit_log WHERE target = $1 ORDER BY id DESC LIMIT 1`, [`app.${v2}`]);
    expect(audit.rows[0]).toMatchObject({ action: 'version.retire.override', after: { overriddenDeployments: ['bound: trigger items_touch on app.items'] } });
  });
});

describe('retire and push serialize on the registry lock', () => {
  let t: TestDatabase;
  /** Transactions of this database waiting for an advisory lock (the registry lock is the only one procver takes). */
  const waiting = async () =>
    Number(
      (
        await t.pool.query(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        )
      ).rows[0].n,
    );
  /** Waits for `done` (generously: the machine may be busy), and says what it waited for if it never came. */
  const until = async (what: string, done: () => Promise<boolean>) => {
    const deadline = Date.now() + 30_000;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    await t.pool.query('CREATE SCHEMA app; CREATE TABLE app.items (n int)');
    await pushVersions(t.db, await compileFiles(sources(1)), opts);
  });

  it('a retire queued behind a push that binds the version sees the binding and refuses; the version stays live', async () => {
    // Version 2 exists, bound by nothing yet: retiring it alone would be allowed.
    const second = await compileFiles(sources(2));
    await pushVersions(t.db, await compileFiles(functionOnly(2)), opts);
    const v2 = `app.${physical(second)}`;

    // Another transaction holds the registry lock; the push that moves the trigger to version 2
    // queues behind it, then the retire of version 2.
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    let holding = () => {};
    const locked = new Promise<void>((r) => {
      holding = r;
    });
    const holder = t.db.transaction(async (tx) => {
      await lockRegistry(tx);
      holding();
      await held;
    });
    await locked;
    const push = pushVersions(t.db, second, opts);
    let retireSettled = false;
    let retire: Promise<{ retired: unknown } | { refused: unknown }> | undefined;
    try {
      await until('the push to wait for the registry lock', async () => (await waiting()) === 1);
      retire = retireVersion(t.db, { name: v2, reason: 'unused', actor: 'test' }).then(
        (r) => ({ retired: r }),
        (e) => ({ refused: e }),
      );
      void retire.then(() => {
        retireSettled = true;
      });
      await until('the retire to wait for the registry lock behind the push', async () => retireSettled || (await waiting()) === 2);
    } finally {
      release();
      await holder;
    }
    // Without the lock, the retire does not wait for the push: it retires the unbound version at once.
    expect(retireSettled).toBe(false);

    expect((await push).statements!.bindings.moved).toEqual(['trigger items_touch on app.items']);
    expect(await retire).toMatchObject({ refused: { code: 'conflict', reason: 'referenced', details: ['bound: trigger items_touch on app.items'] } });
    expect((await t.pool.query('SELECT status FROM procver.versions WHERE schema || $2 || physical_name = $1', [v2, '.'])).rows).toEqual([{ status: 'live' }]);
  });
});
