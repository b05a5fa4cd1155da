import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

const SHOWN = 10;

/**
 * Prints the ten slowest tests (and test files, whose time includes their beforeAll set-up)
 * after the run, so that CI shows where the suite's time goes.
 */
export default class SlowestReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>) {
    const line = (ms: number, label: string) => `  ${(ms / 1000).toFixed(1).padStart(6)} s  ${label}`;
    const file = (m: TestModule) => relative(process.cwd(), m.moduleId);
    const tests = modules
      .flatMap((m) => [...m.children.allTests()].map((t) => ({ ms: t.diagnostic()?.duration ?? 0, label: `${file(m)} > ${t.fullName}` })))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, SHOWN);
    const files = modules
      .map((m) => ({ ms: m.diagnostic().duration, label: file(m) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, SHOWN);
    if (tests.length === 0) return;
    console.log(`\nSlowest ${tests.length} tests:\n${tests.map((t) => line(t.ms, t.label)).join('\n')}`);
    console.log(`Slowest ${files.length} test files (set-up included):\n${files.map((f) => line(f.ms, f.label)).join('\n')}\n`);
  }
}
