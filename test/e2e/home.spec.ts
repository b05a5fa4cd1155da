import { expect, test } from '@playwright/test';

test('the home page lists the demo procedures and deployments', async ({ page }, info) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Procedures' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'shop.place_order(integer, jsonb)' })).toBeVisible();
  const deployments = page.locator('section', { has: page.getByRole('heading', { name: 'Frontend deployments' }) });
  // The old back-office build is still live next to the newest storefront.
  await expect(deployments.getByRole('row', { name: /backoffice bo-7 live/ })).toBeVisible();
  await expect(deployments.getByRole('row', { name: /storefront sf-103 live/ })).toBeVisible();
  await expect(deployments.getByRole('row', { name: /storefront sf-102 previous/ })).toBeVisible();
  await page.screenshot({ path: info.outputPath('home.png'), fullPage: true });
});
