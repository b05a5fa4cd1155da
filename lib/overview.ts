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
const RETIRED_CALLED_SHOWN = 25;

export async function getOverview(db: Db): Promise<Overview> {
  const [counts, called] = await Promise.all([
    // GROUP BY status reads the narrow status index (index-only), not the wide versions rows.
    db.execute<{ status: string; n: number }>(sql`
      SELECT status::text AS status, count(*)::int AS n FROM procver.versions GROUP BY status
      UNION ALL SELECT 'procedures', count(*)::int FROM procver.procedures`),
    // Found from narrow rows (the status index and the counters) with a hash join; the wide
    // version rows and the call sums are read only for the few that are listed.
    db.execute<{ schema: string; physical_name: string; procedure: string; calls: number; last_called_at: string }>(sql`
      WITH called AS (
        SELECT r.id, r.status_changed_at, max(c.last_called_at) AS last_called_at
        FROM (SELECT id, status_changed_at FROM procver.versions WHERE status = 'retired') r
        -- called: counted by the counters, or seen by a quarantine tripwire under the old name
        JOIN (SELECT version_id, last_called_at FROM procver.usage_counters
              UNION ALL SELECT version_id, to_at FROM procver.usage_events WHERE kind = 'tripwire') c ON c.version_id = r.id
        GROUP BY r.id, r.status_changed_at
        HAVING max(c.last_called_at) > r.status_changed_at
        ORDER BY 3 DESC
        LIMIT ${RETIRED_CALLED_SHOWN + 1})
      SELECT v.schema, v.physical_name, p.schema || '.' || p.name || '(' || p.args || ')' AS procedure,
        -- Whole days after the retirement from daily rollups, the day of it from hourly ones.
        ((SELECT coalesce(sum(d.calls), 0) FROM procver.usage_daily d
          WHERE d.version_id = v.id AND d.day > (v.status_changed_at AT TIME ZONE 'UTC')::date)
         + (SELECT coalesce(sum(h.calls), 0) FROM procver.usage_hourly h
          WHERE h.version_id = v.id AND h.hour >= date_trunc('hour', v.status_changed_at)
            AND h.hour < ((v.status_changed_at AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC'))::float8 AS calls,
        called.last_called_at
      FROM called
      JOIN procver.versions v ON v.id = called.id
      JOIN procver.procedures p ON p.id = v.procedure_id
      ORDER BY called.last_called_at DESC`),
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
