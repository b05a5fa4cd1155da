import { sql } from 'drizzle-orm';
import pg from 'pg';
import type { Db, Tx } from '../db/client';
import { instanceLabel, type InstanceTarget } from '../usage/readInstance';
import { formatAge, formatDuration, type CleanupConfig } from './config';
import { retentionCandidates, type RetentionCandidate } from './retention';

type Verdict = 'pass' | 'fail' | 'unknown';
type CheckName = 'retired' | 'deployments' | 'usage' | 'dependents' | 'in_flight';

export interface Check {
  name: CheckName;
  verdict: Verdict;
  /** why, in words an operator can act on */
  detail: string[];
}

export interface PlanRow {
  versionId: number;
  schema: string;
  physicalName: string;
  procedure: string;
  /** the name the function has in the database now (the quarantine name while quarantined) */
  currentName: string;
  quarantinedAt: Date | null;
  revision: number;
  checks: Check[];
  action: 'keep' | 'quarantine' | 'drop';
}

export interface CleanupPlan {
  at: Date;
  config: CleanupConfig;
  rows: PlanRow[];
  /** versions still live: not considered */
  live: number;
  /** live versions the retention policy would retire (empty when the policy is off) */
  retire: RetentionCandidate[];
}

export type Candidate = {
  id: number;
  schema: string;
  physical_name: string;
  quarantine_name: string | null;
  quarantined_at: string | null;
  status_changed_at: string;
  language: string;
  may_be_inlined: boolean;
  revision: number;
  procedure: string;
};

const ago = (d: Date, now: Date) => `${formatAge(now.getTime() - d.getTime())} ago`;
const iso = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';

function worst(checks: Check[]): Verdict {
  if (checks.some((c) => c.verdict === 'fail')) return 'fail';
  if (checks.some((c) => c.verdict === 'unknown')) return 'unknown';
  return 'pass';
}

/**
 * The cleanup plan: every retired version with each check and its verdict. A version is
 * quarantined only when every check but "in flight" passes, and dropped only when all pass.
 * Anything not proven ("unknown") keeps the version.
 */
export async function planCleanup(db: Db, targets: InstanceTarget[], config: CleanupConfig): Promise<CleanupPlan> {
  const now = new Date((await db.execute<{ now: string }>(sql`SELECT now()::text AS now`)).rows[0]!.now);
  const candidates = (
    await db.execute<Candidate>(sql`
      SELECT v.id, v.schema, v.physical_name, v.quarantine_name, v.quarantined_at::text, v.status_changed_at::text, v.language,
             v.may_be_inlined, v.revision, p.schema || '.' || p.name || '(' || p.args || ')' AS procedure
      FROM procver.versions v JOIN procver.procedures p ON p.id = v.procedure_id
      WHERE v.status = 'retired' ORDER BY v.schema, v.physical_name`)
  ).rows;
  const live = Number((await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM procver.versions WHERE status = 'live'`)).rows[0]!.n);
  const oldest = await oldestTransactions(targets);

  // Evidence for every candidate in a few set-based queries, not a handful per version.
  const [deployments, usage, dependents, retire] = await Promise.all([
    deploymentsChecks(db, candidates, now, config),
    usageChecks(db, candidates, targets, now, config),
    dependentsChecks(db, candidates),
    config.retention ? retentionCandidates(db as Db, config.retention, targets, config.staleAfterMs) : Promise.resolve([]),
  ]);

  const rows: PlanRow[] = [];
  for (const c of candidates) {
    const quarantinedAt = c.quarantined_at ? new Date(c.quarantined_at) : null;
    const id = Number(c.id);
    const row: PlanRow = {
      versionId: id,
      schema: c.schema,
      physicalName: c.physical_name,
      procedure: c.procedure,
      currentName: c.quarantine_name ?? c.physical_name,
      quarantinedAt,
      revision: c.revision,
      checks: [retiredCheck(c, now, config), deployments.get(id)!, usage.get(id)!, dependents.get(id)!, inFlightCheck(c, quarantinedAt, oldest, now, config)],
      action: 'keep',
    };
    const others = worst(row.checks.filter((x) => x.name !== 'in_flight'));
    if (others === 'pass') row.action = quarantinedAt ? (worst(row.checks) === 'pass' ? 'drop' : 'keep') : 'quarantine';
    rows.push(row);
  }
  return { at: now, config, rows, live, retire };
}

function retiredCheck(c: Candidate, now: Date, config: CleanupConfig): Check {
  const since = new Date(c.status_changed_at);
  const enough = now.getTime() - since.getTime() >= config.quietWindowMs;
  return {
    name: 'retired',
    verdict: enough ? 'pass' : 'fail',
    detail: [`retired ${ago(since, now)}; the quiet window is ${formatDuration(config.quietWindowMs)}`],
  };
}

/** Which live, pending or rollback-window deployments reference each candidate. */
async function deploymentsChecks(db: Db | Tx, candidates: Pick<Candidate, 'id'>[], now: Date, config: CleanupConfig): Promise<Map<number, Check>> {
  const ids = candidates.map((c) => Number(c.id));
  const r = await db.execute<{ version_id: number; app: string; deployment_id: string; status: string; rank: number; superseded_at: string | null }>(sql`
    WITH ranked AS (
      SELECT d.*, row_number() OVER (PARTITION BY d.app ORDER BY d.superseded_at DESC NULLS LAST, d.id DESC)::int AS rank
      FROM procver.deployments d WHERE d.status = 'previous')
    SELECT dv.version_id, d.app, d.deployment_id, d.status::text AS status, coalesce(r.rank, 0) AS rank, d.superseded_at::text AS superseded_at
    FROM procver.deployment_versions dv
    JOIN procver.deployments d ON d.id = dv.deployment_id
    LEFT JOIN ranked r ON r.id = d.id
    WHERE dv.version_id = ANY(${sql.param(ids)}::bigint[])
    ORDER BY d.app, d.deployment_id`);
  const byVersion = groupBy(r.rows, (x) => Number(x.version_id));
  const out = new Map<number, Check>();
  for (const id of ids) {
    const refs = byVersion.get(id) ?? [];
    const blocking: string[] = [];
    for (const d of refs) {
      const label = `${d.app}/${d.deployment_id}`;
      if (d.status === 'live' || d.status === 'pending') blocking.push(`${label} is ${d.status} and references it`);
      else if (d.status === 'previous') {
        const recent = d.superseded_at !== null && now.getTime() - new Date(d.superseded_at).getTime() < config.rollbackDays * 86_400_000;
        if (d.rank <= config.rollbackKeep || recent) {
          blocking.push(
            `${label} is a rollback target (previous #${d.rank} of ${d.app}; the newest ${config.rollbackKeep} and those live within ${config.rollbackDays} days are kept)`,
          );
        }
      }
    }
    out.set(id, {
      name: 'deployments',
      verdict: blocking.length > 0 ? 'fail' : 'pass',
      detail: blocking.length > 0 ? blocking : [refs.length > 0 ? `only archived or old deployments reference it (${refs.length})` : 'no deployment references it'],
    });
  }
  return out;
}

function groupBy<T, K>(rows: T[], key: (row: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = out.get(k);
    if (list) list.push(row);
    else out.set(k, [row]);
  }
  return out;
}

/** The usage check for one version (apply re-checks it inside each step's transaction). */
export async function usageCheck(db: Db | Tx, c: Candidate, targets: InstanceTarget[], now: Date, config: CleanupConfig): Promise<Check> {
  return (await usageChecks(db, [c], targets, now, config)).get(Number(c.id))!;
}

/**
 * Zero calls on every configured instance over the whole quiet window, with continuous data: a
 * gap, reset, restart, missing or stale instance, or an uncountable version makes it unknown.
 */
async function usageChecks(db: Db | Tx, candidates: Candidate[], targets: InstanceTarget[], now: Date, config: CleanupConfig): Promise<Map<number, Check>> {
  const windowStart = new Date(now.getTime() - config.quietWindowMs);
  const ids = candidates.map((c) => Number(c.id));
  const [instanceRows, eventRows, counterRows] = await Promise.all([
    db.execute<{
      id: number;
      label: string;
      first_collected_at: string | null;
      last_collected_at: string | null;
      track_functions: string | null;
    }>(sql`SELECT id, label, first_collected_at::text, last_collected_at::text, track_functions FROM procver.instances`),
    db.execute<{ instance_id: number; version_id: number | null; kind: string; to_at: string }>(sql`
      SELECT instance_id, version_id, kind, to_at::text FROM procver.usage_events
      WHERE (version_id IS NULL OR version_id = ANY(${sql.param(ids)}::bigint[])) AND to_at >= ${windowStart.toISOString()}::timestamptz
        AND kind IN ('gap', 'restart', 'stats_reset', 'replaced', 'reset', 'recreated', 'missing')
      ORDER BY to_at DESC`),
    db.execute<{ instance_id: number; version_id: number; calls: number; last_called_at: string | null }>(sql`
      SELECT instance_id, version_id, calls, last_called_at::text FROM procver.usage_counters WHERE version_id = ANY(${sql.param(ids)}::bigint[])`),
  ]);
  const instances = instanceRows.rows;
  const counters = new Map(counterRows.rows.map((k) => [`${k.instance_id}/${k.version_id}`, k]));
  const instanceEvents = eventRows.rows.filter((e) => e.version_id === null);
  const versionEvents = groupBy(
    eventRows.rows.filter((e) => e.version_id !== null),
    (e) => Number(e.version_id),
  );

  // What holds for every version alike: instances gone, never read, stale, or starting too late.
  const configured = new Set(targets.map((t) => instanceLabel(t.url).label));
  const shared: string[] = [];
  for (const i of instances) {
    // An instance that was read during the window but is no longer configured could still serve calls.
    if (!configured.has(i.label) && i.last_collected_at && new Date(i.last_collected_at) >= windowStart) {
      shared.push(`${i.label} was read ${ago(new Date(i.last_collected_at), now)} but is no longer configured; is that replica gone?`);
    }
  }
  const readable: { label: string; inst: (typeof instances)[number] }[] = [];
  for (const t of targets) {
    const { label } = instanceLabel(t.url);
    const inst = instances.find((i) => i.label === label);
    if (!inst?.first_collected_at || !inst.last_collected_at) {
      shared.push(`${label} (${t.role}) has never been read`);
      continue;
    }
    const first = new Date(inst.first_collected_at);
    const last = new Date(inst.last_collected_at);
    if (first > windowStart) shared.push(`usage history on ${label} starts ${iso(first)}, inside the quiet window`);
    if (now.getTime() - last.getTime() > config.staleAfterMs) shared.push(`${label} was last read ${ago(last, now)}`);
    readable.push({ label, inst });
  }

  const out = new Map<number, Check>();
  for (const c of candidates) {
    const id = Number(c.id);
    const fails: string[] = [];
    const unknowns: string[] = [];
    if (c.may_be_inlined) unknowns.push('PostgreSQL may inline this LANGUAGE sql function into its callers, so its calls cannot be counted');
    unknowns.push(...shared);
    for (const { label, inst } of readable) {
      if (inst.track_functions === 'none' || (inst.track_functions === 'pl' && c.language === 'sql')) {
        unknowns.push(`track_functions = '${inst.track_functions}' on ${label}: calls are not counted there`);
      }
      const events = [...instanceEvents, ...(versionEvents.get(id) ?? [])]
        .filter((e) => Number(e.instance_id) === Number(inst.id))
        .sort((a, b) => new Date(b.to_at).getTime() - new Date(a.to_at).getTime());
      for (const e of events) {
        unknowns.push(`${e.kind.replace('_', ' ')} on ${label} ${ago(new Date(e.to_at), now)}: the quiet window restarts after it`);
      }
      const k = counters.get(`${inst.id}/${id}`);
      if (k?.last_called_at && new Date(k.last_called_at) >= windowStart) fails.push(`called on ${label} ${ago(new Date(k.last_called_at), now)}`);
      if (k && Number(k.calls) === 0) {
        fails.push(`callers tried it on ${label} but no call completed (PostgreSQL counts no failing calls): something still calls it and fails`);
      }
    }
    const verdict: Verdict = fails.length > 0 ? 'fail' : unknowns.length > 0 ? 'unknown' : 'pass';
    out.set(id, {
      name: 'usage',
      verdict,
      detail: verdict === 'pass' ? [`no calls on any of ${targets.length} instance(s) for ${formatDuration(config.quietWindowMs)}`] : [...fails, ...unknowns],
    });
  }
  return out;
}

type DependentsCandidate = Pick<Candidate, 'id' | 'schema' | 'physical_name' | 'quarantine_name'>;

/** Objects that would break (or block DROP … RESTRICT) if the function went away. */
export async function dependentsCheck(db: Db | Tx, c: DependentsCandidate): Promise<Check> {
  return (await dependentsChecks(db, [c])).get(Number(c.id))!;
}

/** Every physical name ends in `__` and the first 10 hex digits of the hash (quarantine names keep them). */
const HASH_SUFFIX = /__([0-9a-f]{10})$/;

/**
 * Dependents of every candidate, set-based: pg_depend by OID, managed callers by their recorded
 * callees, and function bodies that name a candidate. Bodies are searched once for every
 * `__<10 hex>` (any case: unquoted identifiers fold to lower case), and a candidate whose hash
 * appears in any other function's body is kept, even if the match is a different name with the
 * same 10 digits: a false "depends" keeps a version, a missed one would drop it.
 */
async function dependentsChecks(db: Db | Tx, candidates: DependentsCandidate[]): Promise<Map<number, Check>> {
  const out = new Map<number, Check>();
  if (candidates.length === 0) return out;
  const current = (c: DependentsCandidate) => c.quarantine_name ?? c.physical_name;
  const functions = await db.execute<{ schema: string; name: string; oid: number }>(sql`
    SELECT n.nspname AS schema, p.proname AS name, p.oid::bigint AS oid
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    JOIN unnest(${sql.param(candidates.map((c) => c.schema))}::text[], ${sql.param(candidates.map(current))}::text[]) AS c(schema, name)
      ON c.schema = n.nspname AND c.name = p.proname`);
  const oidsOf = new Map([...groupBy(functions.rows, (f) => `${f.schema}.${f.name}`)].map(([k, fs]) => [k, fs.map((f) => Number(f.oid))]));

  const present = candidates.filter((c) => oidsOf.get(`${c.schema}.${current(c)}`)?.length === 1);
  const oidOf = (c: DependentsCandidate) => oidsOf.get(`${c.schema}.${current(c)}`)![0]!;
  const suffixOf = (c: DependentsCandidate) => HASH_SUFFIX.exec(c.physical_name)?.[1];
  const bySuffix = present.filter((c) => suffixOf(c) !== undefined);
  const odd = present.filter((c) => suffixOf(c) === undefined);

  const [deps, bodies, oddBodies, managed] = await Promise.all([
    db.execute<{ ref: number; what: string }>(sql`
      SELECT refobjid::bigint AS ref, pg_describe_object(classid, objid, objsubid) AS what FROM pg_depend
      WHERE refclassid = 'pg_proc'::regclass AND refobjid = ANY(${sql.param(present.map(oidOf))}::oid[]) AND deptype IN ('n', 'a', 'i')
      ORDER BY 2`),
    bySuffix.length === 0
      ? { rows: [] }
      : db.execute<{ oid: number; what: string; suffix: string }>(sql`
      SELECT DISTINCT p.oid::bigint AS oid, p.oid::regprocedure::text AS what, lower(m[1]) AS suffix
      FROM pg_proc p, regexp_matches(p.prosrc, '__([0-9a-fA-F]{10})', 'g') AS m
      WHERE lower(m[1]) = ANY(${sql.param(bySuffix.map((c) => suffixOf(c)!))}::text[])
      ORDER BY 2`),
    // Names without the usual suffix (none are made so; kept for safety): searched one by one.
    Promise.all(
      odd.map((c) =>
        db.execute<{ oid: number; what: string }>(sql`
          SELECT p.oid::bigint AS oid, p.oid::regprocedure::text AS what FROM pg_proc p
          WHERE p.oid <> ${oidOf(c)}::oid AND (position(${c.physical_name} IN p.prosrc) > 0 OR position(${current(c)} IN p.prosrc) > 0)
          ORDER BY 2`),
      ),
    ),
    db.execute<{ what: string; callee: string; id: number }>(sql`
      SELECT v.schema || '.' || v.physical_name AS what, v.id, c AS callee
      FROM procver.versions v, unnest(v.callees) AS c
      WHERE v.status <> 'dropped' AND c = ANY(${sql.param(candidates.map((x) => x.physical_name))}::text[]) ORDER BY 1`),
  ]);
  const depsOf = groupBy(deps.rows, (d) => Number(d.ref));
  const bodiesOf = groupBy<{ oid: number; what: string; suffix: string }, string>(bodies.rows, (b) => b.suffix);
  const oddBodiesOf = new Map(odd.map((c, i) => [Number(c.id), oddBodies[i]!.rows]));
  const callersOf = groupBy(managed.rows, (m) => m.callee);

  for (const c of candidates) {
    const id = Number(c.id);
    const found = oidsOf.get(`${c.schema}.${current(c)}`) ?? [];
    if (found.length !== 1) {
      out.set(id, { name: 'dependents', verdict: 'unknown', detail: [`${c.schema}.${current(c)} is not in the database (${found.length} found); nothing to drop safely`] });
      continue;
    }
    const oid = found[0]!;
    const suffix = suffixOf(c);
    const naming = (suffix !== undefined ? (bodiesOf.get(suffix) ?? []) : (oddBodiesOf.get(id) ?? [])).filter((b) => Number(b.oid) !== oid);
    const callers = (callersOf.get(c.physical_name) ?? []).filter((m) => Number(m.id) !== id);
    const list = [
      ...(depsOf.get(oid) ?? []).map((d) => `${d.what} depends on it`),
      ...naming.map((b) => `the body of ${b.what} names it`),
      ...callers.map((m) => `managed version ${m.what} calls it`),
    ];
    out.set(id, {
      name: 'dependents',
      verdict: list.length > 0 ? 'fail' : 'pass',
      detail: list.length > 0 ? list : ['no view, trigger, default, constraint, aggregate or function depends on it or names it'],
    });
  }
  return out;
}

interface Oldest {
  label: string;
  oldest: Date | null;
  error?: string;
}

/** The oldest open (or prepared) transaction on every instance. */
async function oldestTransactions(targets: InstanceTarget[]): Promise<Oldest[]> {
  return Promise.all(
    targets.map(async (t) => {
      const { label } = instanceLabel(t.url);
      const client = new pg.Client({ connectionString: t.url, connectionTimeoutMillis: 5000, application_name: 'procver cleanup' });
      client.on('error', () => undefined);
      try {
        await client.connect();
        const r = await client.query<{ oldest: string | null }>(`
          SELECT least(
            (SELECT min(xact_start) FROM pg_stat_activity WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid()),
            (SELECT min(prepared) FROM pg_prepared_xacts))::text AS oldest`);
        return { label, oldest: r.rows[0]?.oldest ? new Date(r.rows[0].oldest) : null };
      } catch (e) {
        return { label, oldest: null, error: (e as Error).message };
      } finally {
        await client.end().catch(() => undefined);
      }
    }),
  );
}

function inFlightCheck(c: Candidate, quarantinedAt: Date | null, oldest: Oldest[], now: Date, config: CleanupConfig): Check {
  if (!quarantinedAt) {
    return {
      name: 'in_flight',
      verdict: 'unknown',
      detail: [
        `not quarantined yet: callers take no lock on a function, so it is first renamed to a quarantine name and dropped only after ${formatDuration(config.quarantineMs)} with no call and no transaction older than the rename`,
      ],
    };
  }
  const problems: string[] = [];
  const unknowns: string[] = [];
  const elapsed = now.getTime() - quarantinedAt.getTime();
  if (elapsed < config.quarantineMs) problems.push(`in quarantine for ${formatAge(elapsed)} of ${formatDuration(config.quarantineMs)}`);
  for (const o of oldest) {
    if (o.error) unknowns.push(`cannot see open transactions on ${o.label}: ${o.error}`);
    else if (o.oldest && o.oldest < quarantinedAt) problems.push(`a transaction open on ${o.label} since ${iso(o.oldest)} started before the rename`);
  }
  const verdict: Verdict = problems.length > 0 ? 'fail' : unknowns.length > 0 ? 'unknown' : 'pass';
  return {
    name: 'in_flight',
    verdict,
    detail: verdict === 'pass' ? [`quarantined as ${c.quarantine_name} ${ago(quarantinedAt, now)}; no transaction older than the rename on any instance`] : [...problems, ...unknowns],
  };
}
