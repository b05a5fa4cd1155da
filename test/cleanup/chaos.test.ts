import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnv } from '../../lib/config';
import { runCleanup } from '../../lib/cleanup/apply';
import { cleanupConfig, formatDuration, type CleanupConfig } from '../../lib/cleanup/config';
import { qualifiedName } from '../../lib/compile/parser';
import type { Db } from '../../lib/db/client';
import { pushVersions } from '../../lib/push';
import { collectUsage } from '../../lib/usage/collect';
import { shortestResolvablePeriod } from '../../lib/usage/evidence';
import { retireVersion } from '../../lib/versions';
import { replicationUnavailable, startReplicatedRegistry, type ReplicatedPair } from '../helpers/replication';
import { compileFiles } from '../helpers/sources';

const unavailable = replicationUnavailable();
if (unavailable) console.warn(`skipping the cleanup chaos test: ${unavailable}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An old frontend: calls one function in a loop until stopped, recording every failure and the longest pause. */
function caller(url: string, fn: string) {
  const errors: string[] = [];
  let calls = 0;
  let stop = false;
  let longestGapMs = 0;
  const client = new pg.Client({ connectionString: url, application_name: 'old-frontend@v1' });
  const done = (async () => {
    await client.connect();
    let last = Date.now();
    while (!stop) {
      try {
        await client.query(`SELECT ${fn}(1)`);
        calls++;
      } catch (e) {
        errors.push((e as Error).message);
      }
      longestGapMs = Math.max(longestGapMs, Date.now() - last);
      last = Date.now();
      await sleep(100);
    }
    await client.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
    await client.end();
  })();
  return {
    errors,
    calls: () => calls,
    longestGapMs: () => longestGapMs,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

/** The collector as cron or a daemon runs it: it can be stopped, restarted, and run late. */
function collector(db: Db, targets: { url: string; role: 'primary' | 'replica' }[]) {
  let intervalMs: number | null = null;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      if (intervalMs !== null) await collectUsage(db, targets);
      await sleep(intervalMs ?? 100);
    }
  })();
  return {
    run: (ms: number | null) => {
      intervalMs = ms;
    },
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

describe.skipIf(unavailable !== null)('cleanup chaos: callers on a primary and a streaming replica, the collector stopped, started and lagging', () => {
  let pair: ReplicatedPair;
  let pool: pg.Pool;
  let db: Db;
  let primaryUrl: string;
  let standbyUrl: string;
  /** Stops whatever the test started, also when it fails half-way. */
  let stopAll = async (): Promise<void> => undefined;

  beforeAll(async () => {
    ({ pair, primaryUrl, standbyUrl, pool, db } = await startReplicatedRegistry(6));
  }, 120_000);
  afterAll(async () => {
    await stopAll();
    await pool?.end();
    await pair?.stop();
  });

  it('zero failed calls; versions in use are never dropped; every unused version is dropped in the end', { timeout: 300_000 }, async () => {
    const names = ['always_primary', 'always_standby', 'until_primary', 'until_standby', 'never', 'late'];
    const compiled = await compileFiles({
      'a.sql': names.map((n) => `CREATE FUNCTION app.${n}(x integer) RETURNS integer LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN x; END $$;`).join('\n'),
    });
    await pushVersions(db, compiled, { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' });
    const v = Object.fromEntries(names.map((n) => [n, compiled.versions.find((x) => x.name === n)!]));
    const fn = (n: string) => qualifiedName('app', v[n]!.physicalName);
    await pair.waitForReplay();
    const targets = [
      { url: primaryUrl, role: 'primary' as const },
      { url: standbyUrl, role: 'replica' as const },
    ];

    // Windows derived from what this machine does now. A collection pass bounds the interval between
    // readings; a caller's longest pause (plus PostgreSQL's one-second flush interval, three times
    // over) bounds how late its calls are published. The windows are the shortest cleanup accepts.
    let t0 = Date.now();
    await collectUsage(db, targets);
    await collectUsage(db, targets);
    const passMs = (Date.now() - t0) / 2;
    const callers: Record<string, ReturnType<typeof caller>> = {
      always_primary: caller(primaryUrl, fn('always_primary')),
      always_standby: caller(standbyUrl, fn('always_standby')),
      until_primary: caller(primaryUrl, fn('until_primary')),
      until_standby: caller(standbyUrl, fn('until_standby')),
    };
    await sleep(2000);
    const gapMs = Math.max(...Object.values(callers).map((c) => c.longestGapMs()));
    const seconds = (ms: number) => `${Math.max(1, Math.ceil(ms / 1000))}s`;
    const env = { PROCVER_STATS_FLUSH_DELAY: seconds(3 * (1000 + gapMs)), PROCVER_COLLECT_INTERVAL: seconds(2 * passMs) };
    const base = cleanupConfig(readEnv(env));
    const shortest = formatDuration(shortestResolvablePeriod(base));
    const config: CleanupConfig = { ...cleanupConfig(readEnv(env), { quietWindow: shortest, quarantine: shortest }), rollbackKeep: 0, rollbackDays: 0 };
    const windowMs = config.quietWindowMs;
    console.log(
      `chaos: collection pass ${Math.round(passMs)} ms, longest caller pause ${gapMs} ms → flush delay ${env.PROCVER_STATS_FLUSH_DELAY}, interval ${env.PROCVER_COLLECT_INTERVAL}, windows ${shortest}`,
    );

    const col = collector(db, targets);
    col.run(config.collectIntervalMs);
    stopAll = async () => {
      await Promise.all(Object.values(callers).map((c) => c.stop()));
      await col.stop();
    };
    for (const n of names) await retireVersion(db, { name: v[n]!.physicalName, reason: 'chaos', actor: 'test' });

    const state = async () =>
      Object.fromEntries(
        (
          await pool.query<{ physical_name: string; status: string; quarantine_name: string | null }>(
            'SELECT physical_name, status, quarantine_name FROM procver.versions',
          )
        ).rows.map((r) => [names.find((n) => v[n]!.physicalName === r.physical_name)!, r]),
      );
    const inUse = new Set(['always_primary', 'always_standby', 'until_primary', 'until_standby']);
    let round = 0;
    const quarantinedWhileCalled: string[] = [];
    let lateReleased = false;
    const cleanupRound = async () => {
      round++;
      await runCleanup(db, targets, config, { apply: true, actor: 'cron' });
      const s = await state();
      // Versions in use are never dropped. (One may be quarantined if its caller paused for longer
      // than the quiet window, e.g. on a starved machine: then its tripwire serves it and puts it back.)
      for (const n of inUse) {
        expect(s[n]!.status, `${n} while it is called (round ${round})`).toBe('retired');
      }
      for (const n of inUse)
        if (s[n]!.quarantine_name !== null) quarantinedWhileCalled.push(`${n} (round ${round}, its caller's longest pause ${callers[n]?.longestGapMs()} ms)`);
      // A caller nobody knew about turns up once its version is quarantined: the tripwire serves it.
      if (!callers.late && s.late!.quarantine_name !== null) callers.late = caller(standbyUrl, fn('late'));
      if (callers.late && !lateReleased && s.late!.quarantine_name === null && s.late!.status === 'retired') {
        lateReleased = true;
        inUse.add('late');
      }
      return s;
    };
    const roundsUntil = async (what: string, done: (s: Awaited<ReturnType<typeof state>>) => boolean, budgetMs: number) => {
      const until = Date.now() + budgetMs;
      for (;;) {
        const s = await cleanupRound();
        if (done(s)) return s;
        if (Date.now() > until) throw new Error(`${what} did not happen within ${Math.round(budgetMs / 1000)}s: ${JSON.stringify(s)}`);
        await sleep(200);
      }
    };
    // Enough for a quiet window, a quarantine and a few slow rounds.
    const cycleMs = () => 3 * (windowMs + config.quarantineMs) + 20 * (2 * passMs + 1000);

    // 1. Sustained calls on both instances over several windows, while the collector is stopped
    //    (cleanup's own readings are the evidence) and then lags (reads at five times its interval).
    t0 = Date.now();
    await roundsUntil(
      'quarantining the unused version, putting back the late-called one, dropping the never-called one',
      (x) => x.never!.status === 'dropped' && lateReleased && Date.now() - t0 > 3 * windowMs,
      cycleMs(),
    );
    col.run(null);
    await roundsUntil('a while without the collector', () => Date.now() - t0 > 5 * windowMs, cycleMs());
    col.run(5 * config.collectIntervalMs);

    // 2. Two callers stop: their versions go, on the primary and on the replica alike.
    await Promise.all(['until_primary', 'until_standby'].map((n) => callers[n]!.stop()));
    inUse.delete('until_primary');
    inUse.delete('until_standby');
    await roundsUntil('dropping the versions whose callers stopped', (x) => x.until_primary!.status === 'dropped' && x.until_standby!.status === 'dropped', cycleMs());

    // 3. Every caller stops: everything goes.
    col.run(config.collectIntervalMs);
    for (const n of ['always_primary', 'always_standby', 'late']) {
      await callers[n]!.stop();
      inUse.delete(n);
    }
    await roundsUntil('dropping every version once nothing calls it', (x) => names.every((n) => x[n]!.status === 'dropped'), cycleMs());
    await col.stop();

    for (const [n, c] of Object.entries(callers)) {
      expect(c.errors, `${n}: failed calls`).toEqual([]);
      expect(c.calls(), `${n}: calls made`).toBeGreaterThan(10);
    }
    // The late caller was seen by the tripwire and put its version back; it was dropped only at the end.
    const audit = await pool.query(`SELECT action FROM procver.audit_log WHERE target = $1 ORDER BY id`, [`app.${v.late!.physicalName}`]);
    const actions = audit.rows.map((r) => r.action as string);
    expect(actions.slice(0, 3)).toEqual(['version.retire', 'version.quarantine', 'version.unquarantine']);
    expect(actions.slice(-2)).toEqual(['version.quarantine', 'version.drop']);
    console.log(
      `chaos: ${round} cleanup rounds in ${Math.round((Date.now() - t0) / 1000)}s; longest caller pauses ${JSON.stringify(Object.fromEntries(Object.entries(callers).map(([n, c]) => [n, c.longestGapMs()])))}; quarantined while called: ${quarantinedWhileCalled.join(', ') || 'never'}`,
    );
  });
});
