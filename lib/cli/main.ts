import { setFlagsFromString } from 'node:v8';
import { runCli } from './run';

// libpg-query's 1.7 MB WebAssembly parser: V8's baseline compiler alone starts it in a third of the
// CPU time, and its code is not slower for what procver parses (bench/cli.ts, bench/RESULTS.md).
setFlagsFromString('--liftoff-only');

void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
