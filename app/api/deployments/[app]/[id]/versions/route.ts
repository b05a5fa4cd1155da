import { connection } from 'next/server';
import { db } from '@/lib/db/pool';
import { deploymentVersionsPage } from '@/lib/deployments';
import { ProcverError } from '@/lib/errors';
import { json, read } from '@/lib/web/http';
import { parseQuery, parseRoute, queries, routes } from '@/lib/web/params';

/** GET /api/deployments/:app/:id/versions?after=…: the versions a deployment references, a page at a time. */
export async function GET(req: Request, { params }: { params: Promise<{ app: string; id: string }> }) {
  await connection();
  const parsed = parseQuery(queries.deploymentVersions, new URL(req.url).searchParams);
  if (!parsed.ok) return json({ error: 'invalid request', code: 'invalid_input', details: parsed.issues }, 400);
  const key = parseRoute(routes.deployment, await params);
  return read(async () => {
    const page = key ? await deploymentVersionsPage(db(), key.app, key.id, { after: parsed.value.after }) : null;
    if (!page) throw new ProcverError('not_found', 'no such deployment');
    return page;
  });
}
