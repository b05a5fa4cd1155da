/**
 * Compile: N definitions from files → manifest, against two floors measured in the same run:
 * parsing the files with libpg-query (the function bodies stay opaque strings), and parsing the
 * files and every body with PostgreSQL's own parsers (PL/pgSQL's for PL/pgSQL, the SQL parser for
 * SQL), which a compiler that finds calls inside bodies cannot do without.
 * Run: npx tsx bench/compile.ts [N]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileDirectory } from '../lib/compile/compile';
import { buildManifest } from '../lib/compile/outputs';
import { loadParser, parsePlPgSQLSync, parseSync } from '../lib/compile/parser';
import { writeCompileCorpus } from './compileCorpus';
import { machine, median, percentile, report, timeInterleaved } from './lib';

const N = Number(process.argv[2] ?? 10_000);

/** The file parsed, then each definition's body with the parser PostgreSQL uses for its language. */
function parseWithBodies(text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  for (const s of parseSync(text).stmts ?? []) {
    const create = (s.stmt as { CreateFunctionStmt?: { options?: { DefElem: { defname: string; arg?: unknown } }[] } }).CreateFunctionStmt;
    if (!create) continue;
    const option = (name: string) => create.options?.find((o) => o.DefElem.defname === name)?.DefElem.arg;
    const language = (option('language') as { String?: { sval?: string } } | undefined)?.String?.sval;
    if (language === 'plpgsql') {
      const start = s.stmt_location ?? 0;
      parsePlPgSQLSync(bytes.subarray(start, start + (s.stmt_len ?? bytes.length)).toString('utf8'));
    } else {
      const body = (option('as') as { List?: { items?: { String?: { sval?: string } }[] } } | undefined)?.List?.items?.[0]?.String?.sval;
      if (body) parseSync(body);
    }
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'procver-bench-compile-'));
  const files = writeCompileCorpus(dir, N);
  await loadParser();
  let count = 0;
  const { floor, withBodies, runs } = await timeInterleaved(
    {
      floor: () => {
        for (const f of files) parseSync(readFileSync(join(dir, f), 'utf8'));
      },
      withBodies: () => {
        for (const f of files) parseWithBodies(readFileSync(join(dir, f), 'utf8'));
      },
      runs: async () => {
        const r = await compileDirectory(dir);
        count = buildManifest(r).procedures.length;
      },
    },
    7,
  );
  rmSync(dir, { recursive: true, force: true });
  const m = median(runs);
  console.log(`machine: ${machine()}\n`);
  console.log(
    report(`compile ${N.toLocaleString('en')} definitions (${files.length} files)`, [
      {
        name: 'procver compile → manifest',
        median: m,
        p95: percentile(runs, 95),
        floorMedian: median(floor),
        note: `${((m / count) * 1000).toFixed(0)} µs per definition; floor: parse the files`,
      },
      {
        name: 'procver compile → manifest',
        median: m,
        p95: percentile(runs, 95),
        floorMedian: median(withBodies),
        note: 'floor: parse the files and every body',
      },
    ]),
  );
  if (count !== N) throw new Error(`compiled ${count}, expected ${N}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
