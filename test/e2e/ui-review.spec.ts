import { expect, test } from '@playwright/test';
import { signIn } from './auth';

// What the dashboard review fixed, on the demo's lifecycle (lib/demo/lifecycle.ts): get_product's v0
// is quarantined and price_with_tax's v0 dropped by cleanup runs on the first start.

test('an invalid address names the parameter and links to the page without it', async ({ page }) => {
  await signIn(page);
  await page.goto('/cleanup?show=bogus');
  const alert = page.getByRole('alert').filter({ hasText: 'Invalid address' });
  await expect(alert).toContainText('show: ');
  await page.getByRole('link', { name: 'Open /cleanup without it' }).click();
  await expect(page).toHaveURL(/\/cleanup$/);
  await expect(page.getByRole('heading', { name: 'Cleanup' })).toBeVisible();
});

test('a quarantined version says so on its procedure page and its own page', async ({ page }) => {
  await signIn(page);
  await page.goto('/procedures/shop/get_product');
  const retired = page.locator('tr[data-testid^="version-get_product__"]').filter({ has: page.getByText('retired', { exact: true }) });
  await expect(retired).toHaveCount(1);
  await expect(retired).toContainText('quarantined');
  const physical = (await retired.getAttribute('data-testid'))!.slice('version-'.length);
  await page.goto(`/versions/shop/${physical}`);
  await expect(page.getByTestId('quarantine')).toContainText(`renamed to ${physical}__quarantined by cleanup`);
});

test('the cleanup plan summary has the CLI words, and a dropped version links to its page', async ({ page }) => {
  await signIn(page);
  await page.goto('/cleanup');
  await expect(
    page.getByRole('heading', { name: /^Plan: \d+ retired version\(s\): \d+ to drop, \d+ to quarantine, \d+ to put back from quarantine, \d+ kept$/ }),
  ).toBeVisible();
  const dropped = page.getByRole('region', { name: /Dropped versions/ }).getByRole('link', { name: /^shop\.price_with_tax__\w+$/ });
  await expect(dropped).toHaveCount(1);
  await dropped.click();
  await expect(page).toHaveURL(/\/versions\/shop\/price_with_tax__\w+$/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('dropped');
});
