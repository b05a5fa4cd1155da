import { userInfo } from 'node:os';
import { z } from 'zod';
import { ProcverError } from './errors';

// An empty variable means unset (as shells and CI systems often pass them).
const optional = <T extends z.ZodTypeAny>(t: T) => z.preprocess((v) => (v === '' ? undefined : v), t.optional());

const envSchema = z.object({
  DATABASE_URL: optional(z.string()),
  /** who the CLI acts as, recorded in the audit log */
  PROCVER_ACTOR: optional(z.string()),
  /** roles that get EXECUTE on every new version, comma-separated */
  PROCVER_GRANT_EXECUTE: optional(z.string()),
  /** replicas whose function counters are read too, comma-separated connection URLs */
  PROCVER_REPLICA_URLS: optional(z.string()),
  /** days raw usage samples are kept (hourly rollups are kept) */
  PROCVER_SAMPLE_RETENTION_DAYS: optional(z.coerce.number().int().positive()),
  /** days hourly rollups are kept (daily rollups are kept); at least 2 */
  PROCVER_HOURLY_RETENTION_DAYS: optional(z.coerce.number().int().min(2)),
  /** "false" revokes PostgreSQL's default EXECUTE for PUBLIC on new versions */
  PROCVER_PUBLIC_EXECUTE: optional(z.enum(['true', 'false'])),
  /** which versions get their own Prometheus series: "all" (live and retired) or "retired" */
  PROCVER_METRICS_VERSIONS: optional(z.enum(['all', 'retired'])),
});

export type Env = z.infer<typeof envSchema>;

export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ProcverError('config', `environment variable ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

export function databaseUrl(env: Env = readEnv()): string {
  if (!env.DATABASE_URL) {
    throw new ProcverError(
      'config',
      'DATABASE_URL is not set: point it at the PostgreSQL database procver manages (e.g. postgres://user:pass@host:5432/db)',
    );
  }
  return env.DATABASE_URL;
}

export function actor(env: Env = readEnv()): string {
  if (env.PROCVER_ACTOR) return env.PROCVER_ACTOR;
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

export interface GrantPolicy {
  /** roles that get EXECUTE on each new version */
  roles: string[];
  /** whether PUBLIC keeps EXECUTE (never for SECURITY DEFINER versions) */
  publicExecute: boolean;
}

export function grantPolicy(env: Env = readEnv()): GrantPolicy {
  const roles = (env.PROCVER_GRANT_EXECUTE ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  return { roles, publicExecute: env.PROCVER_PUBLIC_EXECUTE !== 'false' };
}

/** The instances whose counters are collected: the primary and every configured replica. */
export function usageTargets(env: Env = readEnv()): { url: string; role: 'primary' | 'replica' }[] {
  const replicas = (env.PROCVER_REPLICA_URLS ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  for (const r of replicas) {
    try {
      new URL(r);
    } catch {
      throw new ProcverError('config', `PROCVER_REPLICA_URLS: "${r.replace(/:[^:@/]*@/, ':***@')}" is not a connection URL`);
    }
  }
  return [{ url: databaseUrl(env), role: 'primary' }, ...replicas.map((url) => ({ url, role: 'replica' as const }))];
}

/** Per-version Prometheus series for live and retired versions, or for retired ones only (fewer series at scale). */
export function metricsVersions(env: Env = readEnv()): 'all' | 'retired' {
  return env.PROCVER_METRICS_VERSIONS ?? 'all';
}
