import { readEnv } from '../../lib/config';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanupConfig } from '../../lib/cleanup/config';
import { planFromRegistry } from '../../lib/cleanup/plan';
import { retentionCandidates } from '../../lib/cleanup/retention';
import { qualifiedName } from '../../lib/compile/parser';
import { pushVersions } from '../../lib/push';
import { usageForVersions } from '../../lib/usage';
import { evidenceFor, evidenceSettings, type EvidenceKind, type EvidenceVerdict } from '../../lib/usage/evidence';
import { instanceLabel, type InstanceTarget } from '../../lib/usage/readInstance';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

/**
 * The dashboard, the cleanup plan and the retention policy read one evidence module: on every case
 * below all three reach the same verdict for the same version over the same period (the last 24h).
 */
describe('evidence: the dashboard, cleanup and retention agree on every case', () => {
  let t: TestDatabase;
  let subject: { id: number; sql: string };
  let primary: InstanceTarget;
  const replica: InstanceTarget = { url: 'postgres://x@127.0.0.1:1/replica', role: 'replica' };
  const config = { ...cleanupConfig(readEnv({ PROCVER_RETENTION_AFTER: '24h', PROCVER_RETENTION_KEEP: '1' }), { quietWindow: '24h' }), rollbackKeep: 0, rollbackDays: 0 };

  beforeAll(async () => {
    t = await createTestDatabase();
    primary = { url: t.url, role: 'primary' };
    // Two versions of app.t; the older one is the subject (the newest is always kept live by retention).
    for (const body of ['x', 'x + 1']) {
      const c = await compileFiles({ 'a.sql': `CREATE FUNCTION app.t(x integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN ${body}; END $$;` });
      await pushVersions(t.db, c, { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' });
    }
    const v = (await t.pool.query(`SELECT id::int AS id, schema, physical_name FROM procver.versions ORDER BY id LIMIT 1`)).rows[0];
    subject = { id: v.id, sql: qualifiedName(v.schema, v.physical_name) };
    await t.pool.query(`UPDATE procver.versions SET created_at = now() - interval '40 days' + make_interval(secs => id)`);
  });

  /** A clean usage history: the primary read just now, history from 40 days ago, nothing else. */
  async function baseline(): Promise<number> {
    for (const table of ['usage_samples', 'usage_hourly', 'usage_daily', 'usage_totals', 'usage_counters', 'usage_events', 'deployment_sightings', 'instances']) {
      await t.pool.query(`DELETE FROM procver.${table}`);
    }
    await t.pool.query(`UPDATE procver.versions SET may_be_inlined = false`);
    const { label, host, port } = instanceLabel(primary.url);
    const r = await t.pool.query(
      `INSERT INTO procver.instances (label, host, port, role, first_collected_at, last_collected_at, last_attempt_at, track_functions)
       VALUES ($1, $2, $3, 'primary', now() - interval '40 days', now(), now(), 'all') RETURNING id`,
      [label, host, port],
    );
    return r.rows[0].id;
  }
  const event = (instance: number, kind: string, versionId: number | null, ago = '1 hour') =>
    t.pool.query(
      `INSERT INTO procver.usage_events (instance_id, version_id, kind, from_at, to_at, resolved) VALUES ($1, $2, $3, now() - interval '${ago}' - interval '1 minute', now() - interval '${ago}', true)`,
      [instance, versionId, kind],
    );
  const counter = (instance: number, calls: number, lastCalled: string | null) =>
    t.pool.query(
      `INSERT INTO procver.usage_counters (instance_id, version_id, oid, calls, total_time, self_time, sampled_at, first_seen_at, last_called_at)
       VALUES ($1, $2, 1, $3, 0, 0, now(), now() - interval '2 hours', ${lastCalled === null ? 'NULL' : `now() - interval '${lastCalled}'`})`,
      [instance, subject.id, calls],
    );

  const cases: [string, EvidenceVerdict, EvidenceKind | null, (instance: number) => Promise<unknown>, InstanceTarget[]?][] = [
    ['nothing happened', 'silent', null, async () => undefined],
    ['a counted call', 'called', 'called', (i) => counter(i, 5, '1 hour')],
    ['failing callers (a counter row with no completed call)', 'called', 'failing_callers', (i) => counter(i, 0, null)],
    ['a tripwire hit', 'called', 'tripwire', (i) => event(i, 'tripwire', subject.id)],
    ['a gap', 'unknown', 'gap', (i) => event(i, 'gap', null)],
    ['a restart', 'unknown', 'restart', (i) => event(i, 'restart', null)],
    [
      'a reset (pg_stat_reset(): the counter went to zero), never failing callers',
      'unknown',
      'reset',
      async (i) => {
        await counter(i, 0, '3 days');
        await event(i, 'reset', subject.id);
        await event(i, 'stats_reset', null);
      },
    ],
    ['a stale reading', 'unknown', 'stale', (i) => t.pool.query(`UPDATE procver.instances SET last_collected_at = now() - interval '1 hour' WHERE id = $1`, [i])],
    ['an instance never read', 'unknown', 'never_read', async () => undefined, [replica]],
    [
      'a replica removed during the period',
      'unknown',
      'replica_removed',
      () =>
        t.pool.query(
          `INSERT INTO procver.instances (label, host, port, role, first_collected_at, last_collected_at, last_attempt_at, track_functions)
           VALUES ('127.0.0.1:1/replica', '127.0.0.1', 1, 'replica', now() - interval '40 days', now() - interval '1 hour', now() - interval '1 hour', 'all')`,
        ),
    ],
    [
      'history starting inside the period',
      'unknown',
      'uncovered',
      (i) => t.pool.query(`UPDATE procver.instances SET first_collected_at = now() - interval '1 hour' WHERE id = $1`, [i]),
    ],
    ['an inlinable SQL function', 'unknown', 'inlinable', () => t.pool.query(`UPDATE procver.versions SET may_be_inlined = true WHERE id = $1`, [subject.id])],
    ["track_functions = 'none'", 'unknown', 'not_tracked', (i) => t.pool.query(`UPDATE procver.instances SET track_functions = 'none' WHERE id = $1`, [i])],
    // Last: it changes the function itself.
    [
      'drift (other code under the hashed name)',
      'unknown',
      'drift',
      () => t.pool.query(`CREATE OR REPLACE FUNCTION ${subject.sql}(x integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 42; END $$`),
    ],
  ];

  it.each(cases)('%s: %s', async (_name, verdict, kind, arrange, extraTargets = []) => {
    const instance = await baseline();
    await arrange(instance);
    const targets = [primary, ...extraTargets];
    const now = new Date((await t.pool.query(`SELECT now()::text AS now`)).rows[0].now);
    const readAfter = new Date(now.getTime() - config.staleAfterMs);

    const evidence = (await evidenceFor(t.db, [subject.id], { from: new Date(now.getTime() - 86_400_000), now, targets, readAfter })).get(subject.id)!;
    expect(evidence.verdict).toBe(verdict);
    expect(evidence.events.map((e) => e.kind)).toEqual(kind === null ? [] : expect.arrayContaining([kind]));
    if (kind === 'reset') expect(evidence.events.map((e) => e.kind)).not.toContain('failing_callers');

    // The dashboard (24h window).
    const usage = (await usageForVersions(t.db, [subject.id], '24h', targets, config)).get(subject.id)!;
    expect(usage.evidence).toBe(verdict);
    // Unknown only when the evidence module says so: a tripwire hit or failing callers are callers,
    // and the count (no rollups here) stays known.
    expect(usage.calls).toBe(verdict === 'unknown' ? null : 0);
    expect(usage.unknownBecause.length > 0).toBe(verdict === 'unknown');
    const calledBecause: Partial<Record<EvidenceKind, unknown[]>> = {
      tripwire: [expect.stringMatching(/^the quarantine tripwire under its old name was called on 127\.0\.0\.1:\d+\/\w+ 1h ago: something still calls it$/)],
      failing_callers: [
        expect.stringMatching(
          /^callers tried it on 127\.0\.0\.1:\d+\/\w+ but no call completed \(PostgreSQL counts no failing calls\): something still calls it and fails$/,
        ),
      ],
    };
    expect(usage.calledBecause).toEqual((kind && calledBecause[kind]) ?? []);

    // Retention (the subject live): retired only when silent.
    await t.pool.query(`UPDATE procver.versions SET status = 'live' WHERE id = $1`, [subject.id]);
    const retire = await retentionCandidates(t.db, config.retention!, targets, now, readAfter);
    expect(retire.map((r) => r.versionId)).toEqual(verdict === 'silent' ? [subject.id] : []);

    // The cleanup plan (the subject retired): its usage check.
    await t.pool.query(`UPDATE procver.versions SET status = 'retired' WHERE id = $1`, [subject.id]);
    const plan = await planFromRegistry(t.db, targets, config, readAfter);
    const check = plan.rows.find((r) => r.versionId === subject.id)!.checks.find((c) => c.name === 'usage')!;
    expect(check.verdict).toBe({ called: 'fail', unknown: 'unknown', silent: 'pass' }[verdict]);
    await t.pool.query(`UPDATE procver.versions SET status = 'live' WHERE id = $1`, [subject.id]);
  });
});

describe('evidence settings', () => {
  it('come from the checked environment, an empty variable meaning the default', () => {
    expect(evidenceSettings(readEnv({}))).toEqual({ staleAfterMs: 15 * 60_000, flushDelayMs: 60_000, collectIntervalMs: 30_000 });
    expect(evidenceSettings(readEnv({ PROCVER_USAGE_STALE_AFTER: '1h', PROCVER_STATS_FLUSH_DELAY: '5s', PROCVER_COLLECT_INTERVAL: '' }))).toEqual({
      staleAfterMs: 3_600_000,
      flushDelayMs: 5_000,
      collectIntervalMs: 30_000,
    });
  });
});
