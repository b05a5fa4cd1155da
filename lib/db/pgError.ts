/**
 * What PostgreSQL (or the socket) said, whether the error came straight from `pg` or wrapped by
 * drizzle, whose DrizzleQueryError carries the query as its message and the original as `cause`.
 */
type MaybeWrapped = { code?: string; message?: string; cause?: { code?: string; message?: string } } | null | undefined;

/** The reason PostgreSQL gave, without the query drizzle wraps around it. */
export function pgReason(e: unknown): string {
  const err = e as MaybeWrapped;
  return err?.cause?.message ?? err?.message ?? String(e);
}

/** The SQLSTATE (or a socket error code such as ECONNREFUSED), wherever it sits. */
export function pgCode(e: unknown): string | undefined {
  const err = e as MaybeWrapped;
  return err?.code ?? err?.cause?.code;
}
