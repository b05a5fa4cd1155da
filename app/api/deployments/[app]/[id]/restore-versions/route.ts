import { z } from 'zod';
import { db } from '@/lib/db/pool';
import { restoreDeploymentVersions } from '@/lib/deployments';
import { ProcverError } from '@/lib/errors';
import { mutation } from '@/lib/web/http';
import { parseRoute, routes } from '@/lib/web/params';
import { versionNeeds } from '@/lib/roles';

const body = z.object({ reason: z.string().trim().min(1, 'a reason is required').max(2000) });

/** POST /api/deployments/{app}/{id}/restore-versions {"reason"}: restore every retired or dropped version it references. */
export async function POST(req: Request, ctx: { params: Promise<{ app: string; id: string }> }) {
  const raw = await ctx.params;
  const key = parseRoute(routes.deployment, raw);
  return mutation(req, body, versionNeeds.retireOrRestore, async (input, actor) => {
    if (!key) throw new ProcverError('not_found', 'no such deployment');
    return { restored: (await restoreDeploymentVersions(db(), key.app, key.id, input.reason, actor.name)).map((r) => r.name) };
  });
}
