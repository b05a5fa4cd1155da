import { z } from 'zod';
import type { AuditFilter } from '../audit';
import { deploymentKey } from '../deploymentNames';
import { procedureSorts } from '../procedures';
import { usageWindows, type UsageWindow } from '../usage';

/**
 * The one parser for what arrives in a URL: route parameters (already percent-decoded once by
 * Next.js, so never decoded again here: `%252F` stays the text `%2F`) and query strings. Every
 * value is checked before it reaches the database, so bad input is a 400 (a query) or a 404 (a
 * path that can name nothing), never a 500: no NUL characters (PostgreSQL text cannot hold them),
 * bounded lengths, numbers within their column's range, dates PostgreSQL can store.
 */

/** A page's query string as Next.js hands it over: a repeated parameter comes as an array. */
export type SearchParams = Record<string, string | string[] | undefined>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string; issues: string[] };

/** Text PostgreSQL can store, of bounded length. */
export const urlText = (max: number) =>
  z
    .string()
    .max(max, `at most ${max} characters`)
    .refine((s) => !s.includes('\u0000'), 'contains a NUL character');

// An empty query value means the parameter is absent (forms send every field); a repeated one counts once.
const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
const present = (v: unknown) => {
  const f = first(v);
  return f === '' ? undefined : f;
};
const optional = <T extends z.ZodType>(t: T) => z.preprocess(present, t.optional());

export const window = z.preprocess(present, z.enum(Object.keys(usageWindows) as [UsageWindow, ...UsageWindow[]]).default('24h'));

/** The Cleanup page's filter by planned action. */
export const cleanupShows = ['all', 'drop', 'quarantine', 'release', 'keep'] as const;

/** A whole number that fits the column it is compared with (never beyond bigint or a JS safe integer). */
const wholeNumber = (max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, 'a whole number')
    .transform(Number)
    .refine((n) => n >= 1 && n <= max, `between 1 and ${max}`);
const INT4_MAX = 2_147_483_647;

/** A calendar day PostgreSQL and JavaScript agree on (year 0000 is neither's). */
const day = z.iso.date('a date as YYYY-MM-DD').refine((s) => {
  const year = Number(s.slice(0, 4));
  return year >= 1900 && year <= 9999;
}, 'a date between 1900 and 9999');

/** A cursor or other opaque token from our own links. */
const token = urlText(2000).regex(/^[A-Za-z0-9_-]*$/, 'not a page cursor');

// ---- query strings -------------------------------------------------------------------------

export const queries = {
  procedures: z.object({
    q: optional(urlText(200)),
    sort: optional(z.enum(procedureSorts)),
    dir: optional(z.enum(['asc', 'desc'])),
    after: optional(token),
    before: optional(token),
    window,
  }),
  procedure: z.object({ window }),
  version: z.object({ against: optional(urlText(300)) }),
  deployments: z.object({ older: optional(token) }),
  deploymentVersions: z.object({ after: optional(token) }),
  cleanup: z.object({ show: optional(z.enum(cleanupShows)), page: optional(wholeNumber(1_000_000)) }),
  audit: z.object({
    actor: optional(urlText(200)),
    action: optional(urlText(100)),
    target: optional(urlText(200)),
    from: optional(day),
    to: optional(day),
    before: optional(wholeNumber(Number.MAX_SAFE_INTEGER)),
  }),
  usage: z.object({
    ids: z
      .string({ error: 'comma-separated version ids' })
      .regex(/^\d{1,16}(,\d{1,16})*$/, 'comma-separated version ids')
      .transform((s) => [...new Set(s.split(',').map(Number))])
      .refine((a) => a.every((n) => n <= INT4_MAX), `a version id is at most ${INT4_MAX}`)
      .refine((a) => a.length <= 500, 'at most 500 ids'),
    window,
  }),
} as const;

function issues(error: z.ZodError, whole: string): string[] {
  return error.issues.map((i) => `${i.path.join('.') || whole}: ${i.message}`);
}

/** A query string (URLSearchParams or a page's searchParams) against its schema. */
export function parseQuery<S extends z.ZodType>(schema: S, raw: URLSearchParams | SearchParams): Parsed<z.infer<S>> {
  const obj: SearchParams = raw instanceof URLSearchParams ? Object.fromEntries(raw) : raw;
  const p = schema.safeParse(obj);
  if (p.success) return { ok: true, value: p.data };
  const list = issues(p.error, '(query)');
  return { ok: false, error: list.join('; '), issues: list };
}

// ---- route parameters ----------------------------------------------------------------------

/** A schema, procedure or physical name from a path: any text PostgreSQL can hold, of a sane length. */
const pathName = urlText(256).min(1);

export const routes = {
  /** /api/versions/{schema.physical_name}/{action} */
  versionAction: z.object({ ref: pathName, action: z.enum(['retire', 'restore']) }),
  /** /procedures/{schema}/{name} */
  procedure: z.object({ schema: pathName, name: pathName }),
  /** /versions/{schema}/{physical} */
  version: z.object({ schema: pathName, physical: pathName }),
  /** /api/deployments/{app}/{id}/… */
  deployment: deploymentKey,
} as const;

/**
 * Whether every segment of a request path decodes to text a name could be (the request proxy
 * answers 404 before any page work otherwise: a streamed page can no longer change its status).
 */
export function pathNamesText(pathname: string): boolean {
  return pathname
    .split('/')
    .filter(Boolean)
    .every((segment) => {
      try {
        return pathName.safeParse(decodeURIComponent(segment)).success;
      } catch {
        return false;
      }
    });
}

/** Route parameters against their schema; null means the path names nothing (answer 404). */
export function parseRoute<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> | null {
  const p = schema.safeParse(raw);
  return p.success ? p.data : null;
}

// ---- the audit filter (the Audit page and the CSV export share it) -------------------------

export function auditFilterFromParams(raw: URLSearchParams | SearchParams): Parsed<AuditFilter> {
  const p = parseQuery(queries.audit, raw);
  if (!p.ok) return p;
  const { from, to, ...rest } = p.value;
  return {
    ok: true,
    value: {
      ...rest,
      from: from ? new Date(`${from}T00:00:00Z`) : undefined,
      // "to" is a whole day, inclusive
      to: to ? new Date(`${to}T23:59:59.999Z`) : undefined,
    },
  };
}

/** The first value of a query parameter, as the page's own links repeat it. */
export function firstParam(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
