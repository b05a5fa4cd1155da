import type pg from 'pg';
import { registryState, unknownMigrationsMessage } from './db/migrate';

interface ReadyCheck {
  ok: boolean;
  detail: string;
}

export interface Readiness {
  ready: boolean;
  checks: { database: ReadyCheck; registry: ReadyCheck; collector: ReadyCheck };
}

/**
 * What a load balancer asks before sending traffic: the database answers, the registry is
 * migrated, and a collector wrote counters within `collectorStaleMs` (otherwise the dashboard's
 * numbers are old). Messages name the problem, never a connection string or SQL.
 */
export async function readiness(pool: pg.Pool, collectorStaleMs: number, now = new Date()): Promise<Readiness> {
  const skipped = { ok: false, detail: 'not checked: the database is unreachable' };
  try {
    await pool.query('SELECT 1');
  } catch (e) {
    const code = (e as { code?: string }).code;
    return { ready: false, checks: { database: { ok: false, detail: `unreachable${code ? ` (${code})` : ''}` }, registry: skipped, collector: skipped } };
  }
  const database = { ok: true, detail: 'reachable' };
  const { pending, unknown } = await registryState(pool);
  if (pending > 0 || unknown > 0) {
    const registry = { ok: false, detail: pending > 0 ? `${pending} migration(s) pending: run \`procver migrate\`` : unknownMigrationsMessage(unknown) };
    return { ready: false, checks: { database, registry, collector: { ok: false, detail: 'not checked: the registry is not migrated' } } };
  }
  const registry = { ok: true, detail: 'migrated' };
  const r = await pool.query<{ last: Date | null }>(`SELECT max(last_collected_at) AS last FROM procver.instances WHERE role = 'primary'`);
  const last = r.rows[0]?.last ?? null;
  const age = last ? now.getTime() - last.getTime() : null;
  const collector =
    age === null
      ? { ok: false, detail: 'no collection yet: run `procver collect`' }
      : { ok: age <= collectorStaleMs, detail: `last collection ${Math.round(age / 1000)} s ago (at ${last!.toISOString()})` };
  return { ready: collector.ok, checks: { database, registry, collector } };
}
