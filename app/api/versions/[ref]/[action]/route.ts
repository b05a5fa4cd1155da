import { z } from 'zod';
import { db } from '@/lib/db/pool';
import { ProcverError } from '@/lib/errors';
import { restoreVersion, retireVersion } from '@/lib/versions';
import { json, mutation } from '@/lib/web/http';

const body = z.object({
  reason: z.string().trim().min(1, 'a reason is required').max(2000),
  expectedRevision: z.number().int().positive().optional(),
  override: z.boolean().optional(),
});

/** POST /api/versions/{schema.physical_name}/retire|restore  {"reason": "...", "expectedRevision": 3} */
export async function POST(req: Request, ctx: { params: Promise<{ ref: string; action: string }> }) {
  const { ref, action } = await ctx.params;
  if (action !== 'retire' && action !== 'restore') return json({ error: `unknown action ${action}`, code: 'not_found' }, 404);
  return mutation(req, body, 'operator', async (input, actor) => {
    if (input.override && actor.role !== 'admin') {
      throw new ProcverError('forbidden', 'only an admin can retire a version that live or pending deployments use');
    }
    const change = { name: decodeURIComponent(ref), reason: input.reason, actor: actor.name, expectedRevision: input.expectedRevision, override: input.override };
    return action === 'retire' ? retireVersion(db(), change) : restoreVersion(db(), change);
  });
}
