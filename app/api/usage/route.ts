import { inArray } from 'drizzle-orm';
import { connection } from 'next/server';
import { db } from '@/lib/db/pool';
import { versions } from '@/lib/db/schema';
import { usageForVersions } from '@/lib/usage';
import { usageTargets } from '@/lib/config';
import { json, read } from '@/lib/web/http';
import { parseQuery, queries } from '@/lib/web/params';

/** GET /api/usage?ids=1,2&window=24h: live call counts and status for the versions on a page. */
export async function GET(req: Request) {
  await connection();
  const parsed = parseQuery(queries.usage, new URL(req.url).searchParams);
  if (!parsed.ok) return json({ error: 'invalid request', code: 'invalid_input', details: parsed.issues }, 400);
  const { ids, window } = parsed.value;
  return read(async () => {
    const [usage, rows] = await Promise.all([
      usageForVersions(db(), ids, window, usageTargets()),
      db()
        .select({ id: versions.id, status: versions.status, revision: versions.revision, statusChangedAt: versions.statusChangedAt })
        .from(versions)
        .where(inArray(versions.id, ids)),
    ]);
    return {
      window,
      versions: Object.fromEntries(
        rows.map((r) => [r.id, { status: r.status, revision: r.revision, statusChangedAt: r.statusChangedAt, usage: usage.get(r.id) ?? null }]),
      ),
    };
  });
}
