import { index, integer, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { procver } from './procver';

export const userRole = procver.enum('user_role', ['viewer', 'operator', 'admin']);

export const users = procver.table('users', {
  id: serial('id').primaryKey(),
  /** stored lower-cased: sign-in is case-insensitive */
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  role: userRole('role').notNull(),
  /** scrypt$N$r$p$salt$hash; null for users who only come through a trusted proxy */
  passwordHash: text('password_hash'),
  disabledAt: timestamp('disabled_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Server-side sessions: the cookie carries a random token, the table only its sha256. */
export const sessions = procver.table(
  'sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('sessions_user').on(t.userId)],
);

/** Failed sign-ins, for throttling by email and by client address. */
export const signInFailures = procver.table(
  'sign_in_failures',
  {
    id: serial('id').primaryKey(),
    email: text('email').notNull(),
    client: text('client').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('sign_in_failures_email').on(t.email, t.at), index('sign_in_failures_client').on(t.client, t.at)],
);

export type User = typeof users.$inferSelect;
export type UserRole = (typeof userRole.enumValues)[number];
