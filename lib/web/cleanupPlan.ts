import 'server-only';
import { cache } from 'react';
import { cleanupConfig } from '../cleanup/config';
import { planCleanup } from '../cleanup/plan';
import { usageTargets } from '../config';
import { db } from '../db/pool';
import { load } from './load';

/**
 * The plan checks every retired version (seconds at tens of thousands), so the Cleanup page streams
 * it; the parts of the page that need it share one computation per request. It is never reused
 * across requests: what an operator sees before applying must be what holds now.
 */
export const currentPlan = cache(() => load(() => planCleanup(db(), usageTargets(), cleanupConfig())));
