import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import LongestFirst from './test/setup/sequencer';

export default defineConfig({
  resolve: { alias: { '@': fileURLToPath(new URL('./', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    globalSetup: ['test/setup/postgres.ts', 'test/setup/cli.ts'],
    // Every test file removes its databases, roles and directories when it ends (test/helpers/disposal.ts).
    setupFiles: ['test/setup/dispose.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/setup/slowest-reporter.ts'],
    pool: 'forks',
    // Three test files at a time on two cores: the suite waits more than it computes (quiet windows,
    // quarantines, servers starting; 2 workers used 136 s of CPU in 166 s on the 2 cores), and the
    // longest files (cleanup, chaos, the rollback drill) mostly sleep. 166 s -> 126 s on this machine.
    maxWorkers: 3,
    sequence: { sequencer: LongestFirst },
    // As the CLI runs (lib/cli/main.ts): libpg-query's WebAssembly on V8's baseline compiler only,
    // instead of every test file's process also compiling the 1.7 MB parser with the optimizing one.
    execArgv: ['--liftoff-only'],
  },
});
