import { sql } from 'drizzle-orm';
import type { Db } from './db/client';

export interface Overview {
  procedures: number;
  live: number;
  retired: number;
  dropped: number;
  /** retired versions called after they were retired: something still uses them */
  retiredButCalled: { schema: string; physicalName: string; procedure: string; calls: number; lastCalledAt: Date }[];
  /** more retired versions are called than the overview lists */
  moreRetiredButCalled: boolean;
}

/** The overview lists the most recently called ones; the procedures pages have the rest. */
export const RETIRED_CALLED_SHOWN = 25;

export async function getOverview(db: Db): Promise<Overview> {
  const [counts, called] = await Promise.all([
    // GROUP BY status reads the narrow status index (index-only), not the wide versions rows.
    db.execute<{ status: string; n: number }>(sql`
      SELECT status::text AS status, count(*)::int AS n FROM procver.versions GROUP BY status
      UNION ALL SELECT 'procedures', count(*)::int FROM procver.procedures`),
    db.execute<{ schema: string; physical_name: string; procedure: string; calls: number; last_called_at: string }>(sql`
      SELECT v.schema, v.physical_name, p.schema || '.' || p.name || '(' || p.args || ')' AS procedure,
        -- Whole days after the retirement from daily rollups, the day of it from hourly ones.
        ((SELECT coalesce(sum(d.calls), 0) FROM procver.usage_daily d
          WHERE d.version_id = v.id AND d.day > (v.status_changed_at AT TIME ZONE 'UTC')::date)
         + (SELECT coalesce(sum(h.calls), 0) FROM procver.usage_hourly h
          WHERE h.version_id = v.id AND h.hour >= date_trunc('hour', v.status_changed_at)
            AND h.hour < ((v.status_changed_at AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC'))::float8 AS calls,
        c.last_called_at
      FROM procver.versions v
      JOIN procver.procedures p ON p.id = v.procedure_id
      JOIN LATERAL (SELECT max(last_called_at) AS last_called_at FROM procver.usage_counters WHERE version_id = v.id) c ON true
      WHERE v.status = 'retired' AND c.last_called_at > v.status_changed_at
      ORDER BY c.last_called_at DESC
      LIMIT ${RETIRED_CALLED_SHOWN + 1}`),
  ]);
  const n = (status: string) => Number(counts.rows.find((r) => r.status === status)?.n ?? 0);
  return {
    procedures: n('procedures'),
    live: n('live'),
    retired: n('retired'),
    dropped: n('dropped'),
    moreRetiredButCalled: called.rows.length > RETIRED_CALLED_SHOWN,
    retiredButCalled: called.rows.slice(0, RETIRED_CALLED_SHOWN).map((r) => ({
      schema: r.schema,
      physicalName: r.physical_name,
      procedure: r.procedure,
      calls: Number(r.calls),
      lastCalledAt: new Date(r.last_called_at),
    })),
  };
}
