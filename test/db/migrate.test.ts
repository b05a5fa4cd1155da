import { describe, expect, it } from 'vitest';
import { migrate, pendingMigrations, registryMigrations, requireMigrated } from '../../lib/db/migrate';
import { createTestDatabase } from '../helpers/db';

describe('registry migrations', () => {
  it('refuses to work on a database without the registry, then migrates once', async () => {
    const t = await createTestDatabase({ migrated: false });
    await expect(requireMigrated(t.pool)).rejects.toThrow(/run `procver migrate` first/);
    expect(await migrate(t.pool)).toBe(registryMigrations().length);
    expect(await migrate(t.pool)).toBe(0);
    await expect(requireMigrated(t.pool)).resolves.toBeUndefined();
    const tables = await t.pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'procver' ORDER BY 1`);
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['audit_log', 'deployment_versions', 'deployments', 'instances', 'procedures', 'usage_samples', 'versions']),
    );
  });

  it('is safe when two processes migrate at once', async () => {
    const t = await createTestDatabase({ migrated: false });
    const applied = await Promise.all([migrate(t.pool), migrate(t.pool), migrate(t.pool)]);
    expect(applied.reduce((a, b) => a + b, 0)).toBe(registryMigrations().length);
    expect(await pendingMigrations(t.pool)).toEqual([]);
  });

  it('stores no regprocedure or other reg* columns (pg_upgrade refuses them)', async () => {
    const t = await createTestDatabase();
    const r = await t.pool.query(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'procver' AND udt_name LIKE 'reg%'`,
    );
    expect(r.rows).toEqual([]);
  });
});
