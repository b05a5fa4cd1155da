import { connection } from 'next/server';
import { z } from 'zod';
import { db } from '@/lib/db/pool';
import { deploymentVersionsPage } from '@/lib/deployments';
import { ProcverError } from '@/lib/errors';
import { json, read } from '@/lib/web/http';

const query = z.object({ after: z.string().max(2000).optional() });

/** GET /api/deployments/:app/:id/versions?after=…: the versions a deployment references, a page at a time. */
export async function GET(req: Request, { params }: { params: Promise<{ app: string; id: string }> }) {
  await connection();
  const parsed = query.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!parsed.success) return json({ error: 'invalid request', code: 'invalid_input' }, 400);
  const { app, id } = await params;
  return read(async () => {
    const page = await deploymentVersionsPage(db(), app, id, { after: parsed.data.after });
    if (!page) throw new ProcverError('not_found', `no deployment ${app}/${id}`);
    return page;
  });
}
