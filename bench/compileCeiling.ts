/**
 * The ceiling of a two-thread compile: the bench's 10,000 definitions split in two halves (the even
 * and the odd directories), each compiled by its own worker thread at the same time, with nothing
 * shared and nothing sent back, against one thread compiling all of them and against the floor of
 * bench/compile.ts (libpg-query parses the files). A real parallel compile must also exchange
 * every signature between the threads and resolve and hash in order, so it cannot beat this.
 * Run: npx tsx bench/compileCeiling.ts [N]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { compileDirectory } from '../lib/compile/compile';
import { loadParser, parseSync } from '../lib/compile/parser';
import { writeCompileCorpus } from './compileCorpus';
import { machine, median, percentile, report, timeInterleaved } from './lib';

const N = Number(process.argv[2] ?? 10_000);

/** A worker that compiles `files` (paths) each time it is told to, and says when it is done. */
function compileWorker(files: string[]): { run: () => Promise<void>; stop: () => Promise<number> } {
  const worker = new Worker(new URL('./compileCeilingWorker.mjs', import.meta.url), {
    workerData: { entry: new URL('./compileCeilingTask.ts', import.meta.url).href, files },
  });
  let ready: Promise<unknown> = new Promise((resolve) => worker.once('message', resolve));
  return {
    run: async () => {
      await ready;
      ready = new Promise((resolve) => worker.once('message', resolve));
      worker.postMessage('compile');
      await ready;
    },
    stop: () => worker.terminate(),
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'procver-bench-ceiling-'));
  const files = writeCompileCorpus(dir, N);
  await loadParser();
  const half = (parity: number) => files.filter((f) => Number(/^m(\d+)/.exec(f)![1]) % 2 === parity).map((f) => join(dir, f));
  const workers = [compileWorker(half(0)), compileWorker(half(1))];
  try {
    const { floor, oneThread, twoHalves } = await timeInterleaved(
      {
        floor: () => {
          for (const f of files) parseSync(readFileSync(join(dir, f), 'utf8'));
        },
        oneThread: () => compileDirectory(dir),
        twoHalves: () => Promise.all(workers.map((w) => w.run())),
      },
      7,
    );
    console.log(`machine: ${machine()}\n`);
    console.log(
      report(`compile ${N.toLocaleString('en')} definitions: one thread, and two halves in two threads at once`, [
        { name: 'compile, one thread', median: median(oneThread), p95: percentile(oneThread, 95), floorMedian: median(floor), note: 'floor: parse the files' },
        {
          name: 'two halves, two threads',
          median: median(twoHalves),
          p95: percentile(twoHalves, 95),
          floorMedian: median(floor),
          note: 'the ceiling of a two-thread compile',
        },
      ]),
    );
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
