import 'server-only';
import { ProcverError } from '../errors';
import { databaseProblem } from './dbProblem';

/** Runs a page's reads; a failure becomes a message a person can act on, never a stack trace. */
export async function load<T>(fn: () => Promise<T>): Promise<{ ok: true; data: T } | { ok: false; message: string }> {
  try {
    return { ok: true, data: await fn() };
  } catch (e) {
    if (e instanceof ProcverError) return { ok: false, message: e.message };
    console.error(e);
    const problem = databaseProblem(e);
    if (problem) return { ok: false, message: problem.message };
    return { ok: false, message: 'The registry could not be read. See the server log for details.' };
  }
}
