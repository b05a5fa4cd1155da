import { beforeAll, describe, expect, it } from 'vitest';
import { buildManifest } from '../../lib/compile/outputs';
import { addDeployment, deploymentVersionsPage, pageDeployments } from '../../lib/deployments';
import { pushVersions } from '../../lib/push';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { compileFiles } from '../helpers/sources';

const push = { actor: 'test', grants: { roles: [], publicExecute: true }, sourceLabel: 'test' };

describe('deployment pages (keyset)', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
    const files: Record<string, string> = {};
    for (let i = 0; i < 12; i++) files[`f${i}.sql`] = `CREATE FUNCTION app.f${i}() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN ${i}; END $$;`;
    const compiled = await compileFiles(files);
    await pushVersions(t.db, compiled, push);
    const manifest = buildManifest(compiled);
    // Seven deployments; several in one transaction share created_at, so the id breaks the tie.
    for (let i = 1; i <= 7; i++) await addDeployment(t.db, { app: i % 2 ? 'web' : 'admin', deploymentId: `d${i}`, manifest, live: false, actor: 'ci' });
    await t.pool.query(`UPDATE procver.deployments SET created_at = '2026-11-01T10:00:00.123456Z' WHERE deployment_id IN ('d3', 'd4', 'd5')`);
    await t.pool.query(`UPDATE procver.versions SET status = 'retired' WHERE physical_name LIKE 'f7\\_\\_%' OR physical_name LIKE 'f10\\_\\_%'`);
  });

  it('pages deployments newest first, each once, with counts for the page only', async () => {
    const seen: string[] = [];
    let older: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await pageDeployments(t.db, { limit: 3, older });
      seen.push(...page.rows.map((r) => r.deploymentId));
      expect(page.rows.every((r) => r.versions === 12 && r.retired === 2 && r.dropped === 0)).toBe(true);
      if (!page.older) break;
      older = page.older;
    }
    expect(seen).toEqual(['d7', 'd6', 'd2', 'd1', 'd5', 'd4', 'd3']);
  });

  it('lists the versions of one deployment, retired and dropped first, a page at a time', async () => {
    const first = await deploymentVersionsPage(t.db, 'web', 'd1', { limit: 5 });
    expect(first!.rows.map((r) => `${r.procedure}:${r.status}`)).toEqual(['f10:retired', 'f7:retired', 'f0:live', 'f1:live', 'f11:live']);
    const rest = await deploymentVersionsPage(t.db, 'web', 'd1', { limit: 50, after: first!.next! });
    expect(rest!.rows).toHaveLength(7);
    expect(rest!.next).toBeNull();
    expect(await deploymentVersionsPage(t.db, 'web', 'nope')).toBeNull();
    await expect(deploymentVersionsPage(t.db, 'web', 'd1', { after: 'garbage' })).rejects.toThrow(/cursor is not valid/);
  });
});
