import { signIn } from './auth';
import { expect, test } from '@playwright/test';


test.beforeEach(async ({ page, request }) => {
  await signIn(page);
  await signIn(request);
});

test('the overview shows totals, collector state and recent changes', async ({ page }, info) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Totals' })).toContainText('procedures');
  // The collector runs inside the demo: the primary has been read.
  await expect(page.getByRole('list', { name: 'Instances' })).toContainText(/primary 127\.0\.0\.1:\d+\/procver_demo read/);
  // The newest entries (what they are depends on what ran before): each names who and what.
  const recent = page.getByRole('region', { name: 'Recent changes' }).getByRole('listitem');
  await expect(recent.first()).toContainText(/(admin@procver\.demo|demo:seed).*(version|deployment|user)\.\w+/);
  expect(await recent.count()).toBeGreaterThan(0);
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
  await expect(names).toHaveText(['shop.cancel_order(integer)', 'shop.customer_orders(integer, integer)', 'shop.order_summary(integer)', 'shop.place_order(integer, jsonb)']);
  await page.getByRole('columnheader', { name: /Procedure/ }).getByRole('link').click(); // by name, descending
  await expect(names.first()).toHaveText('shop.place_order(integer, jsonb)');
  await expect(names).toHaveCount(4);
  await page.getByLabel('Search').fill('no such thing');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByText('No procedure matches “no such thing”')).toBeVisible();
});

test('deployments seen live are attributed from application_name', async ({ page }) => {
  // The simulated storefront connects as storefront@sf-103: attributed at the next collection.
  await expect(async () => {
    await page.goto('/deployments');
    await expect(page.getByTestId('deployment-storefront/sf-103')).toContainText('seen live', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByTestId('deployment-backoffice/bo-8')).not.toContainText('seen live');
});
