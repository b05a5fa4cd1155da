import { signIn } from './auth';
import { expect, test } from '@playwright/test';
import pg from 'pg';
import { collectNow, databaseUrl, ownProcedure, restoreE2eVersions } from './fixtures';

test.beforeEach(async ({ page, request }) => {
  await signIn(page);
  await signIn(request);
});
test.afterEach(restoreE2eVersions);

test('the overview shows totals, collector state and recent changes', async ({ page, request }, info) => {
  // A change of our own, so that the newest entry is known.
  const p = await ownProcedure('overview');
  expect((await request.post(`/api/versions/e2e.${p.v1}/retire`, { data: { reason: 'overview test' } })).status()).toBe(200);
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Totals' })).toContainText('procedures');
  // The collector runs inside the demo: the primary has been read.
  await expect(page.getByRole('list', { name: 'Instances' })).toContainText(/primary 127\.0\.0\.1:\d+\/procver_demo read/);
  const recent = page.getByRole('region', { name: 'Recent changes' }).getByRole('listitem');
  await expect(recent.first()).toContainText('admin@procver.demo');
  await expect(recent.first()).toContainText('version.retire');
  await expect(recent.first()).toContainText(p.v1);
  await expect(recent).toHaveCount(10); // the newest ten; the demo seed alone wrote more than that
  await page.screenshot({ path: info.outputPath('overview.png'), fullPage: true });
});

test('the Prometheus endpoint exposes call counts and collector health', async ({ request }) => {
  const res = await request.get('/api/metrics');
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toContain('text/plain');
  const body = await res.text();
  expect(body).toContain('# TYPE procver_version_calls_total counter');
  expect(body).toMatch(/procver_instance_up\{instance="127\.0\.0\.1:\d+\/procver_demo",role="primary"\} 1/);
});

test('procedures: inlinable SQL is not counted, search and sort work', async ({ page }) => {
  await page.goto('/procedures');
  // An inlinable SQL function's calls are invisible to the counters: unknown, never 0.
  await expect(page.getByRole('row', { name: /shop\.get_customer\(integer\)/ })).toContainText('not counted');
  await page.getByLabel('Search').fill('order');
  await page.getByRole('button', { name: 'Apply' }).click();
  const names = page.locator('tbody tr td:first-child');
  await expect(names).toHaveText([
    'shop.cancel_order(integer)',
    'shop.customer_orders(integer, integer)',
    'shop.order_summary(integer)',
    'shop.place_order(integer, jsonb)',
  ]);
  await page
    .getByRole('columnheader', { name: /Procedure/ })
    .getByRole('link')
    .click(); // by name, descending
  await expect(names.first()).toHaveText('shop.place_order(integer, jsonb)');
  await expect(names).toHaveCount(4);
  await page.getByLabel('Search').fill('no such thing');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByText('No procedure matches “no such thing”')).toBeVisible();
});

test('deployments seen live are attributed from application_name', async ({ page }) => {
  const p = await ownProcedure('seen');
  // A frontend of build d2 is connected (named <app>@<deployment>) while the collector reads.
  const frontend = new pg.Client({ connectionString: databaseUrl(), application_name: `${p.app}@d2` });
  await frontend.connect();
  try {
    await collectNow();
  } finally {
    await frontend.end();
  }
  await page.goto('/deployments');
  await expect(page.getByTestId(`deployment-${p.app}/d2`)).toContainText('seen live');
  await expect(page.getByTestId(`deployment-${p.app}/d1`)).not.toContainText('seen live');
});
