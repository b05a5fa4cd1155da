/** Errors a user can act on. `code` maps to a CLI exit code and (later) an HTTP status. */
export type ErrorCode =
  | 'compile_failed'
  | 'config'
  | 'not_migrated'
  | 'conflict'
  | 'not_found'
  | 'invalid_input'
  | 'check_failed'
  | 'forbidden'
  | 'unauthorized'
  | 'rate_limited';

export class ProcverError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: string[] = [],
    /** a machine-readable refinement, e.g. 'referenced' for a guard a person may override */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'ProcverError';
  }
}

export const exitCodes: Record<ErrorCode, number> = {
  compile_failed: 2,
  config: 3,
  not_migrated: 4,
  conflict: 5,
  not_found: 6,
  invalid_input: 7,
  check_failed: 1,
  forbidden: 8,
  unauthorized: 9,
  rate_limited: 10,
};

export const httpStatus: Record<ErrorCode, number> = {
  compile_failed: 422,
  config: 500,
  not_migrated: 503,
  conflict: 409,
  not_found: 404,
  invalid_input: 400,
  check_failed: 422,
  forbidden: 403,
  unauthorized: 401,
  rate_limited: 429,
};
