import { z } from 'zod';
import { db } from '@/lib/db/pool';
import { ProcverError } from '@/lib/errors';
import { restoreVersion, retireVersion } from '@/lib/versions';
import { json, mutation } from '@/lib/web/http';
import { parseRoute, routes } from '@/lib/web/params';
import { hasRole, versionNeeds } from '@/lib/roles';

const body = z.object({
  reason: z.string().trim().min(1, 'a reason is required').max(2000),
  expectedRevision: z.number().int().positive().optional(),
  override: z.boolean().optional(),
});

/** POST /api/versions/{schema.physical_name}/retire|restore  {"reason": "...", "expectedRevision": 3} */
export async function POST(req: Request, ctx: { params: Promise<{ ref: string; action: string }> }) {
  // Next.js has decoded the path once; decoding again would turn `%252F` into `/`.
  const route = parseRoute(routes.versionAction, await ctx.params);
  if (!route) return json({ error: 'no such version or action', code: 'not_found' }, 404);
  const { ref, action } = route;
  return mutation(req, body, versionNeeds.retireOrRestore, async (input, actor) => {
    if (input.override && !hasRole(actor, versionNeeds.override)) {
      throw new ProcverError('forbidden', 'only an admin can retire a version that live or pending deployments, bindings or entry points use');
    }
    const change = { name: ref, reason: input.reason, actor: actor.name, expectedRevision: input.expectedRevision, override: input.override };
    return action === 'retire' ? retireVersion(db(), change) : restoreVersion(db(), change);
  });
}
