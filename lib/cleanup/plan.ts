import { sql } from 'drizzle-orm';
import pg from 'pg';
import type { Db, Tx } from '../db/client';
import { instanceLabel, type InstanceTarget } from '../usage/readInstance';
import { formatDuration, type CleanupConfig } from './config';

export type Verdict = 'pass' | 'fail' | 'unknown';
export type CheckName = 'retired' | 'deployments' | 'usage' | 'dependents' | 'in_flight';

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

const ago = (d: Date, now: Date) => `${formatDuration(Math.max(0, Math.round((now.getTime() - d.getTime()) / 1000) * 1000))} ago`;
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

  const rows: PlanRow[] = [];
  for (const c of candidates) {
    const quarantinedAt = c.quarantined_at ? new Date(c.quarantined_at) : null;
    const row: PlanRow = {
      versionId: Number(c.id),
      schema: c.schema,
      physicalName: c.physical_name,
      procedure: c.procedure,
      currentName: c.quarantine_name ?? c.physical_name,
      quarantinedAt,
      revision: c.revision,
      checks: [
        retiredCheck(c, now, config),
        await deploymentsCheck(db, Number(c.id), now, config),
        await usageCheck(db, c, targets, now, config),
        await dependentsCheck(db, c),
        inFlightCheck(c, quarantinedAt, oldest, now, config),
      ],
      action: 'keep',
    };
    const others = worst(row.checks.filter((x) => x.name !== 'in_flight'));
    if (others === 'pass') row.action = quarantinedAt ? (worst(row.checks) === 'pass' ? 'drop' : 'keep') : 'quarantine';
    rows.push(row);
  }
  return { at: now, config, rows, live };
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

async function deploymentsCheck(db: Db | Tx, versionId: number, now: Date, config: CleanupConfig): Promise<Check> {
  const r = await db.execute<{ app: string; deployment_id: string; status: string; rank: number; superseded_at: string | null }>(sql`
    WITH ranked AS (
      SELECT d.*, row_number() OVER (PARTITION BY d.app ORDER BY d.superseded_at DESC NULLS LAST, d.id DESC)::int AS rank
      FROM procver.deployments d WHERE d.status = 'previous')
    SELECT d.app, d.deployment_id, d.status::text AS status, coalesce(r.rank, 0) AS rank, d.superseded_at::text AS superseded_at
    FROM procver.deployment_versions dv
    JOIN procver.deployments d ON d.id = dv.deployment_id
    LEFT JOIN ranked r ON r.id = d.id
    WHERE dv.version_id = ${versionId}
    ORDER BY d.app, d.deployment_id`);
  const blocking: string[] = [];
  for (const d of r.rows) {
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
  return {
    name: 'deployments',
    verdict: blocking.length > 0 ? 'fail' : 'pass',
    detail: blocking.length > 0 ? blocking : [r.rows.length > 0 ? `only archived or old deployments reference it (${r.rows.length})` : 'no deployment references it'],
  };
}

export async function usageCheck(db: Db | Tx, c: Candidate, targets: InstanceTarget[], now: Date, config: CleanupConfig): Promise<Check> {
  const windowStart = new Date(now.getTime() - config.quietWindowMs);
  const fails: string[] = [];
  const unknowns: string[] = [];
  if (c.may_be_inlined) unknowns.push('PostgreSQL may inline this LANGUAGE sql function into its callers, so its calls cannot be counted');

  const instances = (
    await db.execute<{
      id: number;
      label: string;
      first_collected_at: string | null;
      last_collected_at: string | null;
      track_functions: string | null;
    }>(sql`SELECT id, label, first_collected_at::text, last_collected_at::text, track_functions FROM procver.instances`)
  ).rows;
  const configured = new Set(targets.map((t) => instanceLabel(t.url).label));
  for (const i of instances) {
    // An instance that was read during the window but is no longer configured could still serve calls.
    if (!configured.has(i.label) && i.last_collected_at && new Date(i.last_collected_at) >= windowStart) {
      unknowns.push(`${i.label} was read ${ago(new Date(i.last_collected_at), now)} but is no longer configured; is that replica gone?`);
    }
  }
  for (const t of targets) {
    const { label } = instanceLabel(t.url);
    const inst = instances.find((i) => i.label === label);
    if (!inst?.first_collected_at || !inst.last_collected_at) {
      unknowns.push(`${label} (${t.role}) has never been read`);
      continue;
    }
    const first = new Date(inst.first_collected_at);
    const last = new Date(inst.last_collected_at);
    if (first > windowStart) unknowns.push(`usage history on ${label} starts ${iso(first)}, inside the quiet window`);
    if (now.getTime() - last.getTime() > config.staleAfterMs) unknowns.push(`${label} was last read ${ago(last, now)}`);
    if (inst.track_functions === 'none' || (inst.track_functions === 'pl' && c.language === 'sql')) {
      unknowns.push(`track_functions = '${inst.track_functions}' on ${label}: calls are not counted there`);
    }
    const events = await db.execute<{ kind: string; to_at: string }>(sql`
      SELECT kind, to_at::text FROM procver.usage_events
      WHERE instance_id = ${inst.id} AND (version_id IS NULL OR version_id = ${c.id}) AND to_at >= ${windowStart.toISOString()}::timestamptz
        AND kind IN ('gap', 'restart', 'stats_reset', 'replaced', 'reset', 'recreated', 'missing')
      ORDER BY to_at DESC`);
    for (const e of events.rows) {
      unknowns.push(`${e.kind.replace('_', ' ')} on ${label} ${ago(new Date(e.to_at), now)}: the quiet window restarts after it`);
    }
    const counter = await db.execute<{ calls: number; last_called_at: string | null; first_seen_at: string }>(sql`
      SELECT calls, last_called_at::text, first_seen_at::text FROM procver.usage_counters WHERE instance_id = ${inst.id} AND version_id = ${c.id}`);
    const k = counter.rows[0];
    if (k?.last_called_at && new Date(k.last_called_at) >= windowStart) fails.push(`called on ${label} ${ago(new Date(k.last_called_at), now)}`);
    if (k && Number(k.calls) === 0) {
      fails.push(`callers tried it on ${label} but no call completed (PostgreSQL counts no failing calls): something still calls it and fails`);
    }
  }
  const verdict: Verdict = fails.length > 0 ? 'fail' : unknowns.length > 0 ? 'unknown' : 'pass';
  return {
    name: 'usage',
    verdict,
    detail: verdict === 'pass' ? [`no calls on any of ${targets.length} instance(s) for ${formatDuration(config.quietWindowMs)}`] : [...fails, ...unknowns],
  };
}

/** Objects that would break (or block DROP … RESTRICT) if the function went away. */
export async function dependentsCheck(db: Db | Tx, c: Pick<Candidate, 'id' | 'schema' | 'physical_name' | 'quarantine_name'>): Promise<Check> {
  const name = c.quarantine_name ?? c.physical_name;
  const fn = await db.execute<{ oid: number }>(sql`
    SELECT p.oid::bigint AS oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ${c.schema} AND p.proname = ${name}`);
  if (fn.rows.length !== 1) {
    return { name: 'dependents', verdict: 'unknown', detail: [`${c.schema}.${name} is not in the database (${fn.rows.length} found); nothing to drop safely`] };
  }
  const oid = Number(fn.rows[0]!.oid);
  const [deps, bodies, managed] = await Promise.all([
    db.execute<{ what: string }>(sql`
      SELECT pg_describe_object(classid, objid, objsubid) AS what FROM pg_depend
      WHERE refclassid = 'pg_proc'::regclass AND refobjid = ${oid}::oid AND deptype IN ('n', 'a', 'i')
      ORDER BY 1`),
    db.execute<{ what: string }>(sql`
      SELECT p.oid::regprocedure::text AS what FROM pg_proc p
      WHERE p.oid <> ${oid}::oid AND (position(${c.physical_name} IN p.prosrc) > 0 OR position(${name} IN p.prosrc) > 0)
      ORDER BY 1`),
    db.execute<{ what: string }>(sql`
      SELECT schema || '.' || physical_name AS what FROM procver.versions
      WHERE status <> 'dropped' AND id <> ${c.id} AND callees @> ARRAY[${c.physical_name}]::text[] ORDER BY 1`),
  ]);
  const found = [
    ...deps.rows.map((d) => `${d.what} depends on it`),
    ...bodies.rows.map((b) => `the body of ${b.what} names it`),
    ...managed.rows.map((m) => `managed version ${m.what} calls it`),
  ];
  return {
    name: 'dependents',
    verdict: found.length > 0 ? 'fail' : 'pass',
    detail: found.length > 0 ? found : ['no view, trigger, default, constraint, aggregate or function depends on it or names it'],
  };
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
  if (elapsed < config.quarantineMs) problems.push(`in quarantine for ${formatDuration(Math.floor(elapsed / 1000) * 1000)} of ${formatDuration(config.quarantineMs)}`);
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
