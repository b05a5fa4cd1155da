import { expect, type APIRequestContext, type Page } from '@playwright/test';

export const DEMO_PASSWORD = 'e2e-demo-password';
export const users = { admin: 'admin@procver.demo', viewer: 'viewer@procver.demo' } as const;

/** Signs in through the API; for a page, its browser context keeps the session cookie. */
export async function signIn(target: Page | APIRequestContext, who: keyof typeof users = 'admin'): Promise<void> {
  const request = 'request' in target ? target.request : target;
  const res = await request.post('/api/session', { data: { email: users[who], password: DEMO_PASSWORD } });
  expect(res.status(), await res.text()).toBe(200);
}
