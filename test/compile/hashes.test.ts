import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compileDirectory } from '../../lib/compile/compile';
import { HASH_SCHEME } from '../../lib/compile/normalize';

/** Every version's physical name and the SQL that creates it, in one digest. */
async function digestOf(dir: string, options: Parameters<typeof compileDirectory>[1] = {}, files?: string[]): Promise<{ versions: number; digest: string }> {
  const r = await compileDirectory(dir, options);
  const versions = files ? r.versions.filter((v) => files.some((f) => v.where.startsWith(`${dir}/${f}:`))) : r.versions;
  const rows = versions.map((v) => [v.schema, v.physicalName, v.source, v.callees.join(',')].join('\u0000')).sort();
  return { versions: rows.length, digest: createHash('sha256').update(rows.join('\u0001')).digest('hex').slice(0, 16) };
}

/**
 * Physical names are promises: a deployed frontend calls the name it was built against. A change
 * to the compiler that moves any of these digests gives existing code new names (or, worse, old
 * names to new code). If the change of normal form is deliberate, bump HASH_SCHEME in
 * lib/compile/normalize.ts and pin the new digests; if it is not (a speed-up, a refactor), it is a bug.
 */
describe('hash stability: the same sources compile to the same physical names and SQL', () => {
  it('is on hash scheme 2', () => {
    expect(HASH_SCHEME).toBe(2);
  });

  it('the real-code corpus of the first two rounds (310 definitions), compiled beside the later ones', async () => {
    const rounds12 = ['library.sql', 'pagila.sql', 'partman.sql', 'regress.sql', 'tap.sql', 'tricky.sql'];
    expect(await digestOf('test/fixtures/realcode', { skipOther: true }, rounds12)).toEqual({ versions: 310, digest: '8f035cf520813375' });
  });

  it('the whole real-code corpus (344 definitions)', async () => {
    expect(await digestOf('test/fixtures/realcode', { skipOther: true })).toEqual({ versions: 344, digest: 'f31da280bd675f01' });
  });

  it('the shop example', async () => {
    expect(await digestOf('examples/shop/v3')).toEqual({ versions: 15, digest: '9fa6170d2e888caa' });
  });
});
