import { expect, test } from '@playwright/test';
import { DEMO_PASSWORD, signIn, users } from './auth';
import { ownProcedure, restoreE2eVersions } from './fixtures';

test.afterEach(restoreE2eVersions);

test('anonymous visitors are sent to sign in; signing in and out works', async ({ page }, info) => {
  // A real redirect, before any page work: no page content in the response.
  const anon = await page.request.get('/procedures?q=x', { maxRedirects: 0 });
  expect(anon.status()).toBe(307);
  expect(new URL(anon.headers().location!, 'http://x').pathname).toBe('/sign-in');
  expect(await anon.text()).not.toContain('shop.');
  await page.goto('/procedures');
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.screenshot({ path: info.outputPath('sign-in.png') });
  await page.getByLabel('Email').fill(users.admin);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('form').getByRole('alert')).toHaveText('wrong email or password');
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.getByTestId('signed-in-as')).toContainText('admin@procver.demo admin');
  const cookie = (await page.context().cookies()).find((c) => c.name === 'procver_session')!;
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto('/audit');
  await expect(page).toHaveURL(/\/sign-in$/);
});

test('mutations: 401 without a session, 403 for a viewer, refused cross-origin', async ({ request, playwright, baseURL }) => {
  const anon = await request.post('/api/versions/shop.x__0000000000/retire', { data: { reason: 'x' } });
  expect(anon.status()).toBe(401);
  expect((await request.get('/api/usage?ids=1')).status()).toBe(401);
  expect((await request.get('/api/audit/csv')).status()).toBe(401);
  expect((await request.get('/api/metrics')).status()).toBe(401);
  expect((await request.get('/api/metrics', { headers: { authorization: 'Bearer e2e-metrics-token' } })).status()).toBe(200);
  expect((await request.get('/api/metrics', { headers: { authorization: 'Bearer wrong' } })).status()).toBe(403);

  const viewer = await playwright.request.newContext({ baseURL });
  await signIn(viewer, 'viewer');
  const denied = await viewer.post('/api/versions/shop.x__0000000000/retire', { data: { reason: 'x' } });
  expect(denied.status()).toBe(403);
  expect(await denied.json()).toMatchObject({ code: 'forbidden', error: 'this needs the operator role' });
  expect((await viewer.post('/api/cleanup', { data: { apply: true } })).status()).toBe(403);
  expect((await viewer.get('/api/usage?ids=1')).status()).toBe(200);
  await viewer.dispose();

  const admin = await playwright.request.newContext({ baseURL });
  await signIn(admin);
  const cross = await admin.post('/api/versions/shop.x__0000000000/retire', { data: { reason: 'x' }, headers: { origin: 'https://evil.example' } });
  expect(cross.status()).toBe(403);
  const huge = await admin.post('/api/versions/shop.x__0000000000/retire', { data: { reason: 'x'.repeat(70_000) } });
  expect(huge.status()).toBe(413);
  const crossSignIn = await request.post('/api/session', { data: { email: users.admin, password: DEMO_PASSWORD }, headers: { origin: 'https://evil.example' } });
  expect(crossSignIn.status()).toBe(403);
  await admin.dispose();
});

test('a viewer can read every page but gets no actions', async ({ page, request }) => {
  // A rollback target with a retired version and a plan row: the pages where admins get buttons.
  await signIn(request);
  const p = await ownProcedure('viewer');
  expect((await request.post(`/api/versions/e2e.${p.v1}/retire`, { data: { reason: 'viewer test' } })).status()).toBe(200);
  await signIn(page, 'viewer');
  const noActions = async () => {
    await expect(page.getByRole('button', { name: /^(Retire|Restore)|Apply plan|Re-check/ })).toHaveCount(0);
  };
  const pages: [string, RegExp | string][] = [
    ['/', 'Overview'],
    ['/procedures', 'Procedures'],
    [p.path, `e2e.${p.name}`],
    [`/versions/e2e/${p.v1}`, new RegExp(p.v1)],
    ['/deployments', 'Frontend deployments'],
    ['/cleanup', 'Cleanup'],
    ['/audit', 'Audit log'],
  ];
  for (const [path, heading] of pages) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1, name: heading }), path).toBeVisible();
    await noActions();
  }
  // What an admin would act on is shown, without the button.
  await page.goto('/deployments');
  await expect(page.getByTestId(`deployment-${p.app}/d1`)).toContainText('rollback target has 1 retired, 0 dropped version(s)');
  await page.goto('/cleanup');
  await expect(page.getByTestId(`plan-${p.v1}`)).toContainText('keep');
  await noActions();
});

test('brute-force sign-in is throttled', async ({ request }) => {
  const email = `nobody-${Date.now()}@example.com`;
  for (let i = 0; i < 5; i++) {
    expect((await request.post('/api/session', { data: { email, password: `guess-${i}` } })).status()).toBe(401);
  }
  const sixth = await request.post('/api/session', { data: { email, password: 'guess-6' } });
  expect(sixth.status()).toBe(429);
  expect((await sixth.json()).error).toMatch(/too many failed sign-ins/);
});

test('injection-shaped reasons are stored verbatim and the audit chain stays intact', async ({ page, request }) => {
  await signIn(page);
  await signIn(request);
  const p = await ownProcedure('injection');
  const evil = `'); DROP TABLE procver.audit_log; -- <script>alert(1)</script>`;
  expect((await request.post(`/api/versions/e2e.${p.v1}/retire`, { data: { reason: evil } })).status()).toBe(200);
  expect((await request.post(`/api/versions/e2e.${p.v1}/restore`, { data: { reason: 'undo' } })).status()).toBe(200);
  await page.goto(`/audit?target=${p.v1}&action=version.retire`);
  await expect(page.getByRole('cell', { name: evil })).toBeVisible(); // shown as text, not run
  await expect(page.getByRole('status').filter({ hasText: 'Hash chain verified' })).toBeVisible();
});

test('behind a trusted authenticating proxy, its header names the user and the role still applies', async ({ browser, request }) => {
  const asViewer = { 'x-e2e-proxy-user': users.viewer };
  expect((await request.get('/api/usage?ids=1', { headers: asViewer })).status()).toBe(200);
  const denied = await request.post('/api/versions/shop.x__0000000000/retire', { data: { reason: 'x' }, headers: asViewer });
  expect(denied.status()).toBe(403);
  // Someone the registry does not know is nobody, whatever the header says.
  expect((await request.get('/api/usage?ids=1', { headers: { 'x-e2e-proxy-user': 'stranger@example.com' } })).status()).toBe(401);

  const context = await browser.newContext({ extraHTTPHeaders: { 'x-e2e-proxy-user': users.admin } });
  const page = await context.newPage();
  await page.goto('/procedures');
  await expect(page.getByRole('heading', { name: 'Procedures' })).toBeVisible();
  await expect(page.getByTestId('signed-in-as')).toContainText('admin@procver.demo admin');
  await context.close();
});
