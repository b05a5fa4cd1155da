import { describe, expect, it } from 'vitest';
import { summarizePlan } from '../../lib/cleanup/summary';

describe('the plan summary (CLI, Cleanup page, dry run)', () => {
  const rows = [
    ...Array.from({ length: 1200 }, () => ({ action: 'keep' })),
    { action: 'drop' },
    { action: 'quarantine' },
    { action: 'quarantine' },
    { action: 'release' },
  ];
  it('counts each action, with the total when asked', () => {
    expect(summarizePlan(rows)).toBe('1 to drop, 2 to quarantine, 1 to put back from quarantine, 1200 kept');
    expect(summarizePlan(rows, { total: true })).toBe('1204 retired version(s): 1 to drop, 2 to quarantine, 1 to put back from quarantine, 1200 kept');
    expect(summarizePlan(rows, { total: true, grouped: true })).toBe('1,204 retired version(s): 1 to drop, 2 to quarantine, 1 to put back from quarantine, 1,200 kept');
    expect(summarizePlan([], { total: true })).toBe('0 retired version(s): 0 to drop, 0 to quarantine, 0 to put back from quarantine, 0 kept');
  });
});
