import { signIn } from './auth';
import { expect, test, type Page } from '@playwright/test';

/** The version row of shop.price_with_tax used only by the previous storefront build sf-102. */
function previousOnlyRow(page: Page) {
  return page
    .locator('[data-testid^="version-price_with_tax__"]')
    .filter({ hasText: 'sf-102' })
    .filter({ hasNotText: 'sf-103' })
    .filter({ hasNotText: 'bo-7' });
}

async function openPriceWithTax(page: Page) {
  await page.goto('/procedures');
  await page.getByRole('link', { name: 'shop.price_with_tax(integer)' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'shop.price_with_tax' })).toBeVisible();
}


test.beforeEach(async ({ page, request }) => {
  await signIn(page);
  await signIn(request);
});

test('browse, retire with a reason, see it in the audit log, restore', async ({ page }, info) => {
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Procedures' }).click();
  await expect(page.getByRole('heading', { name: 'Procedures' })).toBeVisible();
  await page.screenshot({ path: info.outputPath('procedures.png'), fullPage: true });

  await openPriceWithTax(page);
  const row = previousOnlyRow(page);
  await expect(row).toHaveCount(1);
  await expect(row.locator('td').nth(1)).toHaveText('live');
  await page.screenshot({ path: info.outputPath('procedure.png'), fullPage: true });

  await row.getByRole('button', { name: /^Retire / }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Retire' })).toBeDisabled(); // a reason is required
  await dialog.getByLabel(/Reason/).fill('superseded by v3 rounding; sf-102 is only a rollback target');
  await dialog.getByRole('button', { name: 'Retire' }).click();
  await expect(dialog).toBeHidden();
  await expect(row.locator('td').nth(1)).toContainText('retired');

  // The previous storefront still sends a trickle of calls: the row turns red without a reload.
  await expect(row.getByText('still called!')).toBeVisible({ timeout: 30_000 });
  await page.screenshot({ path: info.outputPath('procedure-retired-still-called.png'), fullPage: true });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  const entry = page.getByRole('row').filter({ hasText: 'version.retire' }).first();
  await expect(entry).toContainText('superseded by v3 rounding; sf-102 is only a rollback target');
  await expect(entry).toContainText('admin@procver.demo'); // the signed-in person, not a generic actor
  await page.getByLabel('Action').selectOption('version.retire');
  await page.getByRole('button', { name: 'Filter' }).click();
  // The demo's own lifecycle retired versions too (lib/demo/lifecycle.ts): ours is there once, and nothing but retirements.
  await expect(page.getByRole('row').filter({ hasText: 'superseded by v3 rounding' })).toHaveCount(1);
  await expect(page.getByRole('row').filter({ hasText: 'version.quarantine' })).toHaveCount(0);
  await page.screenshot({ path: info.outputPath('audit.png'), fullPage: true });

  const csv = await page.request.get('/api/audit/csv?action=version.retire');
  expect(csv.headers()['content-type']).toContain('text/csv');
  const text = await csv.text();
  expect(text.split('\r\n')[0]).toBe('id,at,actor,action,target_type,target,reason,before,after');
  expect(text).toContain('"superseded by v3 rounding; sf-102 is only a rollback target"');

  await openPriceWithTax(page);
  await previousOnlyRow(page).getByRole('button', { name: /^Restore / }).click();
  await page.getByRole('dialog').getByLabel(/Reason/).fill('rollback drill');
  await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
  await expect(previousOnlyRow(page).locator('td').nth(1)).toHaveText('live');
});

test('retiring a version a live deployment uses is refused with the deployments listed', async ({ page }) => {
  await openPriceWithTax(page);
  const liveRow = page.locator('[data-testid^="version-price_with_tax__"]').filter({ hasText: 'sf-103' });
  await liveRow.getByRole('button', { name: /^Retire / }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(/Reason/).fill('trying');
  await dialog.getByRole('button', { name: 'Retire' }).click();
  const alert = dialog.getByRole('alert');
  await expect(alert).toContainText('referenced by');
  await expect(alert).toContainText('storefront/sf-103 (live)');
  await expect(alert).toContainText('backoffice/bo-8 (pending)');
  // An admin may override; the button stays disabled until that is ticked.
  await expect(dialog.getByRole('button', { name: 'Retire' })).toBeDisabled();
  await expect(dialog.getByLabel(/Retire anyway/)).toBeVisible();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(liveRow.locator('td').nth(1)).toHaveText('live');
});

test('someone else acting meanwhile: the dialog stays, says so, and the page shows fresh data', async ({ page, request }) => {
  await openPriceWithTax(page);
  const row = previousOnlyRow(page);
  const physical = (await row.getAttribute('data-testid'))!.replace('version-', '');
  await row.getByRole('button', { name: /^Retire / }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(/Reason/).fill('my reason');
  // Another operator retires it through the API while this dialog is open…
  const other = await request.post(`/api/versions/shop.${physical}/retire`, { data: { reason: 'other operator was faster' } });
  expect(other.status()).toBe(200);
  // …and the page's live data catches up underneath the open dialog.
  await expect(row.locator('td').nth(1)).toContainText('retired', { timeout: 15_000 });
  await expect(dialog.getByLabel(/Reason/)).toHaveValue('my reason');
  await dialog.getByRole('button', { name: 'Retire' }).click();
  await expect(dialog.getByRole('alert')).toContainText('changed meanwhile');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(row.locator('td').nth(1)).toContainText('retired');
  // One retire, one audit entry: the loser wrote nothing.
  const csv = await (await request.get(`/api/audit/csv?target=${physical}&action=version.retire`)).text();
  expect(csv.match(/other operator was faster/g)).toHaveLength(1);
  expect(csv).not.toContain('my reason');
  await request.post(`/api/versions/shop.${physical}/restore`, { data: { reason: 'test cleanup' } });
});

test('a version page shows its source, callers and a side-by-side diff', async ({ page }, info) => {
  await openPriceWithTax(page);
  await page.locator('[data-testid^="version-price_with_tax__"]').filter({ hasText: 'sf-103' }).getByRole('link').first().click();
  await expect(page.getByRole('heading', { name: 'Source, exactly as created' })).toBeVisible();
  await expect(page.locator('pre')).toContainText('greatest(round(p_cents * 1.21), 1)');
  await expect(page.getByRole('region', { name: 'Called by' })).toContainText('cart_total__');

  const older = page.getByLabel('Other version', { exact: true });
  const options = await older.locator('option').allTextContents();
  const v2 = options.find((o) => !o.includes('95518fe2fb'))!; // not the 20% v1
  await older.selectOption({ label: v2 });
  await page.getByRole('button', { name: 'Show diff' }).click();
  const diff = page.getByRole('table', { name: /Differences between/ });
  // Two lines differ: the CREATE line (each version has its own physical name) and the body change.
  const changed = diff.locator('[data-diff="changed"]');
  await expect(changed).toHaveCount(2);
  await expect(changed.nth(0)).toContainText(/CREATE FUNCTION shop\.price_with_tax__\w+\(p_cents integer\).*CREATE FUNCTION shop\.price_with_tax__\w+\(p_cents integer\)/);
  await expect(changed.nth(1)).toContainText('RETURN round(p_cents * 1.21);');
  await expect(changed.nth(1)).toContainText('RETURN greatest(round(p_cents * 1.21), 1);');
  await expect(diff.locator('[data-diff="same"]').filter({ hasText: 'LANGUAGE plpgsql IMMUTABLE' })).toHaveCount(1);
  await page.screenshot({ path: info.outputPath('version-diff.png'), fullPage: true });
});

test('the deployments page shows each deployment and the versions it references', async ({ page }, info) => {
  await page.goto('/deployments');
  const sf101 = page.getByTestId('deployment-storefront/sf-101');
  await expect(sf101).toContainText('previous');
  await expect(sf101).toContainText(/replaced .* ago/);
  await expect(page.getByTestId('deployment-storefront/sf-103')).toContainText(/live since .* ago/);
  // A build references many versions: they load when the deployment is opened, not with the list.
  await expect(sf101.getByRole('link', { name: /^price_with_tax__/ })).toHaveCount(0);
  await sf101.locator('summary').click();
  await expect(sf101.getByRole('link', { name: /^price_with_tax__/ })).toBeVisible();
  await page.screenshot({ path: info.outputPath('deployments.png'), fullPage: true });
});

test('the API validates input and refuses cross-origin posts', async ({ request }) => {
  const bad = await request.post('/api/versions/shop.nope__0000000000/retire', { data: { reason: '' } });
  expect(bad.status()).toBe(400);
  expect(await bad.json()).toMatchObject({ code: 'invalid_input', details: ['reason: a reason is required'] });
  const missing = await request.post('/api/versions/shop.nope__0000000000/retire', { data: { reason: 'x' } });
  expect(missing.status()).toBe(404);
  const cross = await request.post('/api/versions/shop.nope__0000000000/retire', {
    data: { reason: 'x' },
    headers: { origin: 'https://evil.example' },
  });
  expect(cross.status()).toBe(403);
  const notJson = await request.post('/api/versions/shop.nope__0000000000/retire', { data: 'nope{', headers: { 'content-type': 'application/json' } });
  expect(notJson.status()).toBe(400);
});

test('the cleanup page explains every check and keeps what is not proven unused', async ({ page, request }, info) => {
  await openPriceWithTax(page);
  const physical = (await previousOnlyRow(page).getAttribute('data-testid'))!.replace('version-', '');
  expect((await request.post(`/api/versions/shop.${physical}/retire`, { data: { reason: 'cleanup page test' } })).status()).toBe(200);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cleanup' }).click();
  const row = page.getByTestId(`plan-${physical}`);
  await expect(row).toContainText('keep');
  await expect(row).toContainText(/retired .* ago; the quiet window is 7d/);
  await expect(row).toContainText('storefront/sf-102 is a rollback target');
  await expect(row).toContainText('not quarantined yet');
  await expect(row.locator('dt')).toHaveText([/retired fail/, /deployments fail/, /usage (fail|unknown)/, /dependents fail/, /in flight unknown/]);
  // cart_total's v2 (also still live) calls it, so it has a dependent managed caller.
  await expect(row).toContainText(/managed version shop\.cart_total__\w+ calls it/);
  await expect(page.getByRole('button', { name: /Apply plan \(0\)/ })).toBeDisabled();
  await page.getByRole('button', { name: 'Re-check (dry run)' }).click();
  await expect(page.getByText(/Checked at \d\d:\d\d:\d\d UTC: 0 to drop, 0 to quarantine, \d+ to put back from quarantine, \d+ kept\. Nothing was changed\./)).toBeVisible();
  await expect(row).toContainText('keep');
  await page.screenshot({ path: info.outputPath('cleanup.png'), fullPage: true });

  // The plan filters by what it would do; nothing here would be dropped.
  const filters = page.getByRole('navigation', { name: 'Plan rows' });
  await filters.getByRole('link', { name: /^Drop \(0\)$/ }).click();
  await expect(page).toHaveURL(/\/cleanup\?show=drop$/);
  await expect(page.getByText('No version in the plan would be dropped')).toBeVisible();
  await expect(page.getByTestId(`plan-${physical}`)).toHaveCount(0);
  await filters.getByRole('link', { name: /^Keep \(\d+\)$/ }).click();
  await expect(page.getByTestId(`plan-${physical}`)).toContainText('keep');
  await expect(filters.getByRole('link', { name: /^Keep/ })).toHaveAttribute('aria-current', 'page');

  expect((await request.post(`/api/versions/shop.${physical}/restore`, { data: { reason: 'test cleanup' } })).status()).toBe(200);
});

test('a rollback target with a retired version offers to restore it', async ({ page, request }) => {
  await openPriceWithTax(page);
  const physical = (await previousOnlyRow(page).getAttribute('data-testid'))!.replace('version-', '');
  expect((await request.post(`/api/versions/shop.${physical}/retire`, { data: { reason: 'rollback target test' } })).status()).toBe(200);
  await page.goto('/deployments');
  const sf102 = page.getByTestId('deployment-storefront/sf-102');
  await expect(sf102).toContainText('rollback target has 1 retired, 0 dropped version(s)');
  page.once('dialog', (d) => d.accept('rolling back to sf-102'));
  await sf102.getByRole('button', { name: 'Restore these 1 version(s)' }).click();
  await expect(sf102).not.toContainText('retired, 0 dropped');
  const csv = await (await request.get(`/api/audit/csv?target=${physical}&action=version.restore`)).text();
  expect(csv).toContain('rolling back to sf-102 (rollback to storefront/sf-102)');
});
