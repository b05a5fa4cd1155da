import { connection } from 'next/server';
import { auditCsv } from '@/lib/audit';
import { db } from '@/lib/db/pool';
import { auditFilterFromParams } from '@/lib/web/params';
import { authorize } from '@/lib/web/http';

/** GET /api/audit/csv?actor=&action=&target=&from=&to= : the filtered audit log as CSV. */
export async function GET(req: Request) {
  await connection();
  const denied = await authorize('viewer');
  if (denied) return denied;
  const filter = auditFilterFromParams(new URL(req.url).searchParams);
  if (!filter.ok) return Response.json({ error: filter.error, code: 'invalid_input' }, { status: 400 });
  const csv = await auditCsv(db(), filter.value);
  return new Response(csv, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="procver-audit-${new Date().toISOString().slice(0, 10)}.csv"`,
      'cache-control': 'no-store',
    },
  });
}
