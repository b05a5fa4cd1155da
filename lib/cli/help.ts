import type { Command } from './command';

const environment = `Environment: DATABASE_URL (required except for compile and dev), PROCVER_ACTOR (audit name),
PROCVER_GRANT_EXECUTE (roles granted EXECUTE on new versions), PROCVER_PUBLIC_EXECUTE=false,
PROCVER_REPLICA_URLS (replicas to collect from), PROCVER_SAMPLE_RETENTION_DAYS (default 14),
PROCVER_HOURLY_RETENTION_DAYS (default 8; daily rollups are kept). Every setting, and its key in
procver.config.json: README "Configuration". All are checked at start; a bad one exits 3.
`;

/** Words of text wrapped to lines of at most `width` characters, each indented. */
function wrap(text: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** `procver help`: every command's synopsis and summary, from the declarations. */
export function helpText(commands: Command[]): string {
  const lines = ['procver: versioned PostgreSQL functions and procedures', '', 'Usage: procver <command> [options]   (procver help <command> for its options)', ''];
  for (const c of commands) {
    for (const u of c.usage) lines.push(`  ${u}`);
    lines.push(...wrap(c.summary, '        '));
  }
  return `${lines.join('\n')}\n\n${environment}`;
}

/** `procver help <command>`: its synopsis, summary and every option. */
export function commandHelp(c: Command): string {
  const lines = c.usage.map((u, i) => `${i === 0 ? 'Usage: procver' : '       procver'} ${u}`);
  lines.push('', ...wrap(c.summary, ''));
  const options = Object.entries(c.options);
  if (options.length > 0) {
    lines.push('', 'Options:');
    const labels = options.map(([name, o]) => `--${name}${o.value ? ` ${o.value}` : ''}`);
    const width = Math.max(...labels.map((l) => l.length));
    options.forEach(([, o], i) => {
      lines.push(`  ${labels[i]!.padEnd(width)}  ${o.description}`);
    });
  }
  return `${lines.join('\n')}\n`;
}
