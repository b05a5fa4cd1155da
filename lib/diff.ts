export interface DiffRow {
  kind: 'same' | 'removed' | 'added' | 'changed';
  left: { line: number; text: string } | null;
  right: { line: number; text: string } | null;
}

/**
 * Side-by-side line diff (longest common subsequence). Function sources are a few hundred lines
 * at most, so the quadratic table is small; beyond 4,000 lines each side it falls back to a
 * whole-block comparison rather than using unbounded memory.
 */
export function diffLines(a: string, b: string): DiffRow[] {
  const left = a.split('\n');
  const right = b.split('\n');
  if (left.length * right.length > 16_000_000) {
    return pairUp(
      left.map((t, i) => ({ line: i + 1, text: t })),
      right.map((t, i) => ({ line: i + 1, text: t })),
    );
  }
  const n = left.length;
  const m = right.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = left[i] === right[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const rows: DiffRow[] = [];
  let removed: { line: number; text: string }[] = [];
  let added: { line: number; text: string }[] = [];
  const flush = () => {
    rows.push(...pairUp(removed, added));
    removed = [];
    added = [];
  };
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && left[i] === right[j]) {
      flush();
      rows.push({ kind: 'same', left: { line: i + 1, text: left[i]! }, right: { line: j + 1, text: right[j]! } });
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      added.push({ line: j + 1, text: right[j]! });
      j++;
    } else {
      removed.push({ line: i + 1, text: left[i]! });
      i++;
    }
  }
  flush();
  return rows;
}

/** Removed and added runs side by side: paired lines are "changed", the rest removed/added. */
function pairUp(removed: { line: number; text: string }[], added: { line: number; text: string }[]): DiffRow[] {
  const rows: DiffRow[] = [];
  for (let k = 0; k < Math.max(removed.length, added.length); k++) {
    const l = removed[k] ?? null;
    const r = added[k] ?? null;
    rows.push({ kind: l && r ? 'changed' : l ? 'removed' : 'added', left: l, right: r });
  }
  return rows;
}
