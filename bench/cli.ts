/**
 * CLI start-up: how long `procver help` and `procver compile` of the demo shop take as whole
 * processes, against floors measured in the same run, interleaved so machine load hits all alike:
 * `node -e 0` (Node itself), `node -e "require('pg')"` (loading one common dependency) and
 * `psql --version` (a native CLI). The CLI runs from dist/cli, as the installed package runs it.
 * Run: npx tsx bench/cli.ts [runs]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, median, percentile, report, type Figure } from './lib';

const runs = Number(process.argv[2] ?? 21);
execFileSync('npm', ['run', '--silent', 'build:cli'], { stdio: 'inherit' });
const out = mkdtempSync(join(tmpdir(), 'procver-bench-cli-'));
const cli = 'dist/cli/main.mjs';

const commands: Record<string, [string, string[]]> = {
  'node -e 0': ['node', ['-e', '0']],
  'node -e "require(\'pg\')"': ['node', ['-e', "require('pg')"]],
  'psql --version': ['psql', ['--version']],
  'procver help': ['node', [cli, 'help']],
  'procver compile examples/shop/v3': ['node', [cli, 'compile', 'examples/shop/v3', '--out', out]],
  'procver help (bin/procver.mjs, repository)': ['node', ['bin/procver.mjs', 'help']],
};

const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
for (let i = 0; i <= runs; i++) {
  for (const [name, [file, args]] of Object.entries(commands)) {
    const t0 = performance.now();
    const r = spawnSync(file, args, { stdio: 'ignore' });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
    if (i > 0) times[name]!.push(ms); // the first round warms the file cache
  }
}

const m = (k: string) => median(times[k]!);
const fig = (name: string, floor?: string, note?: string): Figure => ({
  name,
  median: m(name),
  p95: percentile(times[name]!, 95),
  floorMedian: floor ? m(floor) : undefined,
  note,
});
const pg = 'node -e "require(\'pg\')"';
console.log(`${machine()}; ${runs} runs each, interleaved\n`);
console.log(
  report('CLI start-up (whole processes)', [
    fig('node -e 0'),
    fig(pg, 'node -e 0'),
    fig('psql --version'),
    fig('procver help', pg, 'target ≤ 2× require(pg)'),
    fig('procver help (bin/procver.mjs, repository)', pg, 'checks dist/cli is newer than lib/'),
    fig('procver compile examples/shop/v3', 'node -e 0', `target ≤ 600 ms; ${(m('procver compile examples/shop/v3') / m('psql --version')).toFixed(1)}× psql --version`),
  ]),
);
