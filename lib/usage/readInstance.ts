import pg from 'pg';

export interface InstanceTarget {
  url: string;
  role: 'primary' | 'replica';
}

/** host:port/database of a connection URL, never its credentials. */
export function instanceLabel(url: string): { label: string; host: string; port: number } {
  const u = new URL(url);
  const host = u.hostname || 'localhost';
  const port = Number(u.port || 5432);
  return { label: `${host}:${port}${u.pathname || '/'}`, host, port };
}

export interface InstanceReading {
  systemIdentifier: string | null;
  postmasterStartTime: Date;
  statsReset: Date | null;
  trackFunctions: string;
  inRecovery: boolean;
  /**
   * how far the instance had replayed the primary's WAL (pg_last_wal_replay_lsn(), read before
   * readAt); null on a server that never was in recovery
   */
  replayLsn: string | null;
  readAt: Date;
  /** sessions whose application_name is `<app>@<deployment-id>` */
  sessions: { app: string; deploymentId: string; connections: number }[];
  /** counters of the managed versions that have a row in pg_stat_user_functions */
  rows: { index: number; oid: number; calls: number; totalTime: number; selfTime: number }[];
}

export interface ManagedName {
  schema: string;
  physicalName: string;
}

/**
 * Reads one instance's counters for the managed versions in a single query, together with what
 * tells whether the counters can be compared with the previous reading (restart, stats reset).
 */
export async function readInstance(url: string, managed: ManagedName[], timeoutMs = 5000): Promise<InstanceReading> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs * 4,
    application_name: 'procver collect',
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    // pg_control_system() needs superuser or an explicit grant; without it the instance is
    // still told apart by address, just not a rebuilt server at the same address.
    const sysid = await client
      .query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')
      .then((r) => r.rows[0]?.id ?? null)
      .catch(() => null);
    // One round trip, three statements: the replay position (before the clock is read, so that the
    // reading's time is no earlier than the replay it shows), the instance facts, then every counter
    // row with only the columns the floor reads; rows are matched to managed versions here (sending
    // 100,000 names to join on the server costs more than reading the rows). Simple protocol: no parameters.
    const results = (await client.query(
      `SELECT pg_last_wal_replay_lsn()::text AS replay_lsn;
       SELECT pg_postmaster_start_time() AS started,
              (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) AS stats_reset,
              current_setting('track_functions') AS track_functions,
              pg_is_in_recovery() AS in_recovery,
              clock_timestamp() AS read_at,
              (SELECT coalesce(json_agg(json_build_object('name', a.application_name, 'n', a.n)), '[]')
               FROM (SELECT application_name, count(*)::int AS n FROM pg_stat_activity
                     WHERE datname = current_database() AND position('@' IN application_name) > 1
                     GROUP BY application_name) AS a) AS sessions;
       SELECT schemaname, funcname, funcid::bigint::text AS oid, calls::text AS calls, total_time, self_time FROM pg_stat_user_functions`,
    )) as unknown as [
      pg.QueryResult<{ replay_lsn: string | null }>,
      pg.QueryResult<{ started: Date; stats_reset: Date | null; track_functions: string; in_recovery: boolean; read_at: Date; sessions: { name: string; n: number }[] }>,
      pg.QueryResult<{ schemaname: string; funcname: string; oid: string; calls: string; total_time: number; self_time: number }>,
    ];
    const r = { rows: results[2].rows };
    const first = results[1].rows[0]!;
    // Keyed by schema, then name: joining the two into one key per row costs three times as much.
    const index = new Map<string, Map<string, number>>();
    managed.forEach((m, i) => {
      let names = index.get(m.schema);
      if (!names) {
        names = new Map();
        index.set(m.schema, names);
      }
      names.set(m.physicalName, i);
    });
    const rows: InstanceReading['rows'] = [];
    for (const x of r.rows) {
      const i = index.get(x.schemaname)?.get(x.funcname);
      if (i === undefined) continue;
      rows.push({ index: i, oid: Number(x.oid), calls: Number(x.calls), totalTime: Number(x.total_time), selfTime: Number(x.self_time) });
    }
    return {
      systemIdentifier: sysid,
      postmasterStartTime: first.started,
      statsReset: first.stats_reset,
      trackFunctions: first.track_functions,
      inRecovery: first.in_recovery,
      replayLsn: results[0].rows[0]!.replay_lsn,
      readAt: first.read_at,
      sessions: first.sessions.map((x) => {
        const at = x.name.indexOf('@');
        return { app: x.name.slice(0, at), deploymentId: x.name.slice(at + 1), connections: x.n };
      }),
      rows,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
