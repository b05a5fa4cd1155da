import { expect, test } from '@playwright/test';

test('the home page lists the demo procedures and deployments', async ({ page }, info) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Procedures' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'shop.place_order(integer, jsonb)' })).toBeVisible();
  const deployments = page.locator('section', { has: page.getByRole('heading', { name: 'Frontend deployments' }) });
  // The old back-office build is still live next to the newest storefront.
  await expect(deployments.getByRole('row', { name: /backoffice bo-7 live/ })).toBeVisible();
  await expect(deployments.getByRole('row', { name: /storefront sf-103 live/ })).toBeVisible();
  // The simulated storefront connects as storefront@sf-103: attributed at the next collection.
  await expect(async () => {
    await page.reload();
    await expect(deployments.getByRole('row', { name: /storefront sf-103 live/ })).toContainText('seen live', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await expect(deployments.getByRole('row', { name: /backoffice bo-8 pending/ })).not.toContainText('seen live');
  await expect(deployments.getByRole('row', { name: /storefront sf-102 previous/ })).toBeVisible();
  // An inlinable SQL function's calls are invisible to the counters: unknown, never 0.
  await expect(page.getByRole('row', { name: /shop\.get_customer\(integer\)/ })).toContainText('not counted');
  // The collector runs inside the demo: the primary has been read.
  await expect(page.getByLabel('Instances')).toContainText(/primary 127\.0\.0\.1:\d+\/procver_demo read \d+ s ago/);
  await page.screenshot({ path: info.outputPath('home.png'), fullPage: true });
});

test('the Prometheus endpoint exposes call counts and collector health', async ({ request }) => {
  const res = await request.get('/api/metrics');
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toContain('text/plain');
  const body = await res.text();
  expect(body).toContain('# TYPE procver_version_calls_total counter');
  expect(body).toMatch(/procver_instance_up\{instance="127\.0\.0\.1:\d+\/procver_demo",role="primary"\} 1/);
});
