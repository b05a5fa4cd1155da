import { readEnv, type Env } from '../config';
import { parseDuration } from '../durations';
import { evidenceSettings, type EvidenceSettings } from '../usage/evidence';
import { retentionPolicy, type RetentionPolicy } from './retention';

// The duration helpers live in lib/durations.ts so that retention.ts needs nothing from this file.
export { formatAge, formatDuration, parseDuration } from '../durations';

/** Also how fine-grained the usage evidence is (stale readings, stats flush delay, collection interval). */
export interface CleanupConfig extends EvidenceSettings {
  /** a retired version must have shown zero calls everywhere for this long */
  quietWindowMs: number;
  /** renamed versions wait this long, silent, before they are dropped */
  quarantineMs: number;
  /** previous deployments that still protect their versions: the newest N per app… */
  rollbackKeep: number;
  /** …and any that stopped being live within this many days */
  rollbackDays: number;
  /** how long a drop or rename may wait for a lock before it gives up (and keeps the version) */
  lockTimeoutMs: number;
  /** retires live versions nobody uses (PROCVER_RETENTION_AFTER, PROCVER_RETENTION_KEEP); null: off */
  retention: RetentionPolicy | null;
}

/** The settings from lib/config.ts (checked there); `overrides` are the cleanup command's flags, which win. */
export function cleanupConfig(env: Env = readEnv(), overrides: Partial<Record<'quietWindow' | 'quarantine', string>> = {}): CleanupConfig {
  return {
    quietWindowMs:
      overrides.quietWindow !== undefined
        ? parseDuration(overrides.quietWindow, '--quiet-window')
        : parseDuration(env.PROCVER_QUIET_WINDOW ?? '7d', 'PROCVER_QUIET_WINDOW'),
    quarantineMs:
      overrides.quarantine !== undefined ? parseDuration(overrides.quarantine, '--quarantine') : parseDuration(env.PROCVER_QUARANTINE ?? '1d', 'PROCVER_QUARANTINE'),
    rollbackKeep: env.PROCVER_ROLLBACK_KEEP ?? 2,
    rollbackDays: env.PROCVER_ROLLBACK_DAYS ?? 14,
    ...evidenceSettings(env),
    lockTimeoutMs: parseDuration(env.PROCVER_CLEANUP_LOCK_TIMEOUT ?? '2s', 'PROCVER_CLEANUP_LOCK_TIMEOUT'),
    retention: retentionPolicy(env),
  };
}
