import { eq, sql } from 'drizzle-orm';
import { quarantineNameFor } from '../../lib/cleanup/apply';
import { recordQuarantineBarriers } from '../../lib/cleanup/barrier';
import { signature, takeDropSnapshot } from '../../lib/cleanup/snapshot';
import { createTripwire, dropTripwire } from '../../lib/cleanup/tripwire';
import type { Db } from '../../lib/db/client';
import { versions } from '../../lib/db/schema';
import { quoteIdent } from '../../lib/identifiers';

// Cleanup's own steps without its waiting (quiet window, quarantine period): for tests of what
// comes after a quarantine or a drop. test/cleanup/cleanup.test.ts runs the real thing.

/** What cleanup's quarantine does: the same function renamed, its tripwire under the old name, recorded in the registry. */
export async function quarantineLikeCleanup(db: Db, physical: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [v] = await tx.select().from(versions).where(eq(versions.physicalName, physical));
    const fn = (await signature(tx, v!.schema, physical))!;
    await tx.execute(sql.raw(`ALTER ROUTINE ${fn.sig} RENAME TO ${quoteIdent(quarantineNameFor(physical))}`));
    await createTripwire(tx, v!.schema, physical, quarantineNameFor(physical), fn.oid);
    await tx
      .update(versions)
      .set({ status: 'retired', quarantineName: quarantineNameFor(physical), quarantinedAt: sql`now()` })
      .where(eq(versions.id, v!.id));
    await recordQuarantineBarriers(tx, v!.id);
  });
}

/** What cleanup's drop does after the quarantine: snapshot, DROP (with the tripwire), registry row. */
export async function dropLikeCleanup(db: Db, physical: string): Promise<void> {
  const [before] = await db.select().from(versions).where(eq(versions.physicalName, physical));
  if (!before!.quarantineName) await quarantineLikeCleanup(db, physical);
  await db.transaction(async (tx) => {
    const [v] = await tx.select().from(versions).where(eq(versions.physicalName, physical));
    const fn = (await signature(tx, v!.schema, v!.quarantineName!))!;
    const snapshot = await takeDropSnapshot(tx, v!.id, fn.oid);
    await dropTripwire(tx, v!.schema, physical);
    await tx.execute(sql.raw(`DROP ROUTINE ${fn.sig} RESTRICT`));
    await tx.update(versions).set({ status: 'dropped', dropSnapshot: snapshot, droppedAt: sql`now()`, oid: null }).where(eq(versions.id, v!.id));
  });
}
