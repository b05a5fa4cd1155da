import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCleanup } from '../../lib/cleanup/apply';
import { cleanupConfig } from '../../lib/cleanup/config';
import { planCleanup } from '../../lib/cleanup/plan';
import { qualifiedName } from '../../lib/compile/parser';
import { createDb, createPool, type Db } from '../../lib/db/client';
import { migrate } from '../../lib/db/migrate';
import { databaseUrlFor } from '../../lib/embedded';
import { pushVersions } from '../../lib/push';
import { collectUsage } from '../../lib/usage/collect';
import { retireVersion } from '../../lib/versions';
import { replicationUnavailable, startPrimaryAndStandby, type ReplicatedPair } from '../helpers/replication';
import { compileFiles } from '../helpers/sources';

const unavailable = replicationUnavailable();
if (unavailable) console.warn(`skipping the cleanup chaos test: ${unavailable}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An old frontend: calls one function in a loop until stopped, counting every failure. */
function caller(url: string, fn: string) {
  const errors: string[] = [];
  let calls = 0;
  let stop = false;
  const client = new pg.Client({ connectionString: url, application_name: 'old-frontend@v1' });
  const done = (async () => {
    await client.connect();
    while (!stop) {
      try {
        await client.query(`SELECT ${fn}(1)`);
        calls++;
      } catch (e) {
        errors.push((e as Error).message);
      }
      await sleep(100);
    }
    await client.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
    await client.end();
  })();
  return {
    errors,
    calls: () => calls,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

describe.skipIf(unavailable !== null)('cleanup under load: old frontends still calling, on the primary and only on a replica', () => {
  let pair: ReplicatedPair;
  let pool: pg.Pool;
  let db: Db;
  let primaryUrl: string;
  let standbyUrl: string;

  beforeAll(async () => {
    pair = await startPrimaryAndStandby();
    const admin = new pg.Client({ connectionString: pair.primaryAdminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE app');
    await admin.end();
    await pair.waitForReplay();
    primaryUrl = databaseUrlFor(pair.primaryAdminUrl, 'app');
    standbyUrl = databaseUrlFor(pair.standbyAdminUrl, 'app');
    pool = createPool(primaryUrl, 6);
    db = createDb(pool);
    await migrate(pool);
  });
  afterAll(async () => {
    await pool?.end();
    await pair?.stop();
  });

  it('never drops (or even quarantines) a version while it is called; drops both once callers stop and the window passes', async () => {
    const compiled = await compileFiles({
      'a.sql': `CREATE FUNCTION app.on_primary(x integer) RETURNS integer LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN x; END $$;
CREATE FUNCTION app.on_replica(x integer) RETURNS integer LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN x; END $$;`,
    });
    await pushVersions(db, compiled, { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' });
    const [onPrimary, onReplica] = ['on_primary', 'on_replica'].map((n) => compiled.versions.find((v) => v.name === n)!);
    await pair.waitForReplay();

    const targets = [
      { url: primaryUrl, role: 'primary' as const },
      { url: standbyUrl, role: 'replica' as const },
    ];
    const config = { ...cleanupConfig({}, { quietWindow: '3s', quarantine: '2s' }), rollbackKeep: 0, rollbackDays: 0 };
    await collectUsage(db, targets);
    const callers = [caller(primaryUrl, qualifiedName('app', onPrimary!.physicalName)), caller(standbyUrl, qualifiedName('app', onReplica!.physicalName))];
    for (const v of [onPrimary!, onReplica!]) await retireVersion(db, { name: v.physicalName, reason: 'chaos', actor: 'test' });

    const state = async () =>
      (await pool.query<{ physical_name: string; status: string; quarantine_name: string | null }>(
        'SELECT physical_name, status, quarantine_name FROM procver.versions ORDER BY physical_name',
      )).rows;
    const cleanupRound = async () => {
      await collectUsage(db, targets);
      await applyCleanup(db, await planCleanup(db, targets, config), 'cron', targets);
    };

    // Callers keep going for three quiet windows while cleanup runs again and again. Progress, not
    // the clock, ends the loop: at least 6 rounds, and both callers called between every two rounds
    // (so each round saw them calling, however slow this machine is).
    const until = Date.now() + 3 * config.quietWindowMs;
    const seen = (): number[] => callers.map((c) => c.calls());
    for (let i = 0; i < 600 && seen().includes(0); i++) await sleep(50); // both connected and calling
    expect(seen().map((n) => n > 0)).toEqual([true, true]);
    let before = seen();
    let rounds = 0;
    const idleRounds: string[] = [];
    while (rounds < 6 || Date.now() < until) {
      await sleep(500);
      await cleanupRound();
      rounds++;
      const now = seen();
      now.forEach((n, i) => n === before[i] && idleRounds.push(`round ${rounds}: caller ${i} made no call`));
      before = now;
      for (const s of await state()) expect(s, `${s.physical_name} while still called`).toMatchObject({ status: 'retired', quarantine_name: null });
    }
    expect(idleRounds).toEqual([]);
    await Promise.all(callers.map((c) => c.stop()));
    expect(callers.flatMap((c) => c.errors)).toEqual([]);

    // Callers gone: quiet window, quarantine, drop.
    for (let i = 0; i < 60 && (await state()).some((s) => s.status !== 'dropped'); i++) {
      await cleanupRound();
      await sleep(500);
    }
    expect((await state()).map((s) => s.status)).toEqual(['dropped', 'dropped']);
  });
});
