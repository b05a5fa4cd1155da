import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

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
    // Two cores: keep the server and the test files from starving each other.
    maxWorkers: 2,
    // As the CLI runs (lib/cli/main.ts): libpg-query's WebAssembly on V8's baseline compiler only,
    // instead of every test file's process also compiling the 1.7 MB parser with the optimizing one.
    execArgv: ['--liftoff-only'],
  },
});
