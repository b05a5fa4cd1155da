import 'server-only';
import { ProcverError } from '../errors';

/** Runs a page's reads; a failure becomes a message a person can act on, never a stack trace. */
export async function load<T>(fn: () => Promise<T>): Promise<{ ok: true; data: T } | { ok: false; message: string }> {
  try {
    return { ok: true, data: await fn() };
  } catch (e) {
    if (e instanceof ProcverError) return { ok: false, message: e.message };
    console.error(e);
    const code = (e as { code?: string }).code;
    if (code === 'ECONNREFUSED') return { ok: false, message: 'The database is not reachable. Is PostgreSQL running and DATABASE_URL right?' };
    if (code === '42P01' || code === '3F000') return { ok: false, message: 'The procver registry is missing in this database: run `procver migrate`.' };
    return { ok: false, message: 'The registry could not be read. See the server log for details.' };
  }
}
