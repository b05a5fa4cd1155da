import { describe, expect, it } from 'vitest';
import { auditActions, verifyAuditChain, writeAudit } from '../../lib/audit';
import { createTestDatabase } from '../helpers/db';

async function entries(t: Awaited<ReturnType<typeof createTestDatabase>>, n: number) {
  for (let i = 0; i < n; i++) {
    await t.db.transaction((tx) => writeAudit(tx, { actor: `a${i}`, action: 'test', targetType: 'registry', target: `t${i}`, reason: `r${i}`, after: { i } }));
  }
}

describe('audit log integrity', () => {
  it('is append-only in the database itself', async () => {
    const t = await createTestDatabase();
    await entries(t, 2);
    await expect(t.pool.query(`UPDATE procver.audit_log SET reason = 'changed'`)).rejects.toThrow(/append-only: UPDATE is not allowed/);
    await expect(t.pool.query(`DELETE FROM procver.audit_log`)).rejects.toThrow(/append-only: DELETE is not allowed/);
    await expect(t.pool.query(`TRUNCATE procver.audit_log`)).rejects.toThrow(/append-only: TRUNCATE is not allowed/);
    expect(await verifyAuditChain(t.db)).toEqual({ ok: true, entries: 2, brokenAt: null });
  });

  it('chains every entry to the one before, also under concurrent writers', async () => {
    const t = await createTestDatabase();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.db.transaction((tx) => writeAudit(tx, { actor: 'x', action: 'c', targetType: 'registry', target: String(i) }))),
    );
    const v = await verifyAuditChain(t.db);
    expect(v).toEqual({ ok: true, entries: 20, brokenAt: null });
    const seqs = (await t.pool.query('SELECT seq FROM procver.audit_log ORDER BY seq')).rows.map((r) => Number(r.seq));
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('lists each action once, in order, for the filter', async () => {
    const t = await createTestDatabase();
    expect(await auditActions(t.db)).toEqual([]);
    for (const action of ['version.retire', 'push', 'version.retire', 'cleanup.drop', 'push']) {
      await t.db.transaction((tx) => writeAudit(tx, { actor: 'x', action, targetType: 'registry', target: 't' }));
    }
    expect(await auditActions(t.db)).toEqual(['cleanup.drop', 'push', 'version.retire']);
  });

  it('reports the first broken link when someone with superuser rights edits or deletes a row', async () => {
    const t = await createTestDatabase();
    await entries(t, 5);
    await t.pool.query(`ALTER TABLE procver.audit_log DISABLE TRIGGER audit_no_update_delete`);
    await t.pool.query(`UPDATE procver.audit_log SET reason = 'nothing to see' WHERE seq = 3`);
    expect(await verifyAuditChain(t.db)).toMatchObject({
      ok: false,
      entries: 5,
      brokenAt: { seq: 3, problem: 'its content does not match its hash (changed after it was written)' },
    });
    await t.pool.query(`UPDATE procver.audit_log SET reason = 'r2' WHERE seq = 3`);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
    await t.pool.query(`DELETE FROM procver.audit_log WHERE seq = 2`);
    expect(await verifyAuditChain(t.db)).toMatchObject({ ok: false, brokenAt: { seq: 3, problem: 'entries before it are missing (seq 2 expected)' } });
  });

  it('stores injection-shaped input verbatim and harmlessly', async () => {
    const t = await createTestDatabase();
    const evil = `x'); DROP TABLE procver.audit_log; --`;
    await t.db.transaction((tx) => writeAudit(tx, { actor: evil, action: 'test', targetType: 'registry', target: '"; DELETE FROM x; --', reason: evil }));
    const r = await t.pool.query('SELECT actor, target, reason FROM procver.audit_log');
    expect(r.rows[0]).toEqual({ actor: evil, target: '"; DELETE FROM x; --', reason: evil });
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });

  it('recomputes every hash itself: a database hash function replaced to agree with the stored hash fools nothing', async () => {
    const t = await createTestDatabase();
    await entries(t, 4);
    // Content the database's JSON rendering escapes: quotes, backslashes, control characters, non-ASCII, nested JSON.
    await t.db.transaction((tx) =>
      writeAudit(tx, {
        actor: 'ü "q" \\ \u0001\t',
        action: 'x',
        targetType: 'registry',
        target: 'e\u2028',
        reason: null,
        before: { b: [1, 2.5, 'ß'], a: null, long_key: { z: true } },
        after: 'text',
      }),
    );
    await entries(t, 1);
    expect(await verifyAuditChain(t.db)).toEqual({ ok: true, entries: 6, brokenAt: null });
    await t.pool.query(`CREATE OR REPLACE FUNCTION procver.audit_entry_hash(prev text, e procver.audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT e.hash $$`);
    await t.pool.query(`ALTER TABLE procver.audit_log DISABLE TRIGGER audit_no_update_delete`);
    await t.pool.query(`UPDATE procver.audit_log SET reason = 'nothing to see' WHERE seq = 2`);
    expect(await verifyAuditChain(t.db)).toMatchObject({
      ok: false,
      entries: 6,
      brokenAt: { seq: 2, problem: 'its content does not match its hash (changed after it was written)' },
    });
  });
});
