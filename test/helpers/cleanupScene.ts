import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { beforeAll, expect } from 'vitest';
import { cleanupConfig } from '../../lib/cleanup/config';
import { planCleanup, type PlanRow } from '../../lib/cleanup/plan';
import { qualifiedName } from '../../lib/compile/parser';
import { readEnv } from '../../lib/config';
import { pushVersions } from '../../lib/push';
import { collectUsage } from '../../lib/usage/collect';
import type { InstanceTarget } from '../../lib/usage/readInstance';
import { retireVersion } from '../../lib/versions';
import { createTestDatabase, type TestDatabase } from './db';
import { compileFiles } from './sources';

/**
 * One registry database for a cleanup test file, with usage history from its start, and the steps
 * its tests take: push a function, retire it, plan, let the quiet window pass, call it.
 */
export function cleanupScene() {
  const push = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' };
  const config = {
    ...cleanupConfig(readEnv({ PROCVER_STATS_FLUSH_DELAY: '1s', PROCVER_COLLECT_INTERVAL: '1s' }), { quietWindow: '2s', quarantine: '2s' }),
    rollbackKeep: 1,
    rollbackDays: 0,
  };
  /**
   * For "not yet" assertions: windows no busy machine can outlast between two statements, so a
   * slow step never turns "keep" into "drop". Waiting (quietly) is only ever used to let `config`'s pass.
   */
  const longWindows = { ...config, quietWindowMs: 3_600_000, quarantineMs: 3_600_000 };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  let t: TestDatabase;
  const primary = (): InstanceTarget[] => [{ url: t.url, role: 'primary' }];

  beforeAll(async () => {
    t = await createTestDatabase();
    await collectUsage(t.db, primary()); // usage history starts here
  });

  /** Pushes one function (unique name), returns its physical name and qualified SQL name. */
  async function version(body: string, opts: { name?: string; language?: string; args?: string } = {}) {
    const name = opts.name ?? `f_${randomBytes(4).toString('hex')}`;
    const c = await compileFiles({
      'a.sql': `CREATE FUNCTION app.${name}(${opts.args ?? 'x integer'}) RETURNS integer LANGUAGE ${opts.language ?? 'plpgsql'} AS $$ ${body} $$;`,
    });
    await pushVersions(t.db, c, push);
    const v = c.versions[0]!;
    return { c, physical: v.physicalName, sql: qualifiedName(v.schema, v.physicalName) };
  }

  async function retire(physical: string) {
    await retireVersion(t.db, { name: physical, reason: 'test', actor: 'test' });
  }

  async function plan(targets = primary()): Promise<PlanRow[]> {
    return (await planCleanup(t.db, targets, config)).rows;
  }

  async function rowOf(physical: string, targets = primary()) {
    const r = (await plan(targets)).find((x) => x.physicalName === physical);
    expect(r, physical).toBeDefined();
    return r!;
  }

  const check = (r: PlanRow, name: string) => r.checks.find((c) => c.name === name)!;

  /** Lets the quiet window pass with fresh usage readings. */
  async function quietly() {
    await sleep(2200);
    await collectUsage(t.db, primary());
  }

  async function callsOk(sql: string) {
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    try {
      return (await c.query(`SELECT ${sql}(2) AS r`)).rows[0].r;
    } finally {
      await c.query('SELECT pg_stat_force_next_flush()');
      await c.end();
    }
  }

  return {
    /** the scene's database (set once the file's first beforeAll ran) */
    get t(): TestDatabase {
      return t;
    },
    push,
    config,
    longWindows,
    sleep,
    primary,
    version,
    retire,
    plan,
    rowOf,
    check,
    quietly,
    callsOk,
  };
}
