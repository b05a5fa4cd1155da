import 'server-only';
import { cache } from 'react';
import { cleanupConfig } from '../cleanup/config';
import { previewPlan } from '../cleanup/preview';
import { usageTargets } from '../config';
import { db } from '../db/pool';
import { requirePageActor } from './actor';
import { load } from './load';

/**
 * The plan checks every retired version (seconds at tens of thousands), so the Cleanup page streams
 * it; the parts of the page that need it share one computation per request. Whether it takes a
 * reading of every instance for this visitor is lib/cleanup/preview.ts's decision.
 */
export const currentPlan = cache(async () => {
  const actor = await requirePageActor('viewer');
  return load(() => previewPlan(db(), usageTargets(), cleanupConfig(), actor));
});
