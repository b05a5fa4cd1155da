import { expect, type Page, test } from '@playwright/test';
import { quarantineLikeCleanup } from '../helpers/cleanup';
import { signIn } from './auth';
import { ownProcedure, registry } from './fixtures';

const versionRow = (page: Page, physical: string) => page.getByTestId(`version-${physical}`);

// What the dashboard review fixed. The dropped-version link uses the demo's lifecycle
// (lib/demo/lifecycle.ts: price_with_tax's v0 is dropped on the first start; nothing restores it).

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
  // Its own procedure, quarantined the way cleanup does it: other tests apply cleanup to the demo's.
  const p = await ownProcedure('quarantined', { deployments: false });
  await registry().pool.query(`UPDATE procver.versions SET status = 'retired', status_changed_at = now() WHERE physical_name = $1`, [p.v1]);
  await quarantineLikeCleanup(registry().db, p.v1);
  await signIn(page);
  await page.goto(p.path);
  const retired = versionRow(page, p.v1);
  await expect(retired).toContainText('retired');
  await expect(retired).toContainText('quarantined');
  await page.goto(`/versions/${p.schema}/${p.v1}`);
  await expect(page.getByTestId('quarantine')).toContainText(`renamed to ${p.v1}__quarantined by cleanup`);
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
