import { describe, expect, it } from 'vitest';
import { compileOptionsFrom, parseSearchPath } from '../../lib/cli/compileOptions';
import { ProcverError } from '../../lib/errors';

describe('compile options: the search path', () => {
  it('reads a search path as PostgreSQL writes it, leaving out $user', () => {
    expect(parseSearchPath('"$user", App, "My Schema", public', '--search-path')).toEqual(['app', 'My Schema', 'public']);
  });

  it('takes --search-path over PROCVER_SEARCH_PATH, and neither means the default', () => {
    expect(compileOptionsFrom({ 'search-path': 'a' }, { PROCVER_SEARCH_PATH: 'b' }).searchPath).toEqual(['a']);
    expect(compileOptionsFrom({}, { PROCVER_SEARCH_PATH: 'b, c' }).searchPath).toEqual(['b', 'c']);
    expect(compileOptionsFrom({ schema: 's', strict: true }, {})).toEqual({ defaultSchema: 's', searchPath: undefined, strict: true, skipOther: false });
  });

  it('names the setting and the fix for a bad value', () => {
    expect(() => compileOptionsFrom({}, { PROCVER_SEARCH_PATH: ' , ' })).toThrow(
      new ProcverError('config', 'PROCVER_SEARCH_PATH names no schema; write e.g. app, public'),
    );
    expect(() => parseSearchPath('"open', '--search-path')).toThrow(/--search-path: unterminated quoted schema name "open/);
  });
});
