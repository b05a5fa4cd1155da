import { describe, expect, it } from 'vitest';
import { compileOptionsFrom, parseSearchPath } from '../../lib/cli/compileOptions';
import { readEnv } from '../../lib/config';
import { ProcverError } from '../../lib/errors';

describe('compile options: the search path', () => {
  it('reads a search path as PostgreSQL writes it, leaving out $user', () => {
    expect(parseSearchPath('"$user", App, "My Schema", public', '--search-path')).toEqual(['app', 'My Schema', 'public']);
  });

  it('takes --search-path over PROCVER_SEARCH_PATH, and neither means the default', () => {
    expect(compileOptionsFrom({ 'search-path': 'a' }, readEnv({ PROCVER_SEARCH_PATH: 'b' }), {}).searchPath).toEqual(['a']);
    expect(compileOptionsFrom({}, readEnv({ PROCVER_SEARCH_PATH: 'b, c' }), {}).searchPath).toEqual(['b', 'c']);
    expect(compileOptionsFrom({ schema: 's', strict: true }, readEnv({}), {})).toEqual({ defaultSchema: 's', searchPath: undefined, strict: true, skipOther: false });
  });

  it('takes schema, strict and skipOther from procver.config.json unless a flag says otherwise', () => {
    const file = { schema: 'app', strict: true, skipOther: true };
    expect(compileOptionsFrom({}, readEnv({}), file)).toEqual({ defaultSchema: 'app', searchPath: undefined, strict: true, skipOther: true });
    expect(compileOptionsFrom({ schema: 's' }, readEnv({}), { skipOther: false })).toEqual({
      defaultSchema: 's',
      searchPath: undefined,
      strict: false,
      skipOther: false,
    });
  });

  it('names the setting and the fix for a bad value', () => {
    expect(() => readEnv({ PROCVER_SEARCH_PATH: ' , ' })).toThrow(
      new ProcverError('config', 'environment variable PROCVER_SEARCH_PATH: names no schema; write e.g. app, public'),
    );
    expect(() => readEnv({ PROCVER_SEARCH_PATH: '"open' })).toThrow(
      new ProcverError('config', 'environment variable PROCVER_SEARCH_PATH: unterminated quoted schema name "open; write e.g. app, "My Schema", public'),
    );
    expect(() => compileOptionsFrom({ 'search-path': ' ' }, readEnv({}), {})).toThrow(
      new ProcverError('config', '--search-path names no schema; write e.g. app, public'),
    );
  });
});
