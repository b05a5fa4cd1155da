import { parseDuration } from '../durations';
import { ProcverError } from '../errors';

/**
 * PostgreSQL's PGSTAT_MIN_INTERVAL: a backend publishes its pending statistics at most once a second
 * (an idle one within 10 s, one that finds them locked within 60 s). No server publishes a call
 * sooner, so a shorter PROCVER_STATS_FLUSH_DELAY would make cleanup trust readings that cannot yet
 * show the last calls.
 */
export const PGSTAT_MIN_INTERVAL_MS = 1000;

/**
 * PROCVER_STATS_FLUSH_DELAY in milliseconds, refused below PostgreSQL's flush interval: the one parser
 * for the start-up check (lib/config.ts) and the evidence settings (lib/usage/evidence.ts).
 */
export function parseStatsFlushDelay(value: string): number {
  const ms = parseDuration(value, 'PROCVER_STATS_FLUSH_DELAY');
  if (ms < PGSTAT_MIN_INTERVAL_MS) {
    throw new ProcverError(
      'config',
      `PROCVER_STATS_FLUSH_DELAY: "${value}" is shorter than PostgreSQL takes to publish call counts (a backend sends its statistics at most once a second, an idle one within 10 s, one that finds them locked within 60 s), so cleanup would trust readings that cannot show the last calls yet; set it to at least 1s (only where the statistics are never contended, as in tests) or unset it for the default 60s`,
    );
  }
  return ms;
}
