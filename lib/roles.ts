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

/**
 * The role a version's retire or restore needs (also a dropped version's, and a deployment's
 * "restore its versions"), and the role that may override a refusal (a version still referenced).
 * Route handlers enforce these; pages show a button only to whom the route would admit.
 */
export const versionNeeds = { retireOrRestore: 'operator', override: 'admin' } as const satisfies Record<string, Role>;
