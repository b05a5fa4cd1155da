import { and, eq, inArray } from 'drizzle-orm';
import { cleanupConfig } from '../cleanup/config';
import { runCleanup } from '../cleanup/apply';
import type { Db } from '../db/client';
import { deployments, deploymentVersions, procedures, versions } from '../db/schema';
import { CounterCache, collectUsage } from '../usage/collect';
import { retireVersion } from '../versions';

const ACTOR = 'demo:lifecycle';

/** The v0 versions of the demo shop and the state each is taken to (see examples/shop/v0). */
const fates = [
  { procedure: 'price_with_tax', fate: 'dropped' },
  { procedure: 'get_product', fate: 'quarantined' },
  { procedure: 'list_products', fate: 'retired' },
  { procedure: 'daily_revenue', fate: 'retired' },
] as const;

/**
 * Takes the demo through every state a newcomer should see, with the real operations (each with
 * its audit entry): v0 versions retired, one quarantined and one dropped by cleanup runs (with
 * zero-length windows, so it happens at once), and a v1 version the old live back-office build
 * still calls, retired with an override: the red "retired but still called" row.
 */
export async function seedLifecycle(db: Db, url: string, v0Hashes: string[], log: (line: string) => void): Promise<void> {
  const targets = [{ url, role: 'primary' as const }];
  const counters = new CounterCache();
  const collect = () => collectUsage(db, targets, {}, counters);
  // Windows of zero: the demo shows the steps now instead of after a week of silence. The demo
  // collects right after its calls on one local server, so no flush delay or interval applies
  // (else cleanup refuses windows shorter than the evidence resolves, and the demo cannot start).
  const config = { ...cleanupConfig(), quietWindowMs: 0, quarantineMs: 0, flushDelayMs: 0, collectIntervalMs: 0, retention: null };
  const old = await db
    .select({ id: versions.id, schema: versions.schema, physicalName: versions.physicalName, procedure: procedures.name })
    .from(versions)
    .innerJoin(procedures, eq(procedures.id, versions.procedureId))
    .where(inArray(versions.hash, v0Hashes));
  const byFate = (fate: string) => old.filter((v) => fates.some((f) => f.fate === fate && f.procedure === v.procedure));
  const retire = async (v: (typeof old)[number], reason: string, override = false) =>
    retireVersion(db, { name: `${v.schema}.${v.physicalName}`, reason, actor: ACTOR, override });
  const cleanup = async () => {
    await collect();
    const r = await runCleanup(db, targets, config, { apply: true, actor: ACTOR });
    for (const x of r.results) log(`demo cleanup: ${x.outcome} ${x.schema}.${x.physicalName}${x.outcome === 'kept' ? ` (${x.detail})` : ''}`);
  };

  // Dropped: retired, quarantined by one run, dropped by the next.
  for (const v of byFate('dropped')) await retire(v, 'v0: VAT is 20% since v1');
  await cleanup();
  await cleanup();
  // Quarantined: retired and renamed by one run; the drop waits for the next.
  for (const v of byFate('quarantined')) await retire(v, 'v0: replaced by the SQL version in v1');
  await cleanup();
  // Retired: waiting for their quiet window.
  for (const v of byFate('retired')) await retire(v, 'v0: no deployment uses it');

  // Red: a version only the old live bo-7 build (and sf-101) still calls, retired anyway (override)
  // because v2 replaced it. PL/pgSQL, so its calls are counted (LANGUAGE sql ones may be inlined).
  const [legacy] = await db
    .select({ id: versions.id, schema: versions.schema, physicalName: versions.physicalName, procedure: procedures.name })
    .from(deploymentVersions)
    .innerJoin(deployments, eq(deployments.id, deploymentVersions.deploymentId))
    .innerJoin(versions, eq(versions.id, deploymentVersions.versionId))
    .innerJoin(procedures, eq(procedures.id, versions.procedureId))
    .where(and(eq(deployments.app, 'backoffice'), eq(deployments.deploymentId, 'bo-7'), eq(procedures.name, 'cart_total')));
  if (legacy) await retire(legacy, 'v2 replaced it; bo-7 should have been upgraded by now', true);
  log('demo lifecycle: retired, quarantined and dropped versions, and one retired version still called by bo-7');
}
