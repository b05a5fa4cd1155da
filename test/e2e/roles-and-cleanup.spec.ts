import { expect, test, type Page } from '@playwright/test';
import { retireVersion } from '../../lib/versions';
import { signIn } from './auth';
import { callVersion, collectNow, newUser, ownProcedure, registry, restoreE2eVersions } from './fixtures';

test.afterEach(restoreE2eVersions);

/** The instance's latest reading as the registry holds it (the e2e server reads one instance). */
async function storedReading() {
  const r = await registry().pool.query<{ attempt: Date; collected: Date; age_ms: number }>(
    `SELECT last_attempt_at AS attempt, last_collected_at AS collected, extract(epoch FROM clock_timestamp() - last_collected_at) * 1000 AS age_ms FROM procver.instances`,
  );
  expect(r.rows).toHaveLength(1);
  return r.rows[0]!;
}

/**
 * Opens the Cleanup page once the stored reading is older than the collection interval (1 s here),
 * so that a visit which may read does read, then checks the registry against the reading before it.
 * `procver dev`'s own collector also reads, every 5 s: a visit it fell into fails `check` and is made
 * again; a page that reads when it should not fails every time.
 */
async function visitCleanupAfterTheInterval(page: Page, check: (before: Awaited<ReturnType<typeof storedReading>>) => Promise<void>) {
  await expect(async () => {
    const age = (await storedReading()).age_ms;
    if (age < 1500) await page.waitForTimeout(1500 - age);
    const before = await storedReading();
    await page.goto('/cleanup');
    await expect(page.getByTestId('plan-evidence')).toBeVisible({ timeout: 10_000 });
    await check(before);
  }).toPass({ timeout: 45_000, intervals: [500] });
}

test('a viewer sees the cleanup plan on the stored reading and its age; the visit takes no usage reading', async ({ page }, info) => {
  const p = await ownProcedure('viewer_plan');
  await retireVersion(registry().db, { name: p.v1, reason: 'viewer plan test', actor: 'e2e:setup' });
  await signIn(page, 'viewer');
  await visitCleanupAfterTheInterval(page, async (before) => {
    // No reading: the instance's row is as it was before the visit.
    expect(await storedReading()).toMatchObject({ attempt: before.attempt, collected: before.collected });
    const evidence = page.getByTestId('plan-evidence');
    await expect(evidence).toHaveText(/^Evidence read \d+ seconds? ago: the latest stored reading; viewing this page takes none\./);
    await expect(evidence.locator('time')).toHaveAttribute('datetime', before.collected.toISOString());
  });
  await expect(page.getByTestId(`plan-${p.v1}`)).toContainText('keep');
  await expect(page.getByRole('button', { name: /Apply plan|Re-check/ })).toHaveCount(0);
  await page.screenshot({ path: info.outputPath('cleanup-viewer.png'), fullPage: true });
});

test('an operator visiting the Cleanup page reads every instance when the last reading is older than the collection interval', async ({ page }, info) => {
  const p = await ownProcedure('operator_plan');
  await retireVersion(registry().db, { name: p.v1, reason: 'operator plan test', actor: 'e2e:setup' });
  const who = await newUser('operator');
  expect((await page.request.post('/api/session', { data: { email: who.email, password: who.password } })).status()).toBe(200);
  await visitCleanupAfterTheInterval(page, async (before) => {
    const after = await storedReading();
    expect(after.collected.getTime()).toBeGreaterThan(before.collected.getTime());
    // Read by the page, not by the collector just before it (then the page would say it reused that).
    const evidence = page.getByTestId('plan-evidence');
    await expect(evidence).toHaveText(/^Evidence read (now|\d+ seconds? ago): the instances were read for this view\./);
    await expect(evidence.locator('time')).toHaveAttribute('datetime', after.collected.toISOString());
  });
  await expect(page.getByTestId(`plan-${p.v1}`)).toContainText('keep');
  await expect(page.getByRole('button', { name: 'Re-check (dry run)' })).toBeVisible();
  await page.screenshot({ path: info.outputPath('cleanup-operator.png'), fullPage: true });
});

test('an operator may retire, restore and dry-run cleanup, but not override or apply (HTTP)', async ({ playwright, baseURL }) => {
  const p = await ownProcedure('operator');
  const who = await newUser('operator');
  const operator = await playwright.request.newContext({ baseURL });
  const signedIn = await operator.post('/api/session', { data: { email: who.email, password: who.password } });
  expect(signedIn.status(), await signedIn.text()).toBe(200);
  const post = (path: string, data: unknown) => operator.post(path, { data });

  // v2 is what the live d2 uses: refused as for anyone, and the override is an admin's.
  const refused = await post(`/api/versions/e2e.${p.v2}/retire`, { reason: 'try' });
  expect(refused.status()).toBe(409);
  expect(await refused.json()).toMatchObject({ reason: 'referenced' });
  const override = await post(`/api/versions/e2e.${p.v2}/retire`, { reason: 'try harder', override: true });
  expect(override.status()).toBe(403);
  expect(await override.json()).toMatchObject({ code: 'forbidden' });

  expect((await post(`/api/versions/e2e.${p.v1}/retire`, { reason: 'operator retires' })).status()).toBe(200);
  expect((await post('/api/cleanup', { apply: false })).status()).toBe(200);
  const apply = await post('/api/cleanup', { apply: true });
  expect(apply.status()).toBe(403);
  expect(await apply.json()).toMatchObject({ code: 'forbidden', error: 'only an admin can apply cleanup' });
  expect((await post(`/api/versions/e2e.${p.v1}/restore`, { reason: 'operator restores' })).status()).toBe(200);

  // Refused requests changed nothing: v2 is live, and the audit log has the two allowed changes only.
  const rows = await registry().pool.query(`SELECT action, actor FROM procver.audit_log WHERE target IN ($1, $2) AND actor = $3 ORDER BY id`, [
    `e2e.${p.v1}`,
    `e2e.${p.v2}`,
    who.email,
  ]);
  expect(rows.rows).toEqual([
    { action: 'version.retire', actor: who.email },
    { action: 'version.restore', actor: who.email },
  ]);
  const v2 = await registry().pool.query('SELECT status FROM procver.versions WHERE physical_name = $1', [p.v2]);
  expect(v2.rows).toEqual([{ status: 'live' }]);
  await operator.dispose();
});

test('an admin applies cleanup in the browser (quarantine, then drop) and restores the dropped version', async ({ page, request }) => {
  test.setTimeout(120_000);
  await signIn(page);
  await signIn(request);
  // Nothing references these versions and nobody calls them: cleanup may take v1 once retired.
  const p = await ownProcedure('apply', { deployments: false });
  expect((await request.post(`/api/versions/e2e.${p.v1}/retire`, { data: { reason: 'apply test' } })).status()).toBe(200);
  await registry().pool.query(`UPDATE procver.versions SET status_changed_at = now() - interval '1 day' WHERE physical_name = $1`, [p.v1]);
  const actionOf = async () => {
    await collectNow();
    const res = await request.post('/api/cleanup', { data: { apply: false } });
    return ((await res.json()) as { rows: { version: string; action: string }[] }).rows.find((r) => r.version === `e2e.${p.v1}`)?.action;
  };
  // The usage history must cover the 20 s quiet window; on a fresh server that takes up to 20 s.
  await expect.poll(actionOf, { timeout: 60_000, intervals: [1000] }).toBe('quarantine');

  await page.goto('/cleanup');
  await expect(page.getByTestId(`plan-${p.v1}`)).toContainText('quarantine');
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: /^Apply plan \(\d+\)$/ }).click();
  await expect(page.getByRole('status').filter({ hasText: `e2e.${p.v1}` })).toContainText(/quarantined e2e\.\w+: renamed to/);
  const status = async () => (await registry().pool.query('SELECT status, quarantine_name FROM procver.versions WHERE physical_name = $1', [p.v1])).rows[0];
  expect(await status()).toEqual({ status: 'retired', quarantine_name: `${p.v1}__quarantined` });

  // The 2 s quarantine passes with no transaction older than the rename: the next apply drops it.
  await expect.poll(actionOf, { timeout: 30_000, intervals: [1000] }).toBe('drop');
  await page.reload();
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: /^Apply plan \(\d+\)$/ }).click();
  await expect(page.getByRole('status').filter({ hasText: `e2e.${p.v1}` })).toContainText(/dropped e2e\.\w+/);
  expect((await status()).status).toBe('dropped');

  // The dropped list offers Restore; it re-creates the function and the version is live again.
  await page.reload();
  const dropped = page
    .getByRole('region', { name: 'Dropped versions' })
    .getByRole('listitem')
    .filter({ hasText: `e2e.${p.v1}` });
  await dropped.getByRole('button', { name: /^Restore / }).click();
  await page
    .getByRole('dialog')
    .getByLabel(/Reason/)
    .fill('needed after all');
  await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
  await expect(page.getByRole('dialog')).toBeHidden();
  expect(await status()).toEqual({ status: 'live', quarantine_name: null });
  await callVersion(p.v1, 1); // the function is back and answers
});

test('the audit log filters by actor, action, target and date in the browser', async ({ page, request }) => {
  await signIn(page);
  await signIn(request);
  const p = await ownProcedure('audit');
  expect((await request.post(`/api/versions/e2e.${p.v1}/retire`, { data: { reason: 'audit filter test' } })).status()).toBe(200);
  expect((await request.post(`/api/versions/e2e.${p.v1}/restore`, { data: { reason: 'audit filter undo' } })).status()).toBe(200);
  await page.goto('/audit');
  const rows = page.locator('tbody tr');

  await page.getByLabel('Target').fill(p.v1);
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText('version.restore');
  await expect(rows.nth(1)).toContainText('version.retire');

  await page.getByLabel('Action').selectOption('version.retire');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows).toContainText('audit filter test');

  await page.getByLabel('Actor').fill('nobody-like-this');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(rows.filter({ hasText: 'version.retire' })).toHaveCount(0);
  await page.getByLabel('Actor').fill('admin@procver.demo');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(rows).toHaveCount(1);

  // Dates are UTC days: the entry's own day holds it, the day after does not (taken from the
  // entry itself, so a run across midnight still knows which day that is).
  const days = await registry().pool.query<{ d: string; next: string }>(
    `SELECT (at AT TIME ZONE 'UTC')::date::text AS d, ((at AT TIME ZONE 'UTC')::date + 1)::text AS next
     FROM procver.audit_log WHERE target = $1 AND action = 'version.retire'`,
    [`e2e.${p.v1}`],
  );
  const { d: today, next: tomorrow } = days.rows[0]!;
  await page.getByLabel('From').fill(today);
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(rows).toHaveCount(1);
  await page.getByLabel('From').fill(tomorrow);
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(rows.filter({ hasText: 'version.retire' })).toHaveCount(0);
  await expect(page).toHaveURL(new RegExp(`from=${tomorrow}`));
});

test('the Audit page shows a broken hash chain, naming the first broken entry', async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page);
  const { pool } = registry();
  // Someone with superuser rights edits an entry behind the append-only trigger…
  const victim = (await pool.query(`SELECT id, actor FROM procver.audit_log ORDER BY id DESC LIMIT 1`)).rows[0] as { id: number; actor: string };
  const edit = async (actor: string) => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('ALTER TABLE procver.audit_log DISABLE TRIGGER audit_no_update_delete');
      await c.query('UPDATE procver.audit_log SET actor = $1 WHERE id = $2', [actor, victim.id]);
      await c.query('ALTER TABLE procver.audit_log ENABLE TRIGGER audit_no_update_delete');
      await c.query('COMMIT');
    } finally {
      c.release();
    }
  };
  // The dashboard reuses one verification for up to 30 s (lib/web/auditChain.ts REUSE_MS): reload
  // until the verdict is fresh, within that period and a margin.
  const chainVerdict = async (text: RegExp) => {
    await expect(async () => {
      await page.goto('/audit');
      await expect(page.getByText(text)).toBeVisible({ timeout: 2000 });
    }).toPass({ timeout: 45_000, intervals: [2000] });
  };
  await edit('someone else');
  try {
    await chainVerdict(/The audit log was tampered with/);
    await expect(page.getByRole('alert').filter({ hasText: 'tampered' })).toHaveText(
      new RegExp(`The audit log was tampered with: entry #\\d+ \\(id ${victim.id}\\) — its content does not match its hash`),
    );
    await expect(page.getByRole('status').filter({ hasText: 'Hash chain verified' })).toHaveCount(0);
  } finally {
    await edit(victim.actor); // …and the original content makes the chain whole again
  }
  // Left as found, the cached verdict included: later tests see a verified chain.
  await chainVerdict(/Hash chain verified/);
});

test('a dashboard older than its registry (a newer procver migrated it) refuses changes, naming the fix, and is not ready', async ({ request }) => {
  await signIn(request);
  const p = await ownProcedure('newer_registry', { deployments: false });
  const marker = `a-migration-from-a-newer-procver-${p.v1}`;
  await registry().pool.query('INSERT INTO procver.__drizzle_migrations (hash, created_at) VALUES ($1, 0)', [marker]);
  try {
    const refused = await request.post(`/api/versions/e2e.${p.v1}/retire`, { data: { reason: 'old dashboard' } });
    expect(refused.status()).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'not_migrated', error: expect.stringContaining('1 migration(s) this procver does not know') });
    const ready = await request.get('/api/ready');
    expect(ready.status()).toBe(503);
    expect((await registry().pool.query('SELECT status FROM procver.versions WHERE physical_name = $1', [p.v1])).rows).toEqual([{ status: 'live' }]);
  } finally {
    await registry().pool.query('DELETE FROM procver.__drizzle_migrations WHERE hash = $1', [marker]);
  }
  expect((await request.post(`/api/versions/e2e.${p.v1}/retire`, { data: { reason: 'same version again' } })).status()).toBe(200);
});
