import { sql } from 'drizzle-orm';
import pg from 'pg';
import type { Db, Tx } from '../db/client';
import { ProcverError } from '../errors';
import { freshReading } from '../usage/collect';
import { describeEvidence, evidenceFor, evidenceSays, shortestResolvablePeriod, type Evidence, type EvidenceEvent } from '../usage/evidence';
import { instanceLabel, type InstanceTarget } from '../usage/readInstance';
import { bindingReferences } from '../bindings';
import { quoteIdent } from '../identifiers';
import { formatAge, formatDuration, type CleanupConfig } from './config';
import { standingTripwires, TRIPWIRE_MARK, tripwireWouldForward } from './tripwire';
import { retentionCandidates, type RetentionCandidate } from './retention';
import { lsnBytes, replicaBarriersOf } from './barrier';

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
  /** release: put a quarantined version back under its name, retired and kept (something called it) */
  action: 'keep' | 'quarantine' | 'drop' | 'release';
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
  /** recorded right after the quarantine committed (see versions.quarantineBarrierAt) */
  quarantine_barrier_at: string | null;
  /** the primary's WAL position with the barrier: a replica has applied the rename once it replayed this far */
  quarantine_barrier_lsn: string | null;
  /** each replica's barrier (instance label → when that replica had applied the rename, on its clock) */
  replica_barriers: Record<string, string>;
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
 * Refuses a quiet window or quarantine shorter than the evidence can resolve: calls reach
 * pg_stat_user_functions up to the flush delay late, and are dated to the reading that shows them.
 */
export function refuseUnresolvableWindows(config: CleanupConfig): void {
  const min = shortestResolvablePeriod(config);
  const why = `PostgreSQL publishes calls up to ${formatDuration(config.flushDelayMs)} late (PROCVER_STATS_FLUSH_DELAY) and readings are ${formatDuration(config.collectIntervalMs)} apart (PROCVER_COLLECT_INTERVAL)`;
  for (const [what, ms, option] of [
    ['quiet window', config.quietWindowMs, '--quiet-window / PROCVER_QUIET_WINDOW'],
    ['quarantine', config.quarantineMs, '--quarantine / PROCVER_QUARANTINE'],
  ] as const) {
    if (ms < min) {
      throw new ProcverError(
        'invalid_input',
        `the ${what} (${formatDuration(ms)}) is shorter than the evidence can resolve: the minimum is ${formatDuration(min)}, because ${why}; set ${option} to at least ${formatDuration(min)}`,
      );
    }
  }
}

/**
 * The cleanup plan: every retired version with each check and its verdict. Every configured
 * instance is read first (a fresh reading, recorded like a collection), so the evidence reaches the
 * moment of the decision. A version is quarantined only when every check but "in flight" passes,
 * dropped only when all pass, and put back (released) from quarantine when something called it.
 * Anything not proven ("unknown") keeps the version.
 */
export async function planCleanup(db: Db, targets: InstanceTarget[], config: CleanupConfig): Promise<CleanupPlan> {
  refuseUnresolvableWindows(config);
  const readAfter = await freshReading(db, targets);
  return planFromRegistry(db, targets, config, readAfter);
}

/** The plan from what the registry holds now; readings older than `readAfter` are stale. */
export async function planFromRegistry(db: Db, targets: InstanceTarget[], config: CleanupConfig, readAfter: Date): Promise<CleanupPlan> {
  const now = new Date((await db.execute<{ now: string }>(sql`SELECT now()::text AS now`)).rows[0]!.now);
  const registered = (
    await db.execute<Omit<Candidate, 'replica_barriers'>>(sql`
      SELECT v.id, v.schema, v.physical_name, v.quarantine_name, v.quarantined_at::text, v.quarantine_barrier_at::text, v.quarantine_barrier_lsn::text,
             v.status_changed_at::text, v.language, v.may_be_inlined, v.revision, p.schema || '.' || p.name || '(' || p.args || ')' AS procedure
      FROM procver.versions v JOIN procver.procedures p ON p.id = v.procedure_id
      WHERE v.status = 'retired' ORDER BY v.schema, v.physical_name`)
  ).rows;
  const replicaBarriers = await replicaBarriersOf(
    db,
    registered.filter((c) => c.quarantine_name !== null).map((c) => Number(c.id)),
  );
  const candidates: Candidate[] = registered.map((c) => ({ ...c, replica_barriers: replicaBarriers.get(Number(c.id)) ?? {} }));
  const live = Number((await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM procver.versions WHERE status = 'live'`)).rows[0]!.n);
  const oldest = await oldestTransactions(targets);
  const tripwires = await standingTripwires(
    db,
    candidates.filter((c) => c.quarantine_name !== null).map((c) => ({ schema: c.schema, physicalName: c.physical_name })),
  );
  const forwarding = await tripwireWouldForward(
    db,
    candidates.filter((c) => c.quarantine_name === null).map((c) => ({ schema: c.schema, name: c.physical_name })),
  );

  // Evidence for every candidate in a few set-based queries, not a handful per version; in parallel
  // because `db` is the pool here (each query gets its own connection), never a transaction.
  const [deployments, usage, dependents, retire] = await Promise.all([
    deploymentsChecks(db, candidates, now, config),
    usageChecks(db, candidates, targets, now, config, readAfter),
    dependentsChecks(db, candidates),
    config.retention ? retentionCandidates(db as Db, config.retention, targets, now, readAfter) : Promise.resolve([]),
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
      checks: [
        retiredCheck(c, now, config),
        deployments.get(id)!,
        usage.get(id)!,
        dependents.get(id)!,
        inFlightCheck(c, quarantinedAt, oldest, now, config, tripwires.has(`${c.schema}.${c.physical_name}`), forwarding.get(`${c.schema}.${c.physical_name}`)),
      ],
      action: 'keep',
    };
    row.action = actionFor(row.checks, c.quarantine_name !== null);
    rows.push(row);
  }
  return { at: now, config, rows, live, retire };
}

/** The "release" action in words, for the CLI and the Cleanup page. */
export const RELEASE_EXPLAINED =
  'still in use: something called it during its quarantine (its tripwire forwarded the call) or a deployment now needs it; the next applied run puts it back under its name, retired and kept';

/**
 * What to do with a version given its checks. A quarantined version that something called (its
 * tripwire, or its counters) or that a deployment now needs is put back under its name, still retired.
 */
export function actionFor(checks: Check[], quarantined: boolean): PlanRow['action'] {
  const verdict = (name: CheckName) => checks.find((c) => c.name === name)?.verdict;
  if (quarantined && (verdict('usage') === 'fail' || verdict('deployments') === 'fail')) return 'release';
  if (worst(checks.filter((x) => x.name !== 'in_flight')) !== 'pass') return 'keep';
  if (!quarantined) return 'quarantine';
  return worst(checks) === 'pass' ? 'drop' : 'keep';
}

export function retiredCheck(c: Pick<Candidate, 'status_changed_at'>, now: Date, config: CleanupConfig): Check {
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
  // Bindings (triggers, aggregates …) and entry points reference a version like a live deployment.
  const bound = await bindingReferences(db, ids);
  const out = new Map<number, Check>();
  for (const id of ids) {
    const refs = byVersion.get(id) ?? [];
    const blocking: string[] = (bound.get(id) ?? []).map((b) => `${b.label} points to it (since ${iso(b.movedAt)})`);
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

/** The deployments check for one version (apply re-checks it inside each step's transaction). */
export async function deploymentsCheck(db: Db | Tx, c: Pick<Candidate, 'id'>, now: Date, config: CleanupConfig): Promise<Check> {
  return (await deploymentsChecks(db, [c], now, config)).get(Number(c.id))!;
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
export async function usageCheck(db: Db | Tx, c: Candidate, targets: InstanceTarget[], now: Date, config: CleanupConfig, readAfter: Date): Promise<Check> {
  return (await usageChecks(db, [c], targets, now, config, readAfter)).get(Number(c.id))!;
}

/** The evidence module's verdict over the quiet window (and the whole quarantine), as a check: called fails, unknown keeps. */
async function usageChecks(
  db: Db | Tx,
  candidates: Candidate[],
  targets: InstanceTarget[],
  now: Date,
  config: CleanupConfig,
  readAfter: Date,
): Promise<Map<number, Check>> {
  const evidence = await evidenceFor(
    db,
    candidates.map((c) => Number(c.id)),
    {
      from: new Date(now.getTime() - config.quietWindowMs),
      // A quarantined version is dropped only if its tripwire stayed silent for the whole quarantine,
      // however much longer than the quiet window that is.
      fromByVersion: new Map(candidates.filter((c) => c.quarantined_at !== null).map((c) => [Number(c.id), new Date(c.quarantined_at!)])),
      now,
      targets,
      readAfter,
    },
  );
  return new Map([...evidence].map(([id, e]) => [id, usageCheckOf(e, targets.length, now, config)]));
}

function usageCheckOf(e: Evidence, instances: number, now: Date, config: CleanupConfig): Check {
  const verdict: Verdict = e.verdict === 'called' ? 'fail' : e.verdict === 'unknown' ? 'unknown' : 'pass';
  // What shows a caller first: that is what an operator acts on.
  const calling = (x: EvidenceEvent) => Number(evidenceSays(x.kind) === 'called');
  const ordered = [...e.events].sort((a, b) => calling(b) - calling(a));
  return {
    name: 'usage',
    verdict,
    detail:
      verdict === 'pass'
        ? [`no calls on any of ${instances} instance(s) for ${formatDuration(config.quietWindowMs)}, read up to now`]
        : ordered.map((x) => describeEvidence(x, now, 'the quiet window')),
  };
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
  // A quarantine tripwire names its own version in its body (it forwards to it) and goes with it: it is
  // no dependent of any version (versions of different procedures can share a hash suffix).
  const tripwires = new Set(
    (
      await db.execute<{ oid: number }>(sql`
        SELECT p.oid::bigint AS oid FROM procver.versions v
        JOIN pg_namespace n ON n.nspname = v.schema JOIN pg_proc p ON p.pronamespace = n.oid AND p.proname = v.physical_name
        WHERE v.quarantine_name IS NOT NULL AND obj_description(p.oid, 'pg_proc') LIKE ${`${TRIPWIRE_MARK}%`}`)
    ).rows.map((t) => Number(t.oid)),
  );
  const present = candidates.filter((c) => oidsOf.get(`${c.schema}.${current(c)}`)?.length === 1);
  const oidOf = (c: DependentsCandidate) => oidsOf.get(`${c.schema}.${current(c)}`)![0]!;
  const suffixOf = (c: DependentsCandidate) => HASH_SUFFIX.exec(c.physical_name)?.[1];
  const bySuffix = present.filter((c) => suffixOf(c) !== undefined);
  const odd = present.filter((c) => suffixOf(c) === undefined);

  // One after the other: inside an apply step these share the step's transaction (one connection,
  // which runs one query at a time; pg deprecates queueing more).
  const deps = await db.execute<{ ref: number; what: string }>(sql`
      SELECT refobjid::bigint AS ref, pg_describe_object(classid, objid, objsubid) AS what FROM pg_depend
      WHERE refclassid = 'pg_proc'::regclass AND refobjid = ANY(${sql.param(present.map(oidOf))}::oid[]) AND deptype IN ('n', 'a', 'i')
      ORDER BY 2`);
  const bodies =
    bySuffix.length === 0
      ? { rows: [] }
      : await db.execute<{ oid: number; what: string; suffix: string }>(sql`
      SELECT DISTINCT p.oid::bigint AS oid, p.oid::regprocedure::text AS what, lower(m[1]) AS suffix
      FROM pg_proc p, regexp_matches(p.prosrc, '__([0-9a-fA-F]{10})', 'g') AS m
      WHERE lower(m[1]) = ANY(${sql.param(bySuffix.map((c) => suffixOf(c)!))}::text[])
      ORDER BY 2`);
  // Names without the usual suffix (none are made so; kept for safety): searched one by one.
  const oddBodiesOf = new Map<number, { oid: number; what: string }[]>();
  for (const c of odd) {
    const found = await db.execute<{ oid: number; what: string }>(sql`
      SELECT p.oid::bigint AS oid, p.oid::regprocedure::text AS what FROM pg_proc p
      WHERE p.oid <> ${oidOf(c)}::oid AND (position(${c.physical_name} IN p.prosrc) > 0 OR position(${current(c)} IN p.prosrc) > 0)
      ORDER BY 2`);
    oddBodiesOf.set(Number(c.id), found.rows);
  }
  const managed = await db.execute<{ what: string; callee: string; id: number }>(sql`
    SELECT v.schema || '.' || v.physical_name AS what, v.id, c AS callee
    FROM procver.versions v, unnest(v.callees) AS c
    WHERE v.status <> 'dropped' AND c = ANY(${sql.param(candidates.map((x) => x.physical_name))}::text[]) ORDER BY 1`);
  const depsOf = groupBy(deps.rows, (d) => Number(d.ref));
  const bodiesOf = groupBy<{ oid: number; what: string; suffix: string }, string>(bodies.rows, (b) => b.suffix);
  const callersOf = groupBy(managed.rows, (m) => m.callee);

  for (const c of candidates) {
    const id = Number(c.id);
    const found = oidsOf.get(`${c.schema}.${current(c)}`) ?? [];
    if (found.length !== 1) {
      out.set(id, {
        name: 'dependents',
        verdict: 'unknown',
        detail: [`${c.schema}.${current(c)} is not in the database (${found.length} found); nothing to drop safely`],
      });
      continue;
    }
    const oid = found[0]!;
    const suffix = suffixOf(c);
    const naming = (suffix !== undefined ? (bodiesOf.get(suffix) ?? []) : (oddBodiesOf.get(id) ?? [])).filter(
      (b) => Number(b.oid) !== oid && !tripwires.has(Number(b.oid)),
    );
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
  role: InstanceTarget['role'];
  oldest: Date | null;
  /** how far it had replayed the primary's WAL (pg_last_wal_replay_lsn()); null: never in recovery */
  replayLsn: string | null;
  error?: string;
  /**
   * Sessions whose pg_stat_activity row our role may not read (other roles' rows show a NULL
   * xact_start without pg_read_all_stats): their transactions could be older than the rename.
   */
  hidden?: { sessions: number; role: string };
}

/** The oldest open (or prepared) transaction on every instance. */
export async function oldestTransactions(targets: InstanceTarget[]): Promise<Oldest[]> {
  return Promise.all(
    targets.map(async (t) => {
      const { label } = instanceLabel(t.url);
      const client = new pg.Client({ connectionString: t.url, connectionTimeoutMillis: 5000, application_name: 'procver cleanup' });
      client.on('error', () => undefined);
      try {
        await client.connect();
        // A row is readable with pg_read_all_stats or the privileges of its role (PostgreSQL's own
        // rule; superusers have both); a row of a dropped role is counted as hidden.
        const r = await client.query<{ oldest: string | null; hidden: number; role: string; replay_lsn: string | null }>(`
          SELECT pg_last_wal_replay_lsn()::text AS replay_lsn, least(
            (SELECT min(xact_start) FROM pg_stat_activity WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid()),
            (SELECT min(prepared) FROM pg_prepared_xacts))::text AS oldest,
            (SELECT count(*) FROM pg_stat_activity a
             WHERE a.usesysid IS NOT NULL AND a.pid <> pg_backend_pid() AND NOT pg_has_role('pg_read_all_stats', 'USAGE')
               AND NOT CASE WHEN EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = a.usesysid) THEN pg_has_role(a.usesysid, 'USAGE') ELSE false END)::int AS hidden,
            current_user::text AS role`);
        const row = r.rows[0]!;
        return {
          label,
          role: t.role,
          oldest: row.oldest ? new Date(row.oldest) : null,
          replayLsn: row.replay_lsn,
          ...(row.hidden > 0 ? { hidden: { sessions: row.hidden, role: row.role } } : {}),
        };
      } catch (e) {
        return { label, role: t.role, oldest: null, replayLsn: null, error: (e as Error).message };
      } finally {
        await client.end().catch(() => undefined);
      }
    }),
  );
}

/**
 * Whether a transaction dated `start` may have begun before `barrier`. Both come to milliseconds
 * (PostgreSQL keeps microseconds): the same millisecond counts as before.
 */
function startedBefore(start: Date, barrier: Date): boolean {
  return start.getTime() <= barrier.getTime();
}

/** A replica whose barrier is not recorded yet, in words: how far behind it is, or that a reading records it. */
function notReplayedYet(o: Oldest, lsn: string): string {
  if (o.replayLsn === null) {
    return `replica ${o.label} replays no WAL (it is not a standby), so when it applied the rename cannot be told; is it configured as a replica by mistake?`;
  }
  const behind = lsnBytes(lsn) - lsnBytes(o.replayLsn);
  return behind > 0n
    ? `replica ${o.label} has not replayed the rename yet (${behind} bytes behind)`
    : `replica ${o.label} has replayed the rename; the moment is recorded on the next run`;
}

/** What the tripwire will do with each call, as far as the version's shape says (see tripwireWouldForward). */
function tripwireWill(forwards: boolean | undefined): string {
  if (forwards === true) return 'forwards every call and counts it';
  if (forwards === false) return 'counts every call and refuses it (a call to a trigger, pseudo-type or SETOF record function cannot be forwarded)';
  return 'counts every call and forwards it where the function can be called through another (else refuses it)';
}

/**
 * `tripwireStands`: procver's tripwire is under the old name (see standingTripwires); only for a
 * quarantined version. `forwards`: whether the tripwire a quarantine would create could forward calls
 * (undefined: not known); only for a version not quarantined yet.
 */
export function inFlightCheck(
  c: Candidate,
  quarantinedAt: Date | null,
  oldest: Oldest[],
  now: Date,
  config: CleanupConfig,
  tripwireStands: boolean,
  forwards?: boolean,
): Check {
  if (!quarantinedAt) {
    return {
      name: 'in_flight',
      verdict: 'unknown',
      detail: [
        `not quarantined yet: callers take no lock on a function, so it is first renamed to a quarantine name, with a tripwire under its old name that ${tripwireWill(forwards)}, and dropped only after ${formatDuration(config.quarantineMs)} with no call and no transaction older than the rename`,
      ],
    };
  }
  const problems: string[] = [];
  const unknowns: string[] = [];
  const elapsed = now.getTime() - quarantinedAt.getTime();
  if (elapsed < config.quarantineMs) problems.push(`in quarantine for ${formatAge(elapsed)} of ${formatDuration(config.quarantineMs)}`);
  if (!tripwireStands) {
    unknowns.push(
      `its tripwire under ${c.schema}.${c.physical_name} is gone, so the quarantine's silence proves nothing (calls to that name failed and were not counted); put it back with procver restore ${c.schema}.${c.physical_name} --reason <why> (it is live again), then retire it again for a later cleanup`,
    );
  }
  // Transactions are compared with the barrier, a moment after the rename committed (on each
  // replica: after it applied the rename, on its clock): one that started before it may have
  // resolved the old name to the version itself.
  const barrier = c.quarantine_barrier_at ? new Date(c.quarantine_barrier_at) : null;
  if (!barrier) {
    unknowns.push('the moment its rename committed is not recorded yet, so transactions older than it cannot be told apart; the next applied run records it');
  } else if (!c.quarantine_barrier_lsn && oldest.some((o) => o.role === 'replica')) {
    unknowns.push('the WAL position of its rename is not recorded yet, so when each replica applied it cannot be told; the next applied run records it');
  }
  for (const o of oldest) {
    if (o.error) unknowns.push(`cannot see open transactions on ${o.label}: ${o.error}`);
    else if (o.role === 'primary') {
      if (barrier && o.oldest && startedBefore(o.oldest, barrier)) problems.push(`a transaction open on ${o.label} since ${iso(o.oldest)} started before the rename`);
    } else if (barrier && c.quarantine_barrier_lsn) {
      const replayed = c.replica_barriers[o.label];
      if (replayed) {
        if (o.oldest && startedBefore(o.oldest, new Date(replayed))) {
          problems.push(
            `a transaction open on ${o.label} since ${iso(o.oldest)} started before that replica applied the rename (by ${iso(new Date(replayed))}, its clock)`,
          );
        }
      } else unknowns.push(notReplayedYet(o, c.quarantine_barrier_lsn));
    }
    if (o.hidden) {
      unknowns.push(
        `cannot see when the transactions of ${o.hidden.sessions} other session(s) on ${o.label} started: role ${o.hidden.role} may not read their pg_stat_activity rows; run GRANT pg_read_all_stats TO ${quoteIdent(o.hidden.role)} there`,
      );
    }
  }
  const verdict: Verdict = problems.length > 0 ? 'fail' : unknowns.length > 0 ? 'unknown' : 'pass';
  return {
    name: 'in_flight',
    verdict,
    detail:
      verdict === 'pass'
        ? [
            `quarantined as ${c.quarantine_name} ${ago(quarantinedAt, now)}; its tripwire under the old name was not called on any instance, and no transaction older than the rename is open`,
          ]
        : [...problems, ...unknowns],
  };
}
