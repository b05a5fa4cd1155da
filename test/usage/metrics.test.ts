import { describe, expect, it } from 'vitest';
import { metricsVersions, readEnv } from '../../lib/config';
import { label } from '../../lib/metrics';

describe('Prometheus label values', () => {
  it('escape backslash, double quote and newline, and pass everything else through', () => {
    expect(label('proc_1__0123456789')).toBe('proc_1__0123456789');
    expect(label('a"b')).toBe('a\\"b');
    expect(label('a\\b')).toBe('a\\\\b');
    expect(label('line\nbreak')).toBe('line\\nbreak');
    expect(label('"; DROP TABLE x; --\\\n')).toBe('\\"; DROP TABLE x; --\\\\\\n');
  });
});

const env = (vars: Record<string, string>) => vars as unknown as NodeJS.ProcessEnv;

describe('PROCVER_METRICS_VERSIONS', () => {
  it('defaults to every live and retired version, accepts "retired", and names itself when wrong', () => {
    expect(metricsVersions(readEnv(env({})))).toBe('all');
    expect(metricsVersions(readEnv(env({ PROCVER_METRICS_VERSIONS: 'retired' })))).toBe('retired');
    expect(() => readEnv(env({ PROCVER_METRICS_VERSIONS: 'some' }))).toThrow(/environment variable PROCVER_METRICS_VERSIONS/);
  });
});
