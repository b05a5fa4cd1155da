/** One worker of bench/compileCeiling.ts: compiles its files whenever the lead says so. */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { compileSources } from '../lib/compile/compile';
import { loadParser } from '../lib/compile/parser';
import { SourceText } from '../lib/compile/sourceText';

const { files } = workerData as { files: string[] };
const port = parentPort!;

async function compile(): Promise<void> {
  await compileSources(files.map((f) => new SourceText(f, readFileSync(f, 'utf8'))));
}

await loadParser();
await compile(); // warm, like the lead's unmeasured first round
port.postMessage('ready');
port.on('message', async () => {
  await compile();
  port.postMessage('done');
});
