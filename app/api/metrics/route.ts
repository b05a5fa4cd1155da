import { connection } from 'next/server';
import { db } from '@/lib/db/pool';
import { renderMetrics } from '@/lib/metrics';

export async function GET() {
  await connection();
  try {
    return new Response(await renderMetrics(db()), {
      headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' },
    });
  } catch {
    // No SQL or stack trace to the scraper; the status tells it the registry was unreadable.
    return new Response('# procver registry unavailable\n', { status: 503, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }
}
