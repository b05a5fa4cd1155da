import { describe, expect, it } from 'vitest';
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
