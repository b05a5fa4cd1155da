import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadAllCommands } from '../../lib/cli/registry';

/** The README's CLI table: the command cell of every row, grouped by command name. */
function readmeCommandCells(): Map<string, string[]> {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('\n## CLI\n'), readme.indexOf('\n### Example workflow'));
  const cells = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const m = /^\| `procver ([a-z-]+)([^`]*)` \|/.exec(line);
    if (m) cells.set(m[1]!, [...(cells.get(m[1]!) ?? []), m[2]!]);
  }
  return cells;
}

const optionsIn = (cells: string[]) => [...new Set(cells.flatMap((c) => [...c.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]!)))].sort();

describe('README CLI table', () => {
  it('lists every declared command, no other, with the same options', async () => {
    const commands = await loadAllCommands();
    const cells = readmeCommandCells();
    expect([...cells.keys()].sort()).toEqual(commands.map((c) => c.name).sort());
    for (const c of commands) {
      expect({ command: c.name, options: optionsIn(cells.get(c.name)!) }).toEqual({ command: c.name, options: Object.keys(c.options).sort() });
    }
  });

  it('declares every option a usage line shows, and shows every declared option in some usage line', async () => {
    for (const c of await loadAllCommands()) {
      expect({ command: c.name, options: optionsIn(c.usage) }).toEqual({ command: c.name, options: Object.keys(c.options).sort() });
    }
  });
});
