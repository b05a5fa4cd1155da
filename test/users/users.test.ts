import { describe, expect, it } from 'vitest';
import {
  addUser as addUserWithCost,
  disableUser,
  hashPassword,
  PASSWORD_COST,
  type ScryptCost,
  setPassword as setPasswordWithCost,
  setRole,
  signIn as signInWithCost,
  userForSession,
  verifyPassword,
} from '../../lib/users';
import { createTestDatabase } from '../helpers/db';

/**
 * The rest of this file hashes at a low cost (1 MiB instead of 32 MiB per hash): the throttling
 * tests make over a hundred sign-in attempts, about 0.1 s each at the production cost. The first
 * two tests use the production cost, as every caller outside test/ does.
 */
const TEST_COST: ScryptCost = { N: 1024, r: 8, p: 1 };
const addUser = (...[db, input]: Parameters<typeof addUserWithCost>) => addUserWithCost(db, input, TEST_COST);
const setPassword = (...[db, email, password, actor]: Parameters<typeof setPasswordWithCost>) => setPasswordWithCost(db, email, password, actor, TEST_COST);
const signIn = (...[db, email, password, client]: Parameters<typeof signInWithCost>) => signInWithCost(db, email, password, client, TEST_COST);

describe('users and sessions', () => {
  it('hashes passwords with scrypt and a salt at the production cost, and verifies them', async () => {
    expect(PASSWORD_COST).toEqual({ N: 32768, r: 8, p: 1 });
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{88}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    // A hash records its own cost: one made at another cost verifies too.
    const low = await hashPassword('correct horse battery', TEST_COST);
    expect(low).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await verifyPassword('correct horse battery', low)).toBe(true);
    expect(await verifyPassword('correct horse batterY', low)).toBe(false);
  });

  it('adding a user and setting a password store hashes at the production cost when no cost is given', async () => {
    const t = await createTestDatabase();
    await addUserWithCost(t.db, { email: 'prod@y.z', name: 'P', role: 'viewer', password: 'long enough password', actor: 'test' });
    const stored = async () => (await t.pool.query(`SELECT password_hash FROM procver.users WHERE email = 'prod@y.z'`)).rows[0].password_hash as string;
    const added = await stored();
    expect(added).toMatch(/^scrypt\$32768\$8\$1\$/);
    await setPasswordWithCost(t.db, 'prod@y.z', 'another long password', 'admin');
    const changed = await stored();
    expect(changed).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(changed).not.toBe(added);
    expect((await signInWithCost(t.db, 'prod@y.z', 'another long password', null)).user.email).toBe('prod@y.z');
  });

  it('signs in case-insensitively, keeps no token in the database, ends sessions on disable and role change', async () => {
    const t = await createTestDatabase();
    await addUser(t.db, { email: 'Ops@Example.com', name: 'Ops', role: 'operator', password: 'long enough password', actor: 'test' });
    const s = await signIn(t.db, 'OPS@example.com', 'long enough password', 'c1');
    expect((await userForSession(t.db, s.token))?.email).toBe('ops@example.com');
    const stored = await t.pool.query('SELECT token_hash FROM procver.sessions');
    expect(stored.rows[0].token_hash).not.toContain(s.token);
    await setRole(t.db, 'ops@example.com', 'viewer', 'admin');
    expect(await userForSession(t.db, s.token)).toBeNull();
    const again = await signIn(t.db, 'ops@example.com', 'long enough password', 'c1');
    expect((await userForSession(t.db, again.token))?.role).toBe('viewer');
    await disableUser(t.db, 'ops@example.com', 'admin');
    expect(await userForSession(t.db, again.token)).toBeNull();
    await expect(signIn(t.db, 'ops@example.com', 'long enough password', 'c1')).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('expires sessions', async () => {
    const t = await createTestDatabase();
    await addUser(t.db, { email: 'a@b.c', name: 'A', role: 'admin', password: 'long enough password', actor: 'test' });
    const s = await signIn(t.db, 'a@b.c', 'long enough password', 'c');
    await t.pool.query(`UPDATE procver.sessions SET expires_at = now() - interval '1 second'`);
    expect(await userForSession(t.db, s.token)).toBeNull();
  });

  it('throttles by email and by client, and refuses short passwords and duplicates', async () => {
    const t = await createTestDatabase();
    await addUser(t.db, { email: 'x@y.z', name: 'X', role: 'viewer', password: 'long enough password', actor: 'test' });
    for (let i = 0; i < 5; i++) await expect(signIn(t.db, 'x@y.z', 'wrong', `c${i}`)).rejects.toMatchObject({ code: 'unauthorized' });
    // Locked even with the right password now.
    await expect(signIn(t.db, 'x@y.z', 'long enough password', 'c9')).rejects.toMatchObject({ code: 'rate_limited' });
    for (let i = 0; i < 30; i++) await expect(signIn(t.db, `u${i}@y.z`, 'wrong', 'one-client')).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(signIn(t.db, 'other@y.z', 'wrong', 'one-client')).rejects.toMatchObject({ code: 'rate_limited' });
    await expect(addUser(t.db, { email: 'short@y.z', name: 'S', role: 'viewer', password: 'short', actor: 't' })).rejects.toThrow(/at least 12/);
    await expect(addUser(t.db, { email: 'X@Y.Z', name: 'X', role: 'viewer', password: null, actor: 't' })).rejects.toThrow(/already exists/);
  });

  it('checks at most 5 passwords per email under any concurrency: 40 wrong at once and the right one last', async () => {
    const t = await createTestDatabase();
    await addUser(t.db, { email: 'race@y.z', name: 'R', role: 'admin', password: 'long enough password', actor: 'test' });
    const attempts = [...Array.from({ length: 40 }, (_, i) => `wrong ${i}`), 'long enough password'].map((pw, i) =>
      signIn(t.db, 'race@y.z', pw, `client-${i}`).then(
        () => 'signed in',
        (e: { code?: string }) => e.code ?? String(e),
      ),
    );
    const outcomes = await Promise.all(attempts);
    const checked = outcomes.filter((o) => o === 'unauthorized' || o === 'signed in').length;
    expect(checked).toBe(5);
    expect(outcomes.filter((o) => o === 'rate_limited').length).toBe(36);
    // The right password came last, after the five checks were used up.
    expect(outcomes[40]).toBe('rate_limited');
  });

  it('an unknown client (no trusted proxy) has no shared bucket: failures for other emails never lock a user out', async () => {
    const t = await createTestDatabase();
    await addUser(t.db, { email: 'admin@y.z', name: 'A', role: 'admin', password: 'long enough password', actor: 'test' });
    for (let i = 0; i < 40; i++) await expect(signIn(t.db, `random${i}@y.z`, 'wrong', null)).rejects.toMatchObject({ code: 'unauthorized' });
    expect((await signIn(t.db, 'admin@y.z', 'long enough password', null)).user.email).toBe('admin@y.z');
    // A known client (from a trusted proxy) that fails 30 times is refused for any email, others are not.
    for (let i = 0; i < 30; i++) await expect(signIn(t.db, `r${i}@y.z`, 'wrong', '203.0.113.7')).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(signIn(t.db, 'admin@y.z', 'long enough password', '203.0.113.7')).rejects.toMatchObject({ code: 'rate_limited' });
    expect((await signIn(t.db, 'admin@y.z', 'long enough password', '198.51.100.1')).user.email).toBe('admin@y.z');
  });

  it('a new password set by an admin lifts the lockout of that email', async () => {
    const t = await createTestDatabase();
    await addUser(t.db, { email: 'locked@y.z', name: 'L', role: 'viewer', password: 'long enough password', actor: 'test' });
    for (let i = 0; i < 5; i++) await expect(signIn(t.db, 'locked@y.z', 'wrong', null)).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(signIn(t.db, 'locked@y.z', 'long enough password', null)).rejects.toMatchObject({ code: 'rate_limited' });
    await setPassword(t.db, 'locked@y.z', 'another long password', 'admin');
    expect((await signIn(t.db, 'locked@y.z', 'another long password', null)).user.email).toBe('locked@y.z');
  });
});
