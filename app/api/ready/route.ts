import { connection } from 'next/server';
import { cleanupConfig } from '@/lib/cleanup/config';
import { pool } from '@/lib/db/pool';
import { ProcverError } from '@/lib/errors';
import { readiness } from '@/lib/ready';

/**
 * Readiness for load balancers (no session): 200 when the database answers, the registry is
 * migrated and a collector ran within PROCVER_USAGE_STALE_AFTER; 503 naming the failing check.
 */
export async function GET() {
  await connection();
  const headers = { 'cache-control': 'no-store' };
  try {
    const r = await readiness(pool(), cleanupConfig().staleAfterMs);
    return Response.json({ status: r.ready ? 'ready' : 'not ready', checks: r.checks }, { status: r.ready ? 200 : 503, headers });
  } catch (e) {
    // A setting that does not parse (or a missing DATABASE_URL) is named with its fix; anything else stays on the server.
    const known = e instanceof ProcverError && e.code === 'config';
    if (!known) console.error(e);
    const message = known ? e.message : 'readiness check failed';
    return Response.json({ status: 'not ready', error: message }, { status: 503, headers });
  }
}
