import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qualifiedName } from '../../lib/compile/parser';
import type { Db } from '../../lib/db/client';
import { pushVersions } from '../../lib/push';
import { collectUsage } from '../../lib/usage/collect';
import { usageForVersions } from '../../lib/usage';
import { replicationUnavailable, startReplicatedRegistry, type ReplicatedPair } from '../helpers/replication';
import { compileFiles } from '../helpers/sources';

const unavailable = replicationUnavailable();
if (unavailable) console.warn(`skipping the streaming-replica tests: ${unavailable}`);

describe.skipIf(unavailable !== null)('collect: a real streaming replica', () => {
  let pair: ReplicatedPair;
  let pool: pg.Pool;
  let db: Db;
  let primaryUrl: string;
  let standbyUrl: string;

  beforeAll(async () => {
    ({ pair, primaryUrl, standbyUrl, pool, db } = await startReplicatedRegistry(4));
  });
  afterAll(async () => {
    await pool?.end();
    await pair?.stop();
  });

  it('counts calls made only on the standby, so that version is never reported unused', async () => {
    const compiled = await compileFiles({
      'a.sql': `CREATE FUNCTION app.report(x integer) RETURNS integer LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN x * 2; END $$;
CREATE FUNCTION app.unused() RETURNS integer LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN 1; END $$;`,
    });
    await pushVersions(db, compiled, { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' });
    const report = compiled.versions.find((v) => v.name === 'report')!;
    const unused = compiled.versions.find((v) => v.name === 'unused')!;

    await pair.waitForReplay();
    const standby = new pg.Client({ connectionString: standbyUrl });
    await standby.connect();
    const targets = [
      { url: primaryUrl, role: 'primary' as const },
      { url: standbyUrl, role: 'replica' as const },
    ];
    const baseline = await collectUsage(db, targets);
    expect(baseline.map((r) => r.ok)).toEqual([true, true]);
    await pool.query(`UPDATE procver.instances SET first_collected_at = now() - interval '40 days'`); // history covers the window

    for (let i = 0; i < 5; i++) await standby.query(`SELECT ${qualifiedName(report.schema, report.physicalName)}(${i})`);
    await standby.query('SELECT pg_stat_force_next_flush()');
    await standby.query('SELECT 1');
    await standby.end();

    const r = await collectUsage(db, targets);
    expect(r.find((x) => x.role === 'replica')).toMatchObject({ ok: true, calls: 5 });
    expect(r.find((x) => x.role === 'primary')).toMatchObject({ ok: true, calls: 0 });

    const ids = await pool.query<{ id: string; physical_name: string }>('SELECT id, physical_name FROM procver.versions');
    const idOf = (name: string) => Number(ids.rows.find((x) => x.physical_name === name)!.id);
    const usage = await usageForVersions(db, [idOf(report.physicalName), idOf(unused.physicalName)]);
    const u = usage.get(idOf(report.physicalName))!;
    expect(u.calls).toBe(5);
    expect(u.perInstance).toEqual([{ label: expect.stringMatching(/^127\.0\.0\.1:\d+\/app$/), calls: 5 }]);
    expect(u.perInstance[0]!.label).toBe(new URL(standbyUrl).host + '/app');
    expect(u.lastCalledAt).not.toBeNull();
    expect(usage.get(idOf(unused.physicalName))).toMatchObject({ calls: 0, lastCalledAt: null });
  });
});
