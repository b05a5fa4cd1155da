import { signIn } from './auth';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { callVersion, collectNow, ownProcedure, registry, restoreE2eVersions, type OwnProcedure } from './fixtures';

/** The demo's shop.price_with_tax page (read-only tests may use the demo data). */
async function openPriceWithTax(page: Page) {
  await page.goto('/procedures');
  await page.getByRole('link', { name: 'shop.price_with_tax(integer)' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'shop.price_with_tax' })).toBeVisible();
}

/** The row of one version on its procedure's page. */
const versionRow = (page: Page, physical: string) => page.getByTestId(`version-${physical}`);

async function retireThroughApi(request: APIRequestContext, p: OwnProcedure, physical: string, reason: string) {
  const res = await request.post(`/api/versions/${p.schema}.${physical}/retire`, { data: { reason } });
  expect(res.status(), await res.text()).toBe(200);
}

/** The cleanup plan as the API computes it: what the page's counts must say. */
async function planCounts(request: APIRequestContext) {
  const res = await request.post('/api/cleanup', { data: { apply: false } });
  expect(res.status()).toBe(200);
  const rows = ((await res.json()) as { rows: { version: string; action: string }[] }).rows;
  const n = (a: string) => rows.filter((r) => r.action === a).length;
  return { rows, drop: n('drop'), quarantine: n('quarantine'), release: n('release'), keep: n('keep') };
}

test.beforeEach(async ({ page, request }) => {
  await signIn(page);
  await signIn(request);
});
// Whatever a test retired goes back to live, passed or failed: no test sees another's leftovers.
test.afterEach(restoreE2eVersions);

test('browse, retire with a reason, see it in the audit log, restore', async ({ page }, info) => {
  const p = await ownProcedure('browse');
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Procedures' }).click();
  await expect(page.getByRole('heading', { name: 'Procedures' })).toBeVisible();
  await page.screenshot({ path: info.outputPath('procedures.png'), fullPage: true });

  await page.getByLabel('Search').fill(p.name);
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('link', { name: `${p.schema}.${p.name}(integer)` }).click();
  await expect(page.getByRole('heading', { level: 1, name: `${p.schema}.${p.name}` })).toBeVisible();
  const row = versionRow(page, p.v1);
  await expect(row.locator('td').nth(1)).toHaveText('live');
  await page.screenshot({ path: info.outputPath('procedure.png'), fullPage: true });

  await row.getByRole('button', { name: /^Retire / }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Retire' })).toBeDisabled(); // a reason is required
  await dialog.getByLabel(/Reason/).fill('superseded by v2; d1 is only a rollback target');
  await dialog.getByRole('button', { name: 'Retire' }).click();
  await expect(dialog).toBeHidden();
  await expect(row.locator('td').nth(1)).toContainText('retired');
  await expect(row.getByText('still called!')).toHaveCount(0);

  // The previous build still calls it: once collected, the row turns red without a reload
  // (the page polls every 5 s; three polls is the budget).
  await callVersion(p.v1, 3, `${p.app}@d1`);
  await collectNow();
  await expect(row.getByText('still called!')).toBeVisible({ timeout: 15_000 });
  await page.screenshot({ path: info.outputPath('procedure-retired-still-called.png'), fullPage: true });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await page.getByLabel('Target').fill(p.v1);
  await page.getByLabel('Action').selectOption('version.retire');
  await page.getByRole('button', { name: 'Filter' }).click();
  const entries = page.getByRole('row').filter({ hasText: 'version.retire' });
  await expect(entries).toHaveCount(1);
  await expect(entries).toContainText('superseded by v2; d1 is only a rollback target');
  await expect(entries).toContainText('admin@procver.demo'); // the signed-in person, not a generic actor
  await page.screenshot({ path: info.outputPath('audit.png'), fullPage: true });

  const csv = await page.request.get(`/api/audit/csv?action=version.retire&target=${p.v1}`);
  expect(csv.status()).toBe(200);
  expect(csv.headers()['content-type']).toContain('text/csv');
  const lines = (await csv.text()).trim().split('\r\n');
  expect(lines[0]).toBe('id,at,actor,action,target_type,target,reason,before,after');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain('"superseded by v2; d1 is only a rollback target"');

  await page.goto(p.path);
  await versionRow(page, p.v1)
    .getByRole('button', { name: /^Restore / })
    .click();
  await page
    .getByRole('dialog')
    .getByLabel(/Reason/)
    .fill('rollback drill');
  await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
  await expect(versionRow(page, p.v1).locator('td').nth(1)).toHaveText('live');
});

test('retiring a version a live deployment uses is refused with the deployments listed; an admin may override', async ({ page }) => {
  const p = await ownProcedure('refused');
  await page.goto(p.path);
  const liveRow = versionRow(page, p.v2);
  await liveRow.getByRole('button', { name: /^Retire / }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(/Reason/).fill('trying');
  await dialog.getByRole('button', { name: 'Retire' }).click();
  const alert = dialog.getByRole('alert');
  await expect(alert).toContainText('referenced by');
  await expect(alert).toContainText(`${p.app}/d2 (live)`);
  await expect(alert).not.toContainText(`${p.app}/d1`); // previous: a rollback target, not a user
  // An admin may override; the button stays disabled until that is ticked.
  await expect(dialog.getByRole('button', { name: 'Retire' })).toBeDisabled();
  await dialog.getByLabel(/Retire anyway/).check();
  await dialog.getByLabel(/Reason/).fill('incident 42: v2 corrupts totals');
  await dialog.getByRole('button', { name: 'Retire' }).click();
  await expect(dialog).toBeHidden();
  await expect(liveRow.locator('td').nth(1)).toContainText('retired');
  // The audit log records the override as such.
  const csv = await (await page.request.get(`/api/audit/csv?target=${p.v2}`)).text();
  const entries = csv.trim().split('\r\n').slice(1);
  expect(entries).toHaveLength(1);
  expect(entries[0]).toContain('"version.retire.override"');
  expect(entries[0]).toContain('incident 42: v2 corrupts totals');
});

test('someone else acting meanwhile: the dialog stays, says so, and the page shows fresh data', async ({ page, request }) => {
  const p = await ownProcedure('race');
  await page.goto(p.path);
  const row = versionRow(page, p.v1);
  await row.getByRole('button', { name: /^Retire / }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(/Reason/).fill('my reason');
  // Another operator retires it through the API while this dialog is open…
  await retireThroughApi(request, p, p.v1, 'other operator was faster');
  // …and the page's live data catches up underneath the open dialog (5 s polls).
  await expect(row.locator('td').nth(1)).toContainText('retired', { timeout: 15_000 });
  await expect(dialog.getByLabel(/Reason/)).toHaveValue('my reason');
  await dialog.getByRole('button', { name: 'Retire' }).click();
  await expect(dialog.getByRole('alert')).toContainText('changed meanwhile');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(row.locator('td').nth(1)).toContainText('retired');
  // One retire, one audit entry: the loser wrote nothing.
  const csv = await (await request.get(`/api/audit/csv?target=${p.v1}&action=version.retire`)).text();
  expect(csv.match(/other operator was faster/g)).toHaveLength(1);
  expect(csv).not.toContain('my reason');
  const restored = await request.post(`/api/versions/${p.schema}.${p.v1}/restore`, { data: { reason: 'test cleanup' } });
  expect(restored.status(), await restored.text()).toBe(200);
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
  await expect(changed.nth(0)).toContainText(
    /CREATE FUNCTION shop\.price_with_tax__\w+\(p_cents integer\).*CREATE FUNCTION shop\.price_with_tax__\w+\(p_cents integer\)/,
  );
  await expect(changed.nth(1)).toContainText('RETURN round(p_cents * 1.21);');
  await expect(changed.nth(1)).toContainText('RETURN greatest(round(p_cents * 1.21), 1);');
  await expect(diff.locator('[data-diff="same"]').filter({ hasText: 'LANGUAGE plpgsql IMMUTABLE' })).toHaveCount(1);
  await page.screenshot({ path: info.outputPath('version-diff.png'), fullPage: true });
});

test('the deployments page shows each deployment and the versions it references', async ({ page }, info) => {
  const p = await ownProcedure('deployments');
  await page.goto('/deployments');
  const d1 = page.getByTestId(`deployment-${p.app}/d1`);
  await expect(d1).toContainText('previous');
  await expect(d1).toContainText('replaced 2 hours ago');
  await expect(page.getByTestId(`deployment-${p.app}/d2`)).toContainText('live since 2 hours ago');
  // A build references many versions: they load when the deployment is opened, not with the list.
  await expect(d1.getByRole('link', { name: p.v1 })).toHaveCount(0);
  await d1.locator('summary').click();
  await expect(d1.getByRole('link', { name: p.v1 })).toBeVisible();
  await expect(d1.getByRole('link', { name: p.v2 })).toHaveCount(0);
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
  const p = await ownProcedure('plan');
  await retireThroughApi(request, p, p.v1, 'cleanup page test');
  // Retired long ago (so that check passes whatever this machine's speed), and still called.
  await registry().pool.query(`UPDATE procver.versions SET status_changed_at = now() - interval '1 day' WHERE physical_name = $1`, [p.v1]);
  await callVersion(p.v1, 2, `${p.app}@d1`);
  await collectNow();

  await page.goto('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cleanup' }).click();
  const row = page.getByTestId(`plan-${p.v1}`);
  await expect(row).toContainText('keep');
  await expect(row).toContainText(/retired 1d ago; the quiet window is 20s/);
  await expect(row).toContainText(`${p.app}/d1 is a rollback target`);
  await expect(row).toContainText(/called on 127\.0\.0\.1:\d+\/procver_demo \d+s ago/);
  await expect(row).toContainText('not quarantined yet');
  await expect(row.locator('dt')).toHaveText([/retired pass/, /deployments fail/, /usage fail/, /dependents pass/, /in flight unknown/]);
  const counts = await planCounts(request);
  expect(counts.rows).toContainEqual({ version: `${p.schema}.${p.v1}`, action: 'keep' });
  await expect(page.getByRole('button', { name: `Apply plan (${counts.drop + counts.quarantine + counts.release})` })).toBeVisible();
  await page.getByRole('button', { name: 'Re-check (dry run)' }).click();
  await expect(
    page.getByText(
      new RegExp(
        `Checked at \\d\\d:\\d\\d:\\d\\d UTC: ${counts.drop} to drop, ${counts.quarantine} to quarantine, ${counts.release} to put back from quarantine, ${counts.keep} kept\\. Nothing was changed\\.`,
      ),
    ),
  ).toBeVisible();
  await expect(row).toContainText('keep');
  await page.screenshot({ path: info.outputPath('cleanup.png'), fullPage: true });

  // The plan filters by what it would do; this version would not be dropped.
  const filters = page.getByRole('navigation', { name: 'Plan rows' });
  await filters.getByRole('link', { name: /^Drop \(\d+\)$/ }).click();
  await expect(page).toHaveURL(/\/cleanup\?show=drop$/);
  await expect(page.getByTestId(`plan-${p.v1}`)).toHaveCount(0);
  await filters.getByRole('link', { name: /^Keep \(\d+\)$/ }).click();
  await expect(page.getByTestId(`plan-${p.v1}`)).toContainText('keep');
  await expect(filters.getByRole('link', { name: /^Keep/ })).toHaveAttribute('aria-current', 'page');
});

test('a rollback target with a retired version offers to restore it', async ({ page, request }) => {
  const p = await ownProcedure('rollback');
  await retireThroughApi(request, p, p.v1, 'rollback target test');
  await page.goto('/deployments');
  const d1 = page.getByTestId(`deployment-${p.app}/d1`);
  await expect(d1).toContainText('rollback target has 1 retired, 0 dropped version(s)');
  page.once('dialog', (d) => d.accept('rolling back to d1'));
  await d1.getByRole('button', { name: 'Restore these 1 version(s)' }).click();
  await expect(d1).not.toContainText('retired, 0 dropped');
  const csv = await (await request.get(`/api/audit/csv?target=${p.v1}&action=version.restore`)).text();
  expect(csv).toContain(`rolling back to d1 (rollback to ${p.app}/d1)`);
});
