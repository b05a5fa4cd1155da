import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadParser, scanSync, KEYWORD } from '../../lib/compile/parser';
import { qualifiedName, quoteIdent } from '../../lib/identifiers';
import { createTestDatabase } from '../helpers/db';
import { parserWords } from '../helpers/parserWords';

describe('identifier quoting (lib/identifiers.ts: no WASM)', () => {
  it('quotes before the parser was ever loaded', () => {
    // A fresh process that imports only the quoting module: nothing to wait for.
    const out = execFileSync('npx', ['tsx', '-e', `import('./lib/identifiers.ts').then((m) => console.log(m.qualifiedName('Shop', 'select')))`], {
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('"Shop"."select"');
  });

  it('agrees with the parser on every keyword it knows: only unreserved ones stay bare', async () => {
    await loadParser();
    const words = parserWords();
    expect(words.length).toBeGreaterThan(1000);
    const keywords = words.filter((w) => {
      const t = scanSync(w).tokens;
      return t.length === 1 && t[0]!.keywordKind !== KEYWORD.none;
    });
    expect(keywords.length).toBeGreaterThan(450);
    for (const w of keywords) {
      const bare = scanSync(w).tokens[0]!.keywordKind === KEYWORD.unreserved;
      expect(quoteIdent(w), w).toBe(bare ? w : `"${w}"`);
    }
  });

  it('agrees with PostgreSQL quote_ident() on keywords and awkward names', async () => {
    const t = await createTestDatabase({ migrated: false });
    await loadParser();
    const names = [
      ...parserWords().filter((w) => scanSync(w).tokens.length === 1 && scanSync(w).tokens[0]!.keywordKind !== KEYWORD.none),
      'get_user__3fa9c1e2b4',
      'Get_User',
      '1abc',
      '_x1',
      'a b',
      'we"ird',
      'ünïcode',
      '',
      'x-y',
    ];
    const r = await t.pool.query<{ q: string }>('SELECT quote_ident(n) AS q FROM unnest($1::text[]) WITH ORDINALITY AS u(n, o) ORDER BY o', [names]);
    expect(names.map(quoteIdent)).toEqual(r.rows.map((x) => x.q));
    expect(qualifiedName('shop', 'Order')).toBe('shop."Order"');
  });
});
