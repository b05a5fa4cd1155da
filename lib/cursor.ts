import type { z } from 'zod';
import { ProcverError } from './errors';

/** Keyset page cursors: the edge row's sort key, opaque to the browser (base64url JSON). */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A cursor from a URL, validated; anything else is a clear 400, never a query on bad input. */
export function decodeCursor<T>(schema: z.ZodType<T>, raw: string): T {
  try {
    const text = Buffer.from(raw, 'base64url').toString('utf8');
    // PostgreSQL text cannot hold NUL: a cursor carrying one names no row.
    if (text.includes('\\u0000') || text.includes('\u0000')) throw new Error('NUL in cursor');
    return schema.parse(JSON.parse(text));
  } catch {
    throw new ProcverError('invalid_input', 'the page cursor is not valid; start again from the first page');
  }
}
