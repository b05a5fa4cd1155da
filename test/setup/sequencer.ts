import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest (a build, or quiet windows and quarantines waited out), in the order
 * they start. vitest starts the files it has timed before longest first, but CI runs a fresh clone,
 * where vitest knows no times and goes by file size: the package test (its `next build` alone
 * takes a minute) then started late and ended the run alone. Every other file keeps vitest's order.
 */
const FIRST = [
  'test/package/tarball.test.ts',
  'test/cleanup/cleanup.test.ts',
  'test/cleanup/cleanupApply.test.ts',
  'test/cleanup/chaos.test.ts',
  'test/storefront/rollback.test.ts',
];

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const missing = FIRST.filter((f) => !existsSync(join(this.ctx.config.root, f)));
    if (missing.length > 0) throw new Error(`test/setup/sequencer.ts names test files that do not exist: ${missing.join(', ')}`);
    const rank = (f: TestSpecification) => {
      const i = FIRST.indexOf(relative(this.ctx.config.root, f.moduleId));
      return i === -1 ? FIRST.length : i;
    };
    // Array.prototype.sort is stable: vitest's order holds within each rank.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
