import type { UserRole } from './db/schema';

/**
 * What a dashboard role may do (README "Who may do what"): the one place pages, route handlers and
 * the decisions behind them ask. Without Next.js, so that those decisions run in tests and the CLI too.
 */
export type Role = UserRole;

const rank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function hasRole(who: { role: Role }, min: Role): boolean {
  return rank[who.role] >= rank[min];
}

/**
 * The role each cleanup action needs: a dry run (it reads every instance: a state change, kept
 * from viewers) and an applied run.
 */
export const cleanupNeeds = { check: 'operator', apply: 'admin' } as const satisfies Record<string, Role>;
