import { cpus, totalmem, platform, release } from 'node:os';

export interface Figure {
  name: string;
  median: number;
  p95: number;
  floorMedian?: number;
  note?: string;
}

/** Runs `fn` `runs` times (after `warmup` unmeasured runs) and returns the times in ms. */
export async function time(fn: () => Promise<unknown> | unknown, runs: number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/**
 * Runs each function once per round, in turn, for `rounds` rounds (after one unmeasured round):
 * a measure and its floor then see the same machine load, which on a shared 2-core machine moves
 * more than either of them.
 */
export async function timeInterleaved<K extends string>(fns: Record<K, () => Promise<unknown> | unknown>, rounds: number): Promise<Record<K, number[]>> {
  const names = Object.keys(fns) as K[];
  const out = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = -1; r < rounds; r++) {
    for (const k of names) {
      const t0 = performance.now();
      await fns[k]();
      if (r >= 0) out[k].push(performance.now() - t0);
    }
  }
  return out;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export const median = (v: number[]) => percentile(v, 50);

export function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${platform()} ${release()}, Node ${process.version}`;
}

/** The table every bench prints: median, p95, and the ratio of medians to the floor. */
export function report(title: string, figures: Figure[]): string {
  const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
  const rows = figures.map((f) => [
    f.name,
    fmt(f.median),
    fmt(f.p95),
    f.floorMedian === undefined ? '' : fmt(f.floorMedian),
    f.floorMedian === undefined ? '' : `${(f.median / f.floorMedian).toFixed(2)}×`,
    f.note ?? '',
  ]);
  const header = ['measure', 'median', 'p95', 'floor (median)', 'ratio', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [`### ${title}`, '', line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''].join('\n');
}
