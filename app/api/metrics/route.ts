import { timingSafeEqual } from 'node:crypto';
import { connection } from 'next/server';
import { authorize } from '@/lib/web/http';
import { db } from '@/lib/db/pool';
import { metricsVersions, readEnv } from '@/lib/config';
import { renderMetrics } from '@/lib/metrics';

/** Prometheus cannot sign in: it may send `Authorization: Bearer $PROCVER_METRICS_TOKEN` instead. */
async function allowed(req: Request): Promise<Response | null> {
  const token = readEnv().PROCVER_METRICS_TOKEN;
  const given = req.headers.get('authorization');
  if (token && given) {
    const a = Buffer.from(given);
    const b = Buffer.from(`Bearer ${token}`);
    return a.length === b.length && timingSafeEqual(a, b) ? null : new Response('forbidden\n', { status: 403 });
  }
  return authorize('viewer');
}

export async function GET(req: Request) {
  await connection();
  const denied = await allowed(req);
  if (denied) return denied;
  let versions: 'all' | 'retired';
  try {
    versions = metricsVersions();
  } catch (e) {
    // A misconfigured setting is named, with its fix, for whoever reads the scrape error.
    return new Response(`# ${(e as Error).message}\n`, { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }
  try {
    return new Response(await renderMetrics(db(), { versions }), {
      headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' },
    });
  } catch {
    // No SQL or stack trace to the scraper; the status tells it the registry was unreadable.
    return new Response('# procver registry unavailable\n', { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }
}
