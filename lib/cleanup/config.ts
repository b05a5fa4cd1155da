import { ProcverError } from '../errors';
import { retentionPolicy, type RetentionPolicy } from './retention';

const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "2h", "7d" in milliseconds. */
export function parseDuration(value: string, setting: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(value.trim());
  if (!m) throw new ProcverError('config', `${setting}: "${value}" is not a duration; use a number with s, m, h or d (e.g. 7d, 30m)`);
  return Number(m[1]) * units[m[2]!]!;
}

export function formatDuration(ms: number): string {
  for (const [u, size] of [['d', units.d!], ['h', units.h!], ['m', units.m!]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${u}`;
  }
  return `${Math.round(ms / 1000)}s`;
}

/** An elapsed time as a person reads it: its two largest units ("8d 1h", "1h 10m", "42s"). */
export function formatAge(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000));
  const parts = (['d', 'h', 'm', 's'] as const).map((u) => {
    const n = Math.floor(rest / (units[u]! / 1000));
    rest -= n * (units[u]! / 1000);
    return { n, u };
  });
  const first = parts.findIndex((p) => p.n > 0);
  if (first < 0) return '0s';
  return parts
    .slice(first, first + 2)
    .filter((p, i) => i === 0 || p.n > 0)
    .map((p) => `${p.n}${p.u}`)
    .join(' ');
}

export interface CleanupConfig {
  /** a retired version must have shown zero calls everywhere for this long */
  quietWindowMs: number;
  /** renamed versions wait this long, silent, before they are dropped */
  quarantineMs: number;
  /** previous deployments that still protect their versions: the newest N per app… */
  rollbackKeep: number;
  /** …and any that stopped being live within this many days */
  rollbackDays: number;
  /** an instance not read for longer than this makes usage unknown */
  staleAfterMs: number;
  /** how long a drop or rename may wait for a lock before it gives up (and keeps the version) */
  lockTimeoutMs: number;
  /** retires live versions nobody uses (PROCVER_RETENTION_AFTER, PROCVER_RETENTION_KEEP); null: off */
  retention: RetentionPolicy | null;
}

export function cleanupConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Record<'quietWindow' | 'quarantine', string>> = {}): CleanupConfig {
  const int = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new ProcverError('config', `${name}: "${raw}" is not a whole number`);
    return n;
  };
  return {
    quietWindowMs: parseDuration(overrides.quietWindow ?? env.PROCVER_QUIET_WINDOW ?? '7d', 'PROCVER_QUIET_WINDOW'),
    quarantineMs: parseDuration(overrides.quarantine ?? env.PROCVER_QUARANTINE ?? '1d', 'PROCVER_QUARANTINE'),
    rollbackKeep: int('PROCVER_ROLLBACK_KEEP', 2),
    rollbackDays: int('PROCVER_ROLLBACK_DAYS', 14),
    staleAfterMs: parseDuration(env.PROCVER_USAGE_STALE_AFTER ?? '15m', 'PROCVER_USAGE_STALE_AFTER'),
    lockTimeoutMs: parseDuration(env.PROCVER_CLEANUP_LOCK_TIMEOUT ?? '2s', 'PROCVER_CLEANUP_LOCK_TIMEOUT'),
    retention: retentionPolicy(env),
  };
}
