import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { parseDuration } from './durations';
import { parseStatsFlushDelay } from './usage/flushDelay';
import { ProcverError } from './errors';
import { parsePublicUrl, parseTrustedProxies } from './web/proxySettings';

// An empty variable means unset (as shells and CI systems often pass them).
const optional = <T extends z.ZodTypeAny>(t: T) => z.preprocess((v) => (v === '' ? undefined : v), t.optional());

const durationText = z.string().refine(
  (v) => {
    try {
      parseDuration(v, '');
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a duration; use a number with s, m, h or d (e.g. 7d, 30m)' },
);
/**
 * A setting checked by the parser its reader uses, so the start-up check and the reader cannot
 * disagree. The parsers put the setting's name first themselves; the issue gets only the rest,
 * since configError() puts the name in front.
 */
const parsedBy = (parse: (v: string) => unknown) =>
  z.string().superRefine((v, ctx) => {
    try {
      parse(v);
    } catch (e) {
      if (!(e instanceof ProcverError)) throw e;
      ctx.addIssue({ code: 'custom', message: e.message.replace(/^[A-Za-z_-]+:? /, '') });
    }
  });
const wholeNumber = (min: number) =>
  z.coerce
    .number({ message: 'not a number' })
    .int({ message: 'not a whole number' })
    .min(min, { message: `must be at least ${min}` });
const connectionUrl = z.string().refine((v) => URL.canParse(v), { message: 'not a connection URL (postgres://user:password@host:5432/database)' });

/**
 * A search path as PostgreSQL writes it (`app, "My Schema", public`): unquoted names fold to
 * lower case. `$user` is left out: the compiler cannot know who will run the code. `setting` names
 * where the text came from (a flag, the variable or the file) for the error.
 */
export function parseSearchPath(text: string, setting: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    if (item.startsWith('"')) {
      if (!item.endsWith('"') || item.length < 2)
        throw new ProcverError('config', `${setting}: unterminated quoted schema name ${item}; write e.g. app, "My Schema", public`);
      const name = item.slice(1, -1).replaceAll('""', '"');
      if (name !== '$user') out.push(name);
    } else if (item !== '$user') out.push(item.toLowerCase());
  }
  if (out.length === 0) throw new ProcverError('config', `${setting} names no schema; write e.g. app, public`);
  return out;
}

/**
 * Every environment variable procver reads, in one schema: each is validated where it is read, and
 * `validateSettings()` checks them all when the CLI or the dashboard starts. Durations stay text
 * (their readers turn them into milliseconds); numbers are coerced.
 */
const envSchema = z.object({
  DATABASE_URL: optional(connectionUrl),
  /** who the CLI acts as, recorded in the audit log */
  PROCVER_ACTOR: optional(z.string()),
  /** roles that get EXECUTE on every new version, comma-separated */
  PROCVER_GRANT_EXECUTE: optional(z.string()),
  /** `compile`/`push`: the search path unqualified calls resolve through, as PostgreSQL writes it */
  PROCVER_SEARCH_PATH: optional(parsedBy((v) => parseSearchPath(v, 'PROCVER_SEARCH_PATH'))),
  /** replicas whose function counters are read too, comma-separated connection URLs */
  PROCVER_REPLICA_URLS: optional(z.string()),
  /** days raw usage samples are kept (hourly rollups are kept) */
  PROCVER_SAMPLE_RETENTION_DAYS: optional(wholeNumber(1)),
  /** days hourly rollups are kept (daily rollups are kept); at least 2 */
  PROCVER_HOURLY_RETENTION_DAYS: optional(wholeNumber(2)),
  /** "false" revokes PostgreSQL's default EXECUTE for PUBLIC on new versions */
  PROCVER_PUBLIC_EXECUTE: optional(z.enum(['true', 'false'])),
  /** which versions get their own Prometheus series: "all" (live and retired) or "retired" */
  PROCVER_METRICS_VERSIONS: optional(z.enum(['all', 'retired'])),
  /** lets Prometheus scrape /api/metrics with a bearer token instead of a session */
  PROCVER_METRICS_TOKEN: optional(z.string()),
  /** dashboard session lifetime in hours */
  PROCVER_SESSION_HOURS: optional(z.coerce.number({ message: 'not a number of hours' }).positive({ message: 'must be more than 0 hours' })),
  /** the proxies in front of the dashboard: CIDRs, or a hop count */
  PROCVER_TRUSTED_PROXIES: optional(parsedBy(parseTrustedProxies)),
  /** the address people open; the only origin mutations are accepted from */
  PROCVER_PUBLIC_URL: optional(parsedBy(parsePublicUrl)),
  /** page and API requests the dashboard handles at once */
  PROCVER_MAX_CONCURRENT_REQUESTS: optional(wholeNumber(1)),
  /** header an authenticating proxy sets to the user's email */
  PROCVER_TRUST_PROXY_HEADER: optional(z.string().regex(/^[A-Za-z0-9-]+$/, { message: 'not an HTTP header name' })),
  /** cleanup: quiet window, quarantine, staleness, lock timeout, schedule (durations) */
  PROCVER_QUIET_WINDOW: optional(durationText),
  PROCVER_QUARANTINE: optional(durationText),
  PROCVER_USAGE_STALE_AFTER: optional(durationText),
  PROCVER_CLEANUP_LOCK_TIMEOUT: optional(durationText),
  PROCVER_CLEANUP_INTERVAL: optional(durationText),
  /** usage evidence: how often `collect` reads every instance, how late PostgreSQL publishes counts */
  PROCVER_COLLECT_INTERVAL: optional(durationText),
  PROCVER_STATS_FLUSH_DELAY: optional(durationText.pipe(parsedBy(parseStatsFlushDelay))),
  /** cleanup: the rollback window (previous deployments per app, days since live) */
  PROCVER_ROLLBACK_KEEP: optional(wholeNumber(0)),
  PROCVER_ROLLBACK_DAYS: optional(wholeNumber(0)),
  /** retention policy: off unless PROCVER_RETENTION_AFTER is set */
  PROCVER_RETENTION_AFTER: optional(durationText),
  PROCVER_RETENTION_KEEP: optional(wholeNumber(1)),
  /** `procver users`: the password when --password-stdin is not given */
  PROCVER_NEW_PASSWORD: optional(z.string()),
  /** "json": one JSON line per dashboard request */
  PROCVER_LOG: optional(z.enum(['text', 'json'])),
  /** any value: print stacks of unexpected errors */
  PROCVER_DEBUG: optional(z.string()),
  /** where procver.config.json is (default: ./procver.config.json) */
  PROCVER_CONFIG: optional(z.string()),
  /** `procver dev` only */
  PROCVER_DEMO_PASSWORD: optional(z.string()),
  PROCVER_STATE_DIR: optional(z.string()),
  PROCVER_PG_PORT: optional(wholeNumber(0).max(65535, { message: 'not a port (0 to 65535)' })),
  PROCVER_DEV_MODE: optional(z.enum(['dev', 'start'])),
  /** dev: `off` starts no simulated frontends */
  PROCVER_DEMO_TRAFFIC: optional(z.enum(['on', 'off'])),
  /** the dashboard's port (`procver dev`, `procver dashboard`) */
  PORT: optional(wholeNumber(0).max(65535, { message: 'not a port (0 to 65535)' })),
});

export type Env = z.infer<typeof envSchema>;

/** Every environment variable procver reads (the README's Configuration table lists exactly these). */
export const settingNames: readonly string[] = Object.keys(envSchema.shape);

function configError(where: string, issue: z.core.$ZodIssue, known?: string[]): ProcverError {
  const path = issue.path.join('.');
  const hint = issue.code === 'unrecognized_keys' && known ? ` (known: ${known.join(', ')})` : '';
  return new ProcverError('config', `${where}${path ? `${path}: ` : ''}${issue.message}${hint}`);
}

let lastProcessEnv: { key: string; env: Env } | null = null;

/**
 * The environment, checked. The dashboard reads it on every request (proxy, trusted proxies), so
 * the process environment is parsed again only when one of procver's variables changed.
 */
export function readEnv(env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env): Env {
  const key = env === process.env ? settingNames.map((name) => env[name] ?? '').join('\0') : null;
  if (key !== null && lastProcessEnv?.key === key) return lastProcessEnv.env;
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw configError('environment variable ', parsed.error.issues[0]!);
  if (key !== null) lastProcessEnv = { key, env: parsed.data };
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------
// procver.config.json: the project's settings, checked in next to its SQL. JSON rather than
// procver.config.ts: it needs no TypeScript loader in the projects that install procver (the CLI
// ships as JavaScript and starts in a fraction of a second), and nothing in it needs code.

const fileSchema = z.strictObject({
  $schema: z.string().optional(),
  /** default source directory of `compile` and `push` */
  sources: z.string().min(1).optional(),
  /** schema for unqualified names */
  schema: z.string().min(1).optional(),
  /** the search path of `compile` and `push` (PROCVER_SEARCH_PATH), as PostgreSQL writes it */
  searchPath: parsedBy((v) => parseSearchPath(v, 'searchPath')).optional(),
  /** `compile`/`push`: skip (and list) statements that belong to a migration tool (--skip-other) */
  skipOther: z.boolean().optional(),
  /** `compile`/`push`: warnings are errors (--strict) */
  strict: z.boolean().optional(),
  /** default output directory of `compile` */
  out: z.string().min(1).optional(),
  /** roles granted EXECUTE on every new version */
  grants: z.array(z.string().regex(/^[^,\s]+$/, { message: 'a role name (no commas or spaces)' })).optional(),
  /** false: revoke PostgreSQL's default EXECUTE for PUBLIC on new versions */
  publicExecute: z.boolean().optional(),
  /** replicas whose counters `collect` reads */
  replicas: z.array(connectionUrl).optional(),
  windows: z
    .strictObject({
      quiet: durationText.optional(),
      quarantine: durationText.optional(),
      usageStaleAfter: durationText.optional(),
      rollbackKeep: z.number().int().min(0).optional(),
      rollbackDays: z.number().int().min(0).optional(),
      retentionAfter: durationText.optional(),
      retentionKeep: z.number().int().min(1).optional(),
      sampleRetentionDays: z.number().int().min(1).optional(),
      hourlyRetentionDays: z.number().int().min(2).optional(),
    })
    .optional(),
});

export type ConfigFile = z.infer<typeof fileSchema>;

/** Every key procver.config.json may have, `windows.quiet` style. */
export const fileKeys: readonly string[] = [
  ...Object.keys(fileSchema.shape).filter((k) => k !== '$schema' && k !== 'windows'),
  ...Object.keys(fileSchema.shape.windows.unwrap().shape).map((k) => `windows.${k}`),
];

/** Which environment variable each file setting stands in for: set, the variable wins. */
function fileAsEnv(f: ConfigFile): Record<string, string | undefined> {
  const w = f.windows ?? {};
  const text = (v: number | boolean | undefined) => (v === undefined ? undefined : String(v));
  return {
    PROCVER_SEARCH_PATH: f.searchPath,
    PROCVER_GRANT_EXECUTE: f.grants?.join(','),
    PROCVER_PUBLIC_EXECUTE: text(f.publicExecute),
    PROCVER_REPLICA_URLS: f.replicas?.join(','),
    PROCVER_QUIET_WINDOW: w.quiet,
    PROCVER_QUARANTINE: w.quarantine,
    PROCVER_USAGE_STALE_AFTER: w.usageStaleAfter,
    PROCVER_ROLLBACK_KEEP: text(w.rollbackKeep),
    PROCVER_ROLLBACK_DAYS: text(w.rollbackDays),
    PROCVER_RETENTION_AFTER: w.retentionAfter,
    PROCVER_RETENTION_KEEP: text(w.retentionKeep),
    PROCVER_SAMPLE_RETENTION_DAYS: text(w.sampleRetentionDays),
    PROCVER_HOURLY_RETENTION_DAYS: text(w.hourlyRetentionDays),
  };
}

/** Reads and validates a config file; a missing default file is no file. */
export function readConfigFile(path: string, required: boolean): ConfigFile {
  if (!existsSync(path)) {
    if (required) throw new ProcverError('config', `PROCVER_CONFIG: ${path} does not exist`);
    return {};
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ProcverError('config', `${path}: not valid JSON: ${(e as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const known = Object.keys(issue.path[0] === 'windows' ? fileSchema.shape.windows.unwrap().shape : fileSchema.shape);
    throw configError(`${path}: `, issue, known);
  }
  // Directories in the file are relative to the file, wherever procver runs from.
  const dir = dirname(path);
  const { sources, out } = parsed.data;
  return { ...parsed.data, sources: sources && resolve(dir, sources), out: out && resolve(dir, out) };
}

let loaded: ConfigFile = {};

/**
 * At start (CLI and `procver dashboard`): reads procver.config.json (or PROCVER_CONFIG), fills in
 * the environment variables its settings stand for where they are not set (the environment
 * overrides the file), then validates every environment variable. Returns the file's settings.
 */
export function loadSettings(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): ConfigFile {
  const explicit = env.PROCVER_CONFIG;
  const path = resolve(cwd, explicit || 'procver.config.json');
  loaded = readConfigFile(path, Boolean(explicit));
  for (const [name, value] of Object.entries(fileAsEnv(loaded))) {
    if (value !== undefined && (env[name] === undefined || env[name] === '')) env[name] = value;
  }
  readEnv(env);
  return loaded;
}

/** The config file's settings, as loadSettings read them (empty before, or without a file). */
export function fileSettings(): ConfigFile {
  return loaded;
}

// ---------------------------------------------------------------------------------------------

export function databaseUrl(env: Env = readEnv()): string {
  if (!env.DATABASE_URL) {
    throw new ProcverError('config', 'DATABASE_URL is not set: point it at the PostgreSQL database procver manages (e.g. postgres://user:pass@host:5432/db)');
  }
  return env.DATABASE_URL;
}

export function actor(env: Env = readEnv()): string {
  if (env.PROCVER_ACTOR) return env.PROCVER_ACTOR;
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

export interface GrantPolicy {
  /** roles that get EXECUTE on each new version */
  roles: string[];
  /** whether PUBLIC keeps EXECUTE (never for SECURITY DEFINER versions) */
  publicExecute: boolean;
}

export function grantPolicy(env: Env = readEnv()): GrantPolicy {
  const roles = (env.PROCVER_GRANT_EXECUTE ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  return { roles, publicExecute: env.PROCVER_PUBLIC_EXECUTE !== 'false' };
}

/** The instances whose counters are collected: the primary and every configured replica. */
export function usageTargets(env: Env = readEnv()): { url: string; role: 'primary' | 'replica' }[] {
  const replicas = (env.PROCVER_REPLICA_URLS ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  for (const r of replicas) {
    if (!URL.canParse(r)) throw new ProcverError('config', `PROCVER_REPLICA_URLS: "${r.replace(/:[^:@/]*@/, ':***@')}" is not a connection URL`);
  }
  return [{ url: databaseUrl(env), role: 'primary' }, ...replicas.map((url) => ({ url, role: 'replica' as const }))];
}

/** Per-version Prometheus series for live and retired versions, or for retired ones only (fewer series at scale). */
export function metricsVersions(env: Env = readEnv()): 'all' | 'retired' {
  return env.PROCVER_METRICS_VERSIONS ?? 'all';
}

/** How long a dashboard session lasts, in hours. */
export function sessionHours(env: Env = readEnv()): number {
  return env.PROCVER_SESSION_HOURS ?? 12;
}

/** How long raw samples and hourly rollups are kept, in days. */
export function usageRetention(env: Env = readEnv()): { retentionDays: number; hourlyRetentionDays: number } {
  return { retentionDays: env.PROCVER_SAMPLE_RETENTION_DAYS ?? 14, hourlyRetentionDays: env.PROCVER_HOURLY_RETENTION_DAYS ?? 8 };
}
