import { z } from 'zod';
import type { AuditFilter } from '../audit';

const params = z.object({
  actor: z.string().max(200).optional(),
  action: z.string().max(100).optional(),
  target: z.string().max(200).optional(),
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
  before: z.coerce.number().int().positive().optional(),
});

/** The audit filter from URL search params (the page and the CSV export share it). */
export function auditFilterFromParams(raw: Record<string, string | string[] | undefined>): { ok: true; value: AuditFilter } | { ok: false; error: string } {
  const flat = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v || undefined]));
  const p = params.safeParse(flat);
  if (!p.success) return { ok: false, error: p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  const { from, to, ...rest } = p.data;
  return {
    ok: true,
    value: {
      ...rest,
      from: from ? new Date(`${from}T00:00:00Z`) : undefined,
      // "to" is a whole day, inclusive
      to: to ? new Date(`${to}T23:59:59.999Z`) : undefined,
    },
  };
}
