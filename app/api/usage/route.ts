import { inArray } from 'drizzle-orm';
import { connection } from 'next/server';
import { z } from 'zod';
import { db } from '@/lib/db/pool';
import { versions } from '@/lib/db/schema';
import { usageForVersions, usageWindows } from '@/lib/usage';
import { usageTargets } from '@/lib/config';
import { json, read } from '@/lib/web/http';

const query = z.object({
  ids: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'comma-separated version ids')
    .transform((s) => [...new Set(s.split(',').map(Number))])
    .refine((a) => a.length <= 500, 'at most 500 ids'),
  window: z.enum(Object.keys(usageWindows) as [keyof typeof usageWindows]).default('24h'),
});

/** GET /api/usage?ids=1,2&window=24h: live call counts and status for the versions on a page. */
export async function GET(req: Request) {
  await connection();
  const parsed = query.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!parsed.success) return json({ error: 'invalid request', code: 'invalid_input', details: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }, 400);
  const { ids, window } = parsed.data;
  return read(async () => {
    const [usage, rows] = await Promise.all([
      usageForVersions(db(), ids, window, usageTargets()),
      db().select({ id: versions.id, status: versions.status, revision: versions.revision, statusChangedAt: versions.statusChangedAt }).from(versions).where(inArray(versions.id, ids)),
    ]);
    return {
      window,
      versions: Object.fromEntries(rows.map((r) => [r.id, { status: r.status, revision: r.revision, statusChangedAt: r.statusChangedAt, usage: usage.get(r.id) ?? null }])),
    };
  });
}
