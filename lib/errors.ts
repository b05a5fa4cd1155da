/** Errors a user can act on. `code` maps to a CLI exit code and (later) an HTTP status. */
export type ErrorCode =
  | 'compile_failed'
  | 'config'
  | 'not_migrated'
  | 'conflict'
  | 'not_found'
  | 'invalid_input'
  | 'check_failed';

export class ProcverError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: string[] = [],
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
};
