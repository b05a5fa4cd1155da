import { readEnv } from '../../lib/config';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCleanup } from '../../lib/cleanup/apply';
import { cleanupConfig } from '../../lib/cleanup/config';
import { collectUsage } from '../../lib/usage/collect';
import { retireVersion } from '../../lib/versions';
import type { Manifest } from '../../lib/compile/manifest';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { procver, procverOk } from '../helpers/cli';
import { buildStorefront, startStorefront, type RunningStorefront, type StorefrontBuild } from '../helpers/storefront';
import { typeErrors } from '../helpers/typecheck';

/**
 * The rollback drill, for real: two builds of examples/storefront (against shop v1 and v2), both
 * registered, v2 live; what only v1 called is retired and cleaned up (quarantined), then the app
 * rolls back to v1 with `restore --deployment` and `deployments live`. v1's pages answer again
 * with the versions it was built against; v2's keep working until they are retired in turn.
 */

const shop = join(process.cwd(), 'examples/shop');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('storefront rollback drill', () => {
  let t: TestDatabase;
  let env: Record<string, string>;
  const builds: StorefrontBuild[] = [];
  const running: RunningStorefront[] = [];

  const manifestOf = (b: StorefrontBuild) => JSON.parse(readFileSync(b.manifest, 'utf8')) as Manifest;
  const physical = (m: Manifest, procedure: string) => {
    const p = m.procedures.find((x) => `${x.schema}.${x.name}(${x.args})` === procedure);
    if (!p) throw new Error(`${procedure} not in the manifest`);
    return `${p.schema}.${p.physicalName}`;
  };
  /** versions a manifest references that another does not */
  const only = (a: Manifest, b: Manifest) => {
    const other = new Set(b.procedures.map((p) => p.physicalName));
    return a.procedures.filter((p) => !other.has(p.physicalName));
  };
  async function serve(build: StorefrontBuild, id: string) {
    const s = await startStorefront(build, { DATABASE_URL: t.url, PROCVER_APP: 'storefront', PROCVER_DEPLOYMENT: id });
    running.push(s);
    return s;
  }
  async function page(s: RunningStorefront, path: string) {
    const r = await fetch(`${s.url}${path}`);
    return { status: r.status, body: await r.text(), versions: r.headers.get('x-procver-versions') };
  }
  /** whether a function of that exact name exists (a quarantined one is renamed, a dropped one gone) */
  async function callable(qualified: string) {
    const [schema, name] = qualified.split('.');
    const r = await t.pool.query(`SELECT 1 FROM pg_proc WHERE pronamespace = $1::regnamespace AND proname = $2`, [schema, name]);
    return r.rowCount === 1;
  }
  /**
   * Retires versions, then runs cleanup (2 s quiet window and quarantine, no rollback protection)
   * with fresh usage readings until `gone` is no longer callable. Callers go first (a version is
   * kept while a managed caller still names it, even quarantined), so this takes two rounds per
   * level of the call chain: one quarantines, the next (after the quarantine period) drops. A round
   * that dropped a caller may let its callee be quarantined at once: no wait before the next one.
   */
  async function retireAndCleanUp(versions: { schema: string; physicalName: string }[], gone: string) {
    const targets = [{ url: t.url, role: 'primary' as const }];
    const config = {
      ...cleanupConfig(readEnv({ PROCVER_STATS_FLUSH_DELAY: '1s', PROCVER_COLLECT_INTERVAL: '1s' }), { quietWindow: '2s', quarantine: '2s' }),
      rollbackKeep: 0,
      rollbackDays: 0,
    };
    for (const v of versions) await retireVersion(t.db, { name: `${v.schema}.${v.physicalName}`, reason: 'rollback drill: unused by the live build', actor: 'drill' });
    await collectUsage(t.db, targets);
    let dropped = false;
    for (let round = 0; round < 8 && (await callable(gone)); round++) {
      if (!dropped) await sleep(2200);
      await collectUsage(t.db, targets);
      const { results } = await runCleanup(t.db, targets, config, { apply: true, actor: 'drill' });
      dropped = results.some((r) => r.outcome === 'dropped');
    }
    expect(await callable(gone), `${gone} still callable after cleanup`).toBe(false);
  }

  beforeAll(async () => {
    t = await createTestDatabase();
    env = { DATABASE_URL: t.url };
    await t.pool.query(await readFile(join(shop, 'setup.sql'), 'utf8'));
    await procverOk(['push', join(shop, 'v1')], env);
    await procverOk(['push', join(shop, 'v2')], env);
    await procverOk(['collect', '--once'], env); // usage history starts here
  });

  afterAll(async () => {
    for (const s of running) await s.stop();
    for (const b of builds) b.remove();
  });

  // Builds, servers and cleanup rounds (each waits out a 2 s quiet window): a minute on an idle machine.
  it('builds, registers and serves v1 then v2, rolls back to v1 after cleanup, and v2 works until retired', { timeout: 300_000 }, async () => {
    const v1 = await buildStorefront(join(shop, 'v1'), t.url, 'sf-v1');
    const v2 = await buildStorefront(join(shop, 'v2'), t.url, 'sf-v2');
    builds.push(v1, v2);
    // Each build type-checks against its own generated module (strict, as a frontend's CI would).
    expect(typeErrors([join(v1.dir, 'server.ts')])).toEqual([]);
    expect(typeErrors([join(v2.dir, 'server.ts')])).toEqual([]);
    const [m1, m2] = [manifestOf(v1), manifestOf(v2)];
    const pricesV1 = [physical(m1, 'shop.get_product(integer)'), physical(m1, 'shop.price_with_tax(integer)')].join(', ');
    const pricesV2 = [physical(m2, 'shop.get_product(integer)'), physical(m2, 'shop.price_with_tax(integer)')].join(', ');
    expect(pricesV1).not.toBe(pricesV2); // 20% VAT in v1, 21% in v2

    // v1 goes live and serves.
    await procverOk(['deployments', 'add', '--app', 'storefront', '--id', 'sf-v1', '--manifest', v1.manifest, '--live'], env);
    let s1 = await serve(v1, 'sf-v1');
    expect(await page(s1, '/products/1')).toMatchObject({ status: 200, versions: pricesV1 });
    expect((await page(s1, '/products/1')).body).toContain('€1.64 incl. VAT'); // 137 cents + 20%
    expect((await page(s1, '/customers/3')).body).toContain('customer3@example.com');

    // v2 replaces it.
    await procverOk(['deployments', 'add', '--app', 'storefront', '--id', 'sf-v2', '--manifest', v2.manifest, '--live'], env);
    let s2 = await serve(v2, 'sf-v2');
    expect(await page(s2, '/products/1')).toMatchObject({ status: 200, versions: pricesV2 });
    expect((await page(s2, '/products/1')).body).toContain('€1.66 incl. VAT'); // 137 cents + 21%
    await s1.stop();

    // What v1 alone used is retired and cleaned up: quarantined, so any caller left fails loudly.
    const v1Only = only(m1, m2);
    await retireAndCleanUp(v1Only, physical(m1, 'shop.price_with_tax(integer)'));
    s1 = await serve(v1, 'sf-v1');
    const broken = await page(s1, '/products/1');
    expect(broken.status).toBe(503);
    expect(broken.body).toMatch(/function shop\.price_with_tax__[0-9a-f]{10}\(integer\) does not exist/);
    expect((await procver(['check', '--manifest', v1.manifest], env)).code).toBe(1);

    // Roll back: restore what v1 references, put it live.
    const restored = await procverOk(['restore', '--deployment', 'storefront/sf-v1', '--reason', 'rollback drill'], env);
    expect(restored).toContain(`restored ${v1Only.length} version(s) for storefront/sf-v1:`);
    await procverOk(['deployments', 'live', '--app', 'storefront', '--id', 'sf-v1'], env);
    expect((await procver(['check', '--manifest', v1.manifest], env)).code).toBe(0);
    const listed = JSON.parse(await procverOk(['deployments', 'list', '--app', 'storefront', '--json'], env)) as { deploymentId: string; status: string }[];
    expect(listed.map((d) => [d.deploymentId, d.status]).sort()).toEqual([
      ['sf-v1', 'live'],
      ['sf-v2', 'previous'],
    ]);

    // v1's pages answer again, calling the versions it was built against.
    expect(await page(s1, '/products/1')).toMatchObject({ status: 200, versions: pricesV1 });
    expect((await page(s1, '/products/1')).body).toContain('€1.64 incl. VAT');
    expect((await page(s1, '/')).status).toBe(200);
    // v2 (now previous) keeps working…
    expect(await page(s2, '/products/1')).toMatchObject({ status: 200, versions: pricesV2 });
    expect((await page(s2, '/products/1')).body).toContain('€1.66 incl. VAT');

    // …until what it alone uses is retired and cleaned up in turn.
    await s2.stop();
    await retireAndCleanUp(only(m2, m1), physical(m2, 'shop.price_with_tax(integer)'));
    s2 = await serve(v2, 'sf-v2');
    expect((await page(s2, '/products/1')).status).toBe(503);
    expect(await page(s1, '/products/1')).toMatchObject({ status: 200, versions: pricesV1 });
  });
});
