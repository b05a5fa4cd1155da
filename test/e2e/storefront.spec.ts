import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { procverProcess, succeeded } from '../helpers/cli';
import { buildStorefront, startStorefront, type RunningStorefront, type StorefrontBuild } from '../helpers/storefront';
import { signIn } from './auth';

/**
 * A real frontend wired as the README says: examples/storefront built against the demo shop's v3,
 * registered, and serving with application_name `storefront@<id>` (poolConfig() in procs.ts).
 * The collector inside `procver dev` sees its sessions, and the Deployments page says "seen live".
 */

/** The e2e cluster started by `procver dev` (playwright.config.ts): its port is in postmaster.pid. */
function demoDatabaseUrl(): string {
  const stateDir = process.env.E2E_STATE_DIR;
  if (!stateDir) throw new Error('E2E_STATE_DIR is not set: run through playwright.config.ts');
  const port = readFileSync(join(stateDir, 'pgdata/postmaster.pid'), 'utf8').split('\n')[3]?.trim();
  return `postgres://postgres:procver@127.0.0.1:${port}/procver_demo`;
}

const deployment = `sf-e2e-${randomBytes(3).toString('hex')}`;
let build: StorefrontBuild | undefined;
let storefront: RunningStorefront | undefined;

test.afterAll(async () => {
  await storefront?.stop();
  build?.remove();
});

test('a storefront serving with its deployment identity shows as "seen live"', async ({ page }, info) => {
  test.setTimeout(180_000);
  const url = demoDatabaseUrl();
  build = await buildStorefront(join(process.cwd(), 'examples/shop/v3'), url, deployment);
  // Registered, not put live: the other browser tests expect the demo's live builds.
  const add = ['deployments', 'add', '--app', 'storefront', '--id', deployment, '--manifest', build.manifest];
  succeeded(add, await procverProcess(add, { DATABASE_URL: url }));
  await signIn(page);
  const row = page.getByTestId(`deployment-storefront/${deployment}`);
  await page.goto('/deployments');
  await expect(row).toContainText('pending');
  await expect(row.getByText('seen live')).toHaveCount(0); // nothing connected under that name yet

  storefront = await startStorefront(build, { DATABASE_URL: url, PROCVER_APP: 'storefront', PROCVER_DEPLOYMENT: deployment });
  const shop = storefront;
  const product = await fetch(`${shop.url}/products/1`);
  expect(product.status).toBe(200);
  expect(await product.text()).toContain('incl. VAT');

  // The collector in `procver dev` reads pg_stat_activity every 5 s; keep the storefront's
  // connection in use meanwhile, as a serving frontend would.
  await expect(async () => {
    expect((await fetch(`${shop.url}/`)).status).toBe(200);
    await page.goto('/deployments');
    await expect(row.getByText('seen live')).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 60_000, intervals: [1000, 2000] });
  await page.screenshot({ path: info.outputPath('deployments-seen-live.png'), fullPage: true });
});
