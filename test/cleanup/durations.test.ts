import { describe, expect, it } from 'vitest';
import { formatAge, formatDuration, parseDuration } from '../../lib/cleanup/config';
import { collectIntervalMs } from '../../lib/cli/commands/collect';

describe('durations in the cleanup settings and plan', () => {
  it('parses settings and names the setting when a value is not a duration', () => {
    expect(parseDuration('7d', 'PROCVER_QUIET_WINDOW')).toBe(7 * 86_400_000);
    expect(parseDuration(' 30m ', 'PROCVER_QUIET_WINDOW')).toBe(30 * 60_000);
    expect(parseDuration('1.5h', 'PROCVER_QUIET_WINDOW')).toBe(5_400_000);
    expect(() => parseDuration('7 days', 'PROCVER_QUIET_WINDOW')).toThrow(/PROCVER_QUIET_WINDOW: "7 days" is not a duration/);
  });

  it('collect --interval takes what PROCVER_COLLECT_INTERVAL takes, and bare seconds as before; settings keep their unit required', () => {
    expect(collectIntervalMs('1s')).toBe(1000);
    expect(collectIntervalMs('5m')).toBe(300_000);
    expect(collectIntervalMs('30')).toBe(30_000);
    expect(collectIntervalMs('0.5')).toBe(500);
    expect(collectIntervalMs(undefined)).toBe(30_000); // PROCVER_COLLECT_INTERVAL's default
    expect(() => collectIntervalMs('soon')).toThrow('--interval: "soon" is not a duration; use a number of seconds, or a number with s, m, h or d (e.g. 30, 30s, 5m)');
    expect(() => collectIntervalMs('0s')).toThrow('--interval must be longer than 0 (got "0s")');
    expect(() => parseDuration('30', 'PROCVER_COLLECT_INTERVAL')).toThrow(
      'PROCVER_COLLECT_INTERVAL: "30" is not a duration; use a number with s, m, h or d (e.g. 7d, 30m)',
    );
  });

  it('prints a setting back in the unit it was given in', () => {
    expect(formatDuration(7 * 86_400_000)).toBe('7d');
    expect(formatDuration(90 * 60_000)).toBe('90m');
  });

  it('prints an elapsed time in its two largest units, never as a pile of seconds', () => {
    expect(formatAge(0)).toBe('0s');
    expect(formatAge(-5000)).toBe('0s');
    expect(formatAge(42_400)).toBe('42s');
    expect(formatAge(4236_000)).toBe('1h 10m');
    expect(formatAge(695_436_000)).toBe('8d 1h');
    expect(formatAge(86_400_000 + 59_000)).toBe('1d');
  });
});
