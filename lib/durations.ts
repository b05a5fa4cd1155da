import { ProcverError } from './errors';

const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * "90s", "15m", "2h", "7d" in milliseconds. `bareSeconds`: a number without a unit is seconds too
 * (`collect --interval 30`, as it always took); settings keep their unit required.
 */
export function parseDuration(value: string, setting: string, opts: { bareSeconds?: boolean } = {}): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd])?$/.exec(value.trim());
  if (!m || (m[2] === undefined && !opts.bareSeconds)) {
    const syntax = opts.bareSeconds ? 'use a number of seconds, or a number with s, m, h or d (e.g. 30, 30s, 5m)' : 'use a number with s, m, h or d (e.g. 7d, 30m)';
    throw new ProcverError('config', `${setting}: "${value}" is not a duration; ${syntax}`);
  }
  return Number(m[1]) * units[m[2] ?? 's']!;
}

export function formatDuration(ms: number): string {
  for (const [u, size] of [
    ['d', units.d!],
    ['h', units.h!],
    ['m', units.m!],
  ] as const) {
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
