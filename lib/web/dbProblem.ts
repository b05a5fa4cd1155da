import { pgCode } from '../db/pgError';

/**
 * What a person can do about a database failure that is not procver's: the registry unreachable
 * or missing. Null for anything else (that one goes to the server log).
 */
export function databaseProblem(e: unknown): { message: string; status: 503 } | null {
  const code = pgCode(e);
  // Refused, or the server shutting down / starting up under an open connection.
  if (code === 'ECONNREFUSED' || code === '57P01' || code === '57P02' || code === '57P03') {
    return { message: 'The database is not reachable. Is PostgreSQL running and DATABASE_URL right?', status: 503 };
  }
  if (code === '42P01' || code === '3F000') return { message: 'The procver registry is missing in this database: run `procver migrate`.', status: 503 };
  return null;
}
