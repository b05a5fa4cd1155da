import { z } from 'zod';
import { runCleanup } from '@/lib/cleanup/apply';
import { cleanupConfig } from '@/lib/cleanup/config';
import { usageTargets } from '@/lib/config';
import { db } from '@/lib/db/pool';
import { ProcverError } from '@/lib/errors';
import { mutation } from '@/lib/web/http';

const body = z.object({ apply: z.boolean().default(false) });

/** POST /api/cleanup {"apply": false}: the plan (dry run); {"apply": true}: carry it out (admin). */
export async function POST(req: Request) {
  return mutation(req, body, 'operator', async (input, actor) => {
    if (input.apply && actor.role !== 'admin') throw new ProcverError('forbidden', 'only an admin can apply cleanup');
    const { plan, results, retired } = await runCleanup(db(), usageTargets(), cleanupConfig(), { apply: input.apply, actor: actor.name });
    return {
      at: plan.at,
      rows: plan.rows.map((r) => ({ version: `${r.schema}.${r.physicalName}`, action: r.action })),
      retire: plan.retire.map((r) => `${r.schema}.${r.physicalName}`),
      results: [...results, ...retired],
    };
  });
}
