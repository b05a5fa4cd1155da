import { sql } from 'drizzle-orm';
import type { Db } from './db/client';
import { instanceStatus } from './usage';

/** Label values in the Prometheus text format escape backslash, double quote and newline. */
export function label(v: string): string {
  // Most values need no escaping; testing first keeps 300,000 series cheap to print.
  return /[\\"\n]/.test(v) ? v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n') : v;
}

function labels(l: Record<string, string>): string {
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}="${label(v)}"`)
    .join(',')}}`;
}

/**
 * Prometheus exposition of call counts, retired-but-called versions, and collector health. With
 * `versions: 'retired'` only retired versions get a per-version series; every procedure always has one.
 */
export async function renderMetrics(db: Db, opts: { versions?: 'all' | 'retired' } = {}): Promise<string> {
  const versionFilter = opts.versions === 'retired' ? sql`v.status = 'retired'` : sql`v.status <> 'dropped'`;
  const [calls, perProcedure, retired, inst] = await Promise.all([
    // One row per series from the running totals. Dropped versions cannot be called, so they have
    // no series: at scale they are most versions, and most of the cardinality.
    db.execute<{ schema: string; name: string; args: string; physical_name: string; status: string; instance: string; calls: string }>(sql`
      SELECT p.schema, p.name, p.args, v.physical_name, v.status::text AS status, i.label AS instance, t.calls
      FROM procver.usage_totals t
      JOIN procver.versions v ON v.id = t.version_id
      JOIN procver.procedures p ON p.id = v.procedure_id
      JOIN procver.instances i ON i.id = t.instance_id
      WHERE ${versionFilter}
      ORDER BY v.procedure_id, v.id, i.id`),
    // Over every version, dropped ones included, so the counter never goes down when one is dropped.
    db.execute<{ schema: string; name: string; args: string; instance: string; calls: string }>(sql`
      WITH t AS (SELECT v.procedure_id, t.instance_id, sum(t.calls)::bigint AS calls
                 FROM procver.usage_totals t JOIN procver.versions v ON v.id = t.version_id GROUP BY 1, 2)
      SELECT p.schema, p.name, p.args, i.label AS instance, t.calls
      FROM t JOIN procver.procedures p ON p.id = t.procedure_id JOIN procver.instances i ON i.id = t.instance_id
      ORDER BY t.procedure_id, t.instance_id`),
    db.execute<{ schema: string; name: string; args: string; physical_name: string; calls: number }>(sql`
      SELECT p.schema, p.name, p.args, v.physical_name, coalesce(sum(h.calls), 0)::bigint AS calls
      FROM procver.versions v
      JOIN procver.procedures p ON p.id = v.procedure_id
      LEFT JOIN procver.usage_hourly h ON h.version_id = v.id
        AND h.hour >= greatest(date_trunc('hour', now()) - interval '23 hours', date_trunc('hour', v.status_changed_at))
      WHERE v.status = 'retired'
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`),
    instanceStatus(db),
  ]);
  const out: string[] = [];
  out.push(
    `# HELP procver_version_calls_total Calls to a ${opts.versions === 'retired' ? 'retired' : 'live or retired'} version counted by procver, per instance (dropped versions have no series).`,
  );
  out.push('# TYPE procver_version_calls_total counter');
  for (const r of calls.rows) {
    out.push(
      `procver_version_calls_total{schema="${label(r.schema)}",procedure="${label(r.name)}",args="${label(r.args)}",physical_name="${label(r.physical_name)}",status="${r.status}",instance="${label(r.instance)}"} ${r.calls}`,
    );
  }
  out.push('# HELP procver_procedure_calls_total Calls to all versions of a procedure counted by procver, per instance.');
  out.push('# TYPE procver_procedure_calls_total counter');
  for (const r of perProcedure.rows) {
    out.push(
      `procver_procedure_calls_total{schema="${label(r.schema)}",procedure="${label(r.name)}",args="${label(r.args)}",instance="${label(r.instance)}"} ${r.calls}`,
    );
  }
  out.push(
    '# HELP procver_retired_version_calls_24h Calls to retired versions in the last 24 hours since they were retired (hour buckets): above 0 means a caller still uses them.',
  );
  out.push('# TYPE procver_retired_version_calls_24h gauge');
  for (const r of retired.rows) {
    out.push(
      `procver_retired_version_calls_24h{schema="${label(r.schema)}",procedure="${label(r.name)}",args="${label(r.args)}",physical_name="${label(r.physical_name)}"} ${r.calls}`,
    );
  }
  out.push('# HELP procver_instance_last_collect_timestamp_seconds When the instance was last read successfully.');
  out.push('# TYPE procver_instance_last_collect_timestamp_seconds gauge');
  for (const i of inst) {
    if (i.lastCollectedAt)
      out.push(`procver_instance_last_collect_timestamp_seconds${labels({ instance: i.label, role: i.role })} ${i.lastCollectedAt.getTime() / 1000}`);
  }
  out.push('# HELP procver_instance_collect_lag_seconds Seconds since the instance was last read successfully.');
  out.push('# TYPE procver_instance_collect_lag_seconds gauge');
  for (const i of inst) {
    if (i.lagSeconds !== null) out.push(`procver_instance_collect_lag_seconds${labels({ instance: i.label, role: i.role })} ${i.lagSeconds.toFixed(3)}`);
  }
  out.push('# HELP procver_instance_up 1 when the last attempt to read the instance succeeded.');
  out.push('# TYPE procver_instance_up gauge');
  for (const i of inst) out.push(`procver_instance_up${labels({ instance: i.label, role: i.role })} ${i.lastError === null && i.lastCollectedAt ? 1 : 0}`);
  return `${out.join('\n')}\n`;
}
