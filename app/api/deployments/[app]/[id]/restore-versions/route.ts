import { z } from 'zod';
import { db } from '@/lib/db/pool';
import { restoreDeploymentVersions } from '@/lib/deployments';
import { mutation } from '@/lib/web/http';

const body = z.object({ reason: z.string().trim().min(1, 'a reason is required').max(2000) });

/** POST /api/deployments/{app}/{id}/restore-versions {"reason"}: restore every retired or dropped version it references. */
export async function POST(req: Request, ctx: { params: Promise<{ app: string; id: string }> }) {
  const { app, id } = await ctx.params;
  return mutation(req, body, 'operator', async (input, actor) => ({
    restored: (await restoreDeploymentVersions(db(), decodeURIComponent(app), decodeURIComponent(id), input.reason, actor.name)).map((r) => r.name),
  }));
}
