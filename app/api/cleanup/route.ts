import { z } from 'zod';
import { runCleanup } from '@/lib/cleanup/apply';
import { cleanupConfig } from '@/lib/cleanup/config';
import { previewPlan } from '@/lib/cleanup/preview';
import { usageTargets } from '@/lib/config';
import { db } from '@/lib/db/pool';
import { ProcverError } from '@/lib/errors';
import { cleanupNeeds, hasRole, type Role } from '@/lib/roles';
import { mutation } from '@/lib/web/http';

const body = z.object({ apply: z.boolean().default(false) });

/**
 * POST /api/cleanup {"apply": false}: the plan (dry run, on a reading of every instance no older than
 * the collection interval, lib/cleanup/preview.ts); {"apply": true}: carry it out (admin), each step
 * on a reading of its own.
 */
export async function POST(req: Request) {
  return mutation(req, body, cleanupNeeds.check, async (input, actor) => {
    if (input.apply && !hasRole(actor, cleanupNeeds.apply)) throw new ProcverError('forbidden', 'only an admin can apply cleanup');
    const { plan, results, retired } = input.apply ? await runCleanup(db(), usageTargets(), cleanupConfig(), { apply: true, actor: actor.name }) : await dryRun(actor);
    return {
      at: plan.at,
      rows: plan.rows.map((r) => ({ version: `${r.schema}.${r.physicalName}`, action: r.action })),
      retire: plan.retire.map((r) => `${r.schema}.${r.physicalName}`),
      results: [...results, ...retired],
    };
  });
}

async function dryRun(actor: { role: Role }) {
  const preview = await previewPlan(db(), usageTargets(), cleanupConfig(), actor);
  // Only for a role that may not take a reading (the route admits none today).
  if (preview.reading === 'none') throw new ProcverError('conflict', 'no usage reading of the instances yet: run procver collect');
  return { plan: preview.plan, results: [], retired: [] };
}
