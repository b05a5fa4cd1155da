import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { expect, test } from '@playwright/test';
import { signIn } from './auth';

/** The demo database of the server playwright.config.ts started (its embedded cluster's port is in postmaster.pid). */
async function demoDatabase(): Promise<pg.Client> {
  const port = readFileSync(join(process.env.E2E_STATE_DIR!, 'pgdata/postmaster.pid'), 'utf8').split('\n')[3];
  const c = new pg.Client({ connectionString: `postgres://postgres:procver@127.0.0.1:${port}/procver_demo` });
  await c.connect();
  return c;
}

test('drift: the overview lists a version whose code was changed in the database, its page shows what runs instead', async ({ page }, info) => {
  await signIn(page);
  const db = await demoDatabase();
  const v = (
    await db.query<{ schema: string; physical_name: string; sig: string; cost: number }>(`
      SELECT v.schema, v.physical_name, p.oid::regprocedure::text AS sig, p.procost AS cost
      FROM procver.versions v JOIN pg_namespace n ON n.nspname = v.schema JOIN pg_proc p ON p.pronamespace = n.oid AND p.proname = v.physical_name
      WHERE v.status = 'live' AND v.language = 'plpgsql' AND p.prokind = 'f' ORDER BY v.physical_name LIMIT 1`)
  ).rows[0]!;
  try {
    await page.goto('/');
    await expect(page.getByText('No drift: every managed version in the database has the code procver created.')).toBeVisible();

    await db.query(`ALTER FUNCTION ${v.sig} COST 777`);
    await page.reload();
    const drift = page.getByRole('region', { name: 'Drift' });
    await expect(drift.getByText('1 version(s) drifted: someone changed their code in the database.')).toBeVisible();
    await page.screenshot({ path: info.outputPath('overview-drift.png'), fullPage: true });
    await drift.getByRole('link', { name: `${v.schema}.${v.physical_name}` }).click();

    const banner = page.getByRole('alert').filter({ has: page.getByRole('heading', { name: "Drift: the database does not run this version's source" }) });
    await expect(banner).toBeVisible();
    await expect(banner).toContainText(`${v.schema}.${v.physical_name}: its code in the database is not what procver created`);
    await expect(banner.locator('pre')).toContainText('COST 777');
    await page.screenshot({ path: info.outputPath('version-drift.png'), fullPage: true });
  } finally {
    await db.query(`ALTER FUNCTION ${v.sig} COST ${v.cost}`);
    await db.end();
  }
  // Procver's code back: no drift.
  await page.goto('/');
  await expect(page.getByText('No drift: every managed version in the database has the code procver created.')).toBeVisible();
});
