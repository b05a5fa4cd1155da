import { describe, expect, it } from 'vitest';
import { createPool } from '../../lib/db/client';
import { migrate } from '../../lib/db/migrate';
import { readiness } from '../../lib/ready';
import { collectUsage } from '../../lib/usage/collect';
import { createTestDatabase } from '../helpers/db';

describe('readiness (/api/ready)', () => {
  it('names each failing check in order: database, registry, collector', async () => {
    const t = await createTestDatabase({ migrated: false });
    const unreachable = createPool('postgres://nobody:secret@127.0.0.1:1/none', 1);
    const down = await readiness(unreachable, 60_000);
    await unreachable.end();
    expect(down.ready).toBe(false);
    expect(down.checks.database.ok).toBe(false);
    expect(down.checks.database.detail).toMatch(/^unreachable/);
    expect(JSON.stringify(down)).not.toContain('secret');

    const unmigrated = await readiness(t.pool, 60_000);
    expect(unmigrated.ready).toBe(false);
    expect(unmigrated.checks.database).toEqual({ ok: true, detail: 'reachable' });
    expect(unmigrated.checks.registry.ok).toBe(false);
    expect(unmigrated.checks.registry.detail).toMatch(/^\d+ migration\(s\) pending: run `procver migrate`$/);

    await migrate(t.pool);
    const neverCollected = await readiness(t.pool, 60_000);
    expect(neverCollected.checks.registry).toEqual({ ok: true, detail: 'migrated' });
    expect([neverCollected.ready, neverCollected.checks.collector]).toEqual([false, { ok: false, detail: 'no collection yet: run `procver collect`' }]);

    await collectUsage(t.db, [{ url: t.url, role: 'primary' }], {});
    const ready = await readiness(t.pool, 60_000);
    expect(ready.ready).toBe(true);
    expect(ready.checks.collector.detail).toMatch(/^last collection \d+ s ago \(at .+Z\)$/);

    // The same collection, seen two minutes later with a one-minute limit: stale.
    const later = await readiness(t.pool, 60_000, new Date(Date.now() + 120_000));
    expect(later.ready).toBe(false);
    expect(later.checks.collector.ok).toBe(false);
  });
});
