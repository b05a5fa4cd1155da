import { expect, test } from '@playwright/test';
import { signIn } from './auth';

test.beforeEach(async ({ page }) => {
  await signIn(page);
});

test('a trigger in the sources shows as a binding on the procedure and version pages; properties on the version page', async ({ page }, info) => {
  await page.goto('/procedures/shop/stamp_updated_at');
  await expect(page.getByRole('heading', { level: 1, name: 'shop.stamp_updated_at' })).toBeVisible();
  // v3 changed the function: the trigger moved to v3's version.
  const bindings = page.getByRole('list', { name: 'Bindings' });
  await expect(bindings).toContainText(/bound by trigger products_stamp on shop\.products → stamp_updated_at__[0-9a-f]{10}/);
  await page.screenshot({ path: info.outputPath('procedure-bindings.png'), fullPage: true });
  await bindings.getByRole('link').click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('stamp_updated_at__');
  await expect(page.locator('pre')).toContainText('clock_timestamp()');
  await expect(page.getByRole('list', { name: 'Bindings' })).toContainText('bound by trigger products_stamp on shop.products');

  await page.goto('/procedures/shop/price_with_tax');
  await page.locator('[data-testid^="version-price_with_tax__"]').first().getByRole('link').first().click();
  const properties = page.getByRole('region', { name: 'Properties' });
  await expect(properties).toContainText('Price in cents including VAT');
  await expect(properties).toContainText("COMMENT ON ROUTINE shop.price_with_tax(integer) IS 'Price in cents including VAT'");
  await page.screenshot({ path: info.outputPath('version-properties.png'), fullPage: true });
});
