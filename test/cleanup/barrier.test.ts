import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyCleanup, quarantineNameFor } from '../../lib/cleanup/apply';
import { planCleanup } from '../../lib/cleanup/plan';
import { pushVersions } from '../../lib/push';
import { collectUsage } from '../../lib/usage/collect';
import { retireVersion } from '../../lib/versions';
import type { TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';
import { cleanupScene } from '../helpers/cleanupScene';

// The quarantine's state change and its audit entry commit together, its evidence period starts no
// later than the tripwire can first be called, and the barrier (a moment after the commit, for the
// in-flight check) is recorded afterwards without ever making a quarantine look "kept".

const scene = cleanupScene();
const { push, config, sleep, primary } = scene;
let t: TestDatabase;
beforeAll(() => {
  t = scene.t;
});

/** A retired version whose quiet window has passed: the next applied run quarantines it. */
async function quietRetired() {
  const name = `f_${randomBytes(4).toString('hex')}`;
  const c = await compileFiles({ 'a.sql': `CREATE FUNCTION app.${name}(x integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN x; END $$;` });
  await pushVersions(t.db, c, push);
  const physical = c.versions[0]!.physicalName;
  await retireVersion(t.db, { name: physical, reason: 'test', actor: 'test' });
  await sleep(2200);
  await collectUsage(t.db, primary());
  const id = Number((await t.pool.query('SELECT id FROM procver.versions WHERE physical_name = $1', [physical])).rows[0].id);
  return { physical, id };
}

async function apply(physical: string) {
  const results = await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cleanup-test', primary());
  return results.find((r) => r.physicalName === physical);
}

async function rowOf(physical: string) {
  return (await planCleanup(t.db, primary(), config)).rows.find((r) => r.physicalName === physical)!;
}

const quarantineEntry = async (physical: string) =>
  (await t.pool.query<{ at: Date }>(`SELECT at FROM procver.audit_log WHERE action = 'version.quarantine' AND target = $1`, [`app.${physical}`])).rows;

describe('cleanup: the quarantine and its barrier', () => {
  it('starts the evidence period with the rename: a tripwire call read before the barrier was recorded still puts the version back', async () => {
    const v = await quietRetired();
    expect(await apply(v.physical)).toMatchObject({ outcome: 'quarantined' });
    const [entry] = await quarantineEntry(v.physical);
    const state = (await t.pool.query('SELECT quarantined_at, quarantine_barrier_at FROM procver.versions WHERE id = $1', [v.id])).rows[0];
    // The rename, its evidence start and its audit entry: one transaction (one now()).
    expect(state.quarantined_at).toEqual(entry!.at);
    expect(state.quarantine_barrier_at.getTime()).toBeGreaterThan(entry!.at.getTime());

    // A collector's reading of the tripwire, taken the moment the rename committed (before the barrier).
    const instance = (await t.pool.query('SELECT id FROM procver.instances')).rows[0].id;
    const oid = (await t.pool.query('SELECT oid::bigint AS oid FROM pg_proc WHERE proname = $1', [v.physical])).rows[0].oid;
    await t.pool.query(
      `INSERT INTO procver.usage_events (instance_id, version_id, kind, from_at, to_at, detail, resolved)
       VALUES ($1, $2, 'tripwire', $3, $3, jsonb_build_object('oid', $4::bigint, 'calls', 1), true)`,
      [instance, v.id, entry!.at, oid],
    );
    // The quarantine (and a quiet window after the reading) passes.
    await sleep(2200);
    await collectUsage(t.db, primary());
    const row = await rowOf(v.physical);
    expect(row.checks.find((c) => c.name === 'usage')!.detail).toContainEqual(
      expect.stringMatching(/^the quarantine tripwire under its old name was called on 127\.0\.0\.1:\d+\/\w+ \d+s ago: something still calls it$/),
    );
    expect(row.action).toBe('release');
  });

  it('a barrier that cannot be recorded leaves the version quarantined (and audited), kept until a later applied run records it', async () => {
    const v = await quietRetired();
    // Refuses any later write to this quarantined row that is not a change of state: the barrier's.
    await t.pool.query(`
      CREATE FUNCTION app.refuse_barrier() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.quarantine_name IS NOT NULL AND NEW.revision = OLD.revision THEN RAISE EXCEPTION 'no barrier today'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_barrier BEFORE UPDATE ON procver.versions FOR EACH ROW WHEN (OLD.id = ${v.id}) EXECUTE FUNCTION app.refuse_barrier();`);
    try {
      expect(await apply(v.physical)).toEqual({
        physicalName: v.physical,
        schema: 'app',
        outcome: 'quarantined',
        detail: `renamed to ${quarantineNameFor(v.physical)}; its tripwire watches the old name; the moment its rename committed could not be recorded, so its drop waits until a later applied run records it (no barrier today)`,
      });
    } finally {
      await t.pool.query('DROP TRIGGER refuse_barrier ON procver.versions; DROP FUNCTION app.refuse_barrier()');
    }
    expect(await quarantineEntry(v.physical)).toHaveLength(1);
    const state = async () => (await t.pool.query('SELECT quarantine_name, quarantine_barrier_at FROM procver.versions WHERE id = $1', [v.id])).rows[0];
    expect(await state()).toEqual({ quarantine_name: quarantineNameFor(v.physical), quarantine_barrier_at: null });

    await sleep(2200); // the quarantine period passes: still no drop without the barrier
    await collectUsage(t.db, primary());
    const row = await rowOf(v.physical);
    const inFlight = row.checks.find((c) => c.name === 'in_flight')!;
    expect(inFlight.verdict).toBe('unknown');
    expect(inFlight.detail).toContain(
      'the moment its rename committed is not recorded yet, so transactions older than it cannot be told apart; the next applied run records it',
    );
    expect(row.action).toBe('keep');

    const before = new Date();
    await applyCleanup(t.db, await planCleanup(t.db, primary(), config), 'cleanup-test', primary());
    const recorded = (await state()).quarantine_barrier_at as Date;
    expect(recorded.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    expect((await rowOf(v.physical)).checks.find((c) => c.name === 'in_flight')!.detail.join()).not.toMatch(/not recorded yet/);
  });
});
