import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { writeAudit } from './audit';
import { sessionHours } from './config';
import type { Db } from './db/client';
import { sessions, signInFailures, users, type User, type UserRole } from './db/schema';
import { ProcverError } from './errors';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;
const KEYLEN = 64;

/** scrypt's cost parameters: N (CPU and memory), r (block size), p (parallelism). */
export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/**
 * The cost of every new password hash (32 MiB and about 0.1 s per hash). The functions that hash
 * take it as their last, optional argument; only the tests pass a lower one, and no code outside
 * test/ does. A hash records its own N, r and p, so verification works for any cost.
 */
export const PASSWORD_COST: ScryptCost = { N: 32768, r: 8, p: 1 };

const derive = (password: string, salt: Buffer, keylen: number, { N, r, p }: ScryptCost) => scrypt(password, salt, keylen, { N, r, p, maxmem: 128 * N * r * 2 });

export async function hashPassword(password: string, cost: ScryptCost = PASSWORD_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, KEYLEN, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(key, expected);
}

function checkPassword(password: string): void {
  if (password.length < 12) throw new ProcverError('invalid_input', 'a password needs at least 12 characters');
  if (password.length > 1024) throw new ProcverError('invalid_input', 'a password has at most 1024 characters');
}

export async function addUser(
  db: Db,
  input: { email: string; name: string; role: UserRole; password: string | null; actor: string },
  cost: ScryptCost = PASSWORD_COST,
): Promise<User> {
  const email = input.email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new ProcverError('invalid_input', `"${input.email}" is not an email address`);
  if (input.password !== null) checkPassword(input.password);
  const passwordHash = input.password === null ? null : await hashPassword(input.password, cost);
  return db.transaction(async (tx) => {
    const [u] = await tx.insert(users).values({ email, name: input.name, role: input.role, passwordHash }).onConflictDoNothing().returning();
    if (!u) throw new ProcverError('conflict', `a user ${email} already exists`);
    await writeAudit(tx, { actor: input.actor, action: 'user.add', targetType: 'registry', target: `user:${email}`, after: { role: input.role } });
    return u;
  });
}

export async function listUsers(db: Db) {
  return db
    .select({ email: users.email, name: users.name, role: users.role, disabledAt: users.disabledAt, createdAt: users.createdAt })
    .from(users)
    .orderBy(asc(users.email));
}

async function changeUser(db: Db, email: string, actor: string, action: string, set: Partial<typeof users.$inferInsert>, after: unknown) {
  return db.transaction(async (tx) => {
    const [u] = await tx.select().from(users).where(eq(users.email, email.trim().toLowerCase())).for('update');
    if (!u) throw new ProcverError('not_found', `no user ${email}`);
    await tx.update(users).set(set).where(eq(users.id, u.id));
    // Disabling or changing a role ends the user's sessions: the next request signs in afresh.
    await tx.delete(sessions).where(eq(sessions.userId, u.id));
    await writeAudit(tx, { actor, action, targetType: 'registry', target: `user:${u.email}`, before: { role: u.role, disabled: u.disabledAt !== null }, after });
  });
}

export function setRole(db: Db, email: string, role: UserRole, actor: string) {
  return changeUser(db, email, actor, 'user.set_role', { role }, { role });
}

export function disableUser(db: Db, email: string, actor: string) {
  return changeUser(db, email, actor, 'user.disable', { disabledAt: new Date() }, { disabled: true });
}

export async function setPassword(db: Db, email: string, password: string, actor: string, cost: ScryptCost = PASSWORD_COST) {
  checkPassword(password);
  await changeUser(db, email, actor, 'user.set_password', { passwordHash: await hashPassword(password, cost) }, { password: 'changed' });
  // A new password from an admin is also how a locked-out user gets back in at once.
  await db.delete(signInFailures).where(eq(signInFailures.email, email.trim().toLowerCase()));
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const WINDOW_MINUTES = 15;
const MAX_FAILURES_PER_EMAIL = 5;
const MAX_FAILURES_PER_CLIENT = 30;
// Advisory lock namespaces (two-key form): one lock per email, one per client address.
const EMAIL_LOCK = 0x7369676e; // 'sign'
const CLIENT_LOCK = 0x636c6e74; // 'clnt'
/** sign_in_failures.client for an attempt whose client is unknown (no trusted proxy): never counted per client. */
const UNKNOWN_CLIENT = '';

/**
 * Admits one password check, or refuses it when the email (or the known client) used up its
 * attempts. Runs under an advisory lock per email (and per client), and records the attempt as a
 * failure before the password is checked: concurrent attempts queue on the lock and each sees
 * the ones admitted before it, so no more than 5 checks per email per window ever run.
 * Locks are always taken email first, then client, so two attempts cannot deadlock.
 */
async function admitAttempt(db: Db, email: string, client: string | null): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${EMAIL_LOCK}, hashtext(${email}))`);
    if (client !== null) await tx.execute(sql`SELECT pg_advisory_xact_lock(${CLIENT_LOCK}, hashtext(${client}))`);
    const recent = await tx.execute<{ by_email: number; by_client: number }>(sql`
      SELECT count(*) FILTER (WHERE email = ${email})::int AS by_email,
             count(*) FILTER (WHERE ${client !== null} AND client = ${client ?? UNKNOWN_CLIENT})::int AS by_client
      FROM procver.sign_in_failures
      WHERE (email = ${email} OR client = ${client ?? UNKNOWN_CLIENT}) AND at > now() - make_interval(mins => ${WINDOW_MINUTES})`);
    const { by_email, by_client } = recent.rows[0]!;
    if (by_email >= MAX_FAILURES_PER_EMAIL || by_client >= MAX_FAILURES_PER_CLIENT) {
      throw new ProcverError('rate_limited', `too many failed sign-ins; try again in ${WINDOW_MINUTES} minutes`);
    }
    const [row] = await tx
      .insert(signInFailures)
      .values({ email, client: client ?? UNKNOWN_CLIENT })
      .returning({ id: signInFailures.id });
    return row!.id;
  });
}

/**
 * Email + password sign-in with throttling: at most 5 password checks per email within 15
 * minutes, and 30 per client when the client is known (its address from a trusted proxy, see
 * lib/web/trustedProxy.ts). An unknown client has no bucket of its own, so nobody can lock out
 * every user at once; the price is that someone who knows an email can keep that one account
 * locked (an admin lifts it with a new password). A success clears the email's failures.
 * `cost` is that of the hash made for an unknown email (PASSWORD_COST unless a test lowers it).
 */
export async function signIn(
  db: Db,
  email: string,
  password: string,
  client: string | null,
  cost: ScryptCost = PASSWORD_COST,
): Promise<{ token: string; user: User; expiresAt: Date }> {
  const normalized = email.trim().toLowerCase();
  await admitAttempt(db, normalized, client);
  const [u] = await db.select().from(users).where(eq(users.email, normalized));
  // Hash even for an unknown user (at the cost new hashes get), so timing does not tell which emails exist.
  const ok = u?.passwordHash ? await verifyPassword(password, u.passwordHash) : await hashPassword(password, cost).then(() => false);
  if (!u || !ok || u.disabledAt) throw new ProcverError('unauthorized', 'wrong email or password');
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + sessionHours() * 3_600_000);
  await db.transaction(async (tx) => {
    await tx.insert(sessions).values({ tokenHash: sha256(token), userId: u.id, expiresAt });
    await tx.delete(signInFailures).where(eq(signInFailures.email, normalized));
  });
  return { token, user: u, expiresAt };
}

/** The user a session token belongs to, if the session is valid and the user enabled. */
export async function userForSession(db: Db, token: string): Promise<User | null> {
  const rows = await db
    .select({ user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, sha256(token)), gt(sessions.expiresAt, sql`now()`)));
  const u = rows[0]?.user;
  if (!u || u.disabledAt) return null;
  await db
    .update(sessions)
    .set({ lastSeenAt: sql`now()` })
    .where(eq(sessions.tokenHash, sha256(token)));
  return u;
}

export async function signOut(db: Db, token: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.tokenHash, sha256(token)));
}

/** Users coming through a trusted authenticating proxy are matched by email. */
export async function userByEmail(db: Db, email: string): Promise<User | null> {
  const [u] = await db.select().from(users).where(eq(users.email, email.trim().toLowerCase()));
  return u && !u.disabledAt ? u : null;
}
