/** Plain-text table with aligned columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Progress on stderr for long work; silent for small sets and when stderr is not a terminal. */
export function progressBar(label: string, threshold = 50) {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let shown = false;
  return {
    update: (done: number, total: number) => {
      if (total < threshold) return;
      const now = Date.now();
      if (done !== total && now - last < 200) return;
      last = now;
      shown = true;
      const msg = `${label}: ${done}/${total} (${Math.floor((done / total) * 100)}%)`;
      if (tty) process.stderr.write(`\r${msg}`);
      else if (done === total || done % Math.ceil(total / 10) === 0) process.stderr.write(`${msg}\n`);
    },
    done: () => {
      if (shown && tty) process.stderr.write('\n');
    },
  };
}
