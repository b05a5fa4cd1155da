import { sql } from 'drizzle-orm';
import type { Db } from './db/client';
import { instanceStatus } from './usage';

/** Label values in the Prometheus text format escape backslash, double quote and newline. */
function label(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

function labels(l: Record<string, string>): string {
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}="${label(v)}"`)
    .join(',')}}`;
}

/** Prometheus exposition of call counts, retired-but-called versions, and collector health. */
export async function renderMetrics(db: Db): Promise<string> {
  const [calls, retired, inst] = await Promise.all([
    db.execute<{ schema: string; name: string; args: string; physical_name: string; status: string; instance: string; calls: number }>(sql`
      SELECT p.schema, p.name, p.args, v.physical_name, v.status::text AS status, i.label AS instance, sum(h.calls)::bigint AS calls
      FROM procver.usage_daily h
      JOIN procver.versions v ON v.id = h.version_id
      JOIN procver.procedures p ON p.id = v.procedure_id
      JOIN procver.instances i ON i.id = h.instance_id
      GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 6`),
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
  out.push('# HELP procver_version_calls_total Calls to a version counted by procver, per instance.');
  out.push('# TYPE procver_version_calls_total counter');
  for (const r of calls.rows) {
    const l = { schema: r.schema, procedure: r.name, args: r.args, physical_name: r.physical_name, status: r.status, instance: r.instance };
    out.push(`procver_version_calls_total${labels(l)} ${Number(r.calls)}`);
  }
  out.push('# HELP procver_retired_version_calls_24h Calls to retired versions in the last 24 hours since they were retired (hour buckets): above 0 means a caller still uses them.');
  out.push('# TYPE procver_retired_version_calls_24h gauge');
  for (const r of retired.rows) {
    out.push(`procver_retired_version_calls_24h${labels({ schema: r.schema, procedure: r.name, args: r.args, physical_name: r.physical_name })} ${Number(r.calls)}`);
  }
  out.push('# HELP procver_instance_last_collect_timestamp_seconds When the instance was last read successfully.');
  out.push('# TYPE procver_instance_last_collect_timestamp_seconds gauge');
  for (const i of inst) {
    if (i.lastCollectedAt) out.push(`procver_instance_last_collect_timestamp_seconds${labels({ instance: i.label, role: i.role })} ${i.lastCollectedAt.getTime() / 1000}`);
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
