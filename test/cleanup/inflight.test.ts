import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { inFlightCheck, oldestTransactions, type Candidate } from '../../lib/cleanup/plan';
import { cleanupConfig } from '../../lib/cleanup/config';
import { tripwireWouldForward } from '../../lib/cleanup/tripwire';
import { instanceLabel } from '../../lib/usage/readInstance';
import { createTestDatabase, createTestRole, type TestDatabase } from '../helpers/db';

const config = cleanupConfig({ PROCVER_STATS_FLUSH_DELAY: '1s', PROCVER_COLLECT_INTERVAL: '1s' }, { quietWindow: '2s', quarantine: '2s' });
const quarantined: Candidate = {
  id: 1,
  schema: 'app',
  physical_name: 'f__0123456789',
  quarantine_name: 'f__0123456789__quarantined',
  quarantined_at: null,
  quarantine_barrier_at: null,
  quarantine_barrier_lsn: null,
  replica_barriers: {},
  status_changed_at: new Date(0).toISOString(),
  language: 'plpgsql',
  may_be_inlined: false,
  revision: 1,
  procedure: 'app.f()',
};

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});

/** t.url as `role` (a login role with a password, so that any authentication method lets it in). */
async function urlAs(label: string): Promise<{ role: string; url: string }> {
  const role = await createTestRole(label, { login: true });
  await t.pool.query(`ALTER ROLE ${pg.escapeIdentifier(role)} PASSWORD 'pw'`);
  const u = new URL(t.url);
  u.username = role;
  u.password = 'pw';
  return { role, url: u.toString() };
}

async function openTransaction(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('BEGIN');
  await c.query('SELECT 1');
  return c;
}

describe('cleanup: in-flight check without the right to see other sessions', () => {
  it('keeps a quarantined version (unknown) while another role holds a transaction we cannot see, naming the grant; with pg_read_all_stats it sees it', async () => {
    const cleaner = await urlAs('cleaner');
    const other = await urlAs('other');
    const old = await openTransaction(other.url);
    try {
      const rename = new Date((await t.pool.query<{ now: string }>('SELECT clock_timestamp()::text AS now')).rows[0]!.now);
      const now = new Date(rename.getTime() + config.quarantineMs + 1000);
      const at = (oldest: Awaited<ReturnType<typeof oldestTransactions>>) =>
        inFlightCheck({ ...quarantined, quarantine_barrier_at: rename.toISOString() }, rename, oldest, now, config, true);

      const blind = await oldestTransactions([{ url: cleaner.url, role: 'primary' }]);
      expect(blind[0]!.oldest).toBeNull(); // the other role's xact_start is NULL to us
      const check = at(blind);
      expect(check.verdict).toBe('unknown');
      expect(check.detail).toEqual([
        expect.stringMatching(
          new RegExp(
            `^cannot see when the transactions of [1-9]\\d* other session\\(s\\) on .* started: role ${cleaner.role} may not read their pg_stat_activity rows; run GRANT pg_read_all_stats TO "?${cleaner.role}"? there$`,
          ),
        ),
      ]);

      await t.pool.query(`GRANT pg_read_all_stats TO ${pg.escapeIdentifier(cleaner.role)}`);
      const seeing = at(await oldestTransactions([{ url: cleaner.url, role: 'primary' }]));
      expect(seeing.verdict).toBe('fail');
      expect(seeing.detail.join()).toMatch(/a transaction open on .* started before the rename/);
    } finally {
      await old.query('ROLLBACK');
      await old.end();
    }
  });

  it("a superuser sees every session: nothing hidden, the other role's transaction is dated", async () => {
    const other = await urlAs('other');
    const old = await openTransaction(other.url);
    try {
      const started = new Date((await old.query<{ s: string }>('SELECT xact_start::text AS s FROM pg_stat_activity WHERE pid = pg_backend_pid()')).rows[0]!.s);
      const [oldest] = await oldestTransactions([{ url: t.url, role: 'primary' }]);
      expect(oldest!.hidden).toBeUndefined();
      expect(oldest!.error).toBeUndefined();
      expect(oldest!.oldest!.getTime()).toBeLessThanOrEqual(started.getTime());
    } finally {
      await old.query('ROLLBACK');
      await old.end();
    }
  });
});

describe('cleanup: the in-flight check on an instance configured as a replica', () => {
  it('keeps the version, naming why, when the server replays no WAL or the WAL position of the rename is not recorded', async () => {
    const [asReplica] = await oldestTransactions([{ url: t.url, role: 'replica' }]);
    expect(asReplica).toMatchObject({ role: 'replica', replayLsn: null });
    const rename = new Date();
    const now = new Date(rename.getTime() + config.quarantineMs + 1000);
    const c = { ...quarantined, quarantine_barrier_at: rename.toISOString(), quarantine_barrier_lsn: '0/16B3748' };
    const { label } = instanceLabel(t.url);
    expect(inFlightCheck(c, rename, [asReplica!], now, config, true)).toEqual({
      name: 'in_flight',
      verdict: 'unknown',
      detail: [`replica ${label} replays no WAL (it is not a standby), so when it applied the rename cannot be told; is it configured as a replica by mistake?`],
    });
    expect(inFlightCheck({ ...c, quarantine_barrier_lsn: null }, rename, [asReplica!], now, config, true).detail).toEqual([
      'the WAL position of its rename is not recorded yet, so when each replica applied it cannot be told; the next applied run records it',
    ]);
  });
});

describe('cleanup: the in-flight check says what the tripwire will do with each call', () => {
  const notYet = (forwards?: boolean) => inFlightCheck(quarantined, null, [], new Date(), config, false, forwards).detail;
  const words = (tripwire: string) => [
    `not quarantined yet: callers take no lock on a function, so it is first renamed to a quarantine name, with a tripwire under its old name that ${tripwire}, and dropped only after 2s with no call and no transaction older than the rename`,
  ];

  it('forwards where the shape allows, refuses a trigger or SETOF record function, and says so', async () => {
    await t.pool.query(`
      CREATE SCHEMA words;
      CREATE FUNCTION words.plain(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT x $$;
      CREATE FUNCTION words.trig() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
      CREATE FUNCTION words.rows() RETURNS SETOF record LANGUAGE sql AS $$ SELECT 1, 2 $$;
      CREATE FUNCTION words.table_rows() RETURNS TABLE (a integer) LANGUAGE sql AS $$ SELECT 1 $$;
      CREATE FUNCTION words.twice(x integer) RETURNS integer LANGUAGE sql AS $$ SELECT x $$;
      CREATE FUNCTION words.twice(x text) RETURNS text LANGUAGE sql AS $$ SELECT x $$;`);
    const names = ['plain', 'trig', 'rows', 'table_rows', 'twice', 'missing'].map((name) => ({ schema: 'words', name }));
    expect(await tripwireWouldForward(t.db, names)).toEqual(
      new Map([
        ['words.plain', true],
        ['words.trig', false],
        ['words.rows', false],
        ['words.table_rows', true],
      ]),
    );
    expect(notYet(true)).toEqual(words('forwards every call and counts it'));
    expect(notYet(false)).toEqual(words('counts every call and refuses it (a call to a trigger, pseudo-type or SETOF record function cannot be forwarded)'));
    expect(notYet(undefined)).toEqual(words('counts every call and forwards it where the function can be called through another (else refuses it)'));
  });
});
