/** PostgreSQL truncates longer identifiers (with only a NOTICE): procver never lets it. */
const MAX_IDENTIFIER_BYTES = 63;

/** `base + suffix` within 63 bytes: the base is shortened on a character boundary, never the suffix. */
export function fitIdentifier(base: string, suffix: string): string {
  const budget = MAX_IDENTIFIER_BYTES - Buffer.byteLength(suffix, 'utf8');
  let out = '';
  for (const ch of base) {
    if (Buffer.byteLength(out + ch, 'utf8') > budget) break;
    out += ch;
  }
  return out + suffix;
}
