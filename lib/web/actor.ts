import 'server-only';
import { z } from 'zod';

export type Role = 'viewer' | 'operator' | 'admin';

export interface Actor {
  name: string;
  role: Role;
}

const env = z.object({
  PROCVER_DASHBOARD_ACTOR: z.string().min(1).default('dashboard'),
  PROCVER_DASHBOARD_ROLE: z.enum(['viewer', 'operator', 'admin']).default('admin'),
});

/**
 * Who is acting in the dashboard. Until sign-in exists (issue 6) the dashboard acts as one
 * configured identity; every mutation already goes through here, so sessions replace only this.
 */
export async function currentActor(): Promise<Actor> {
  const e = env.parse({
    PROCVER_DASHBOARD_ACTOR: process.env.PROCVER_DASHBOARD_ACTOR || undefined,
    PROCVER_DASHBOARD_ROLE: process.env.PROCVER_DASHBOARD_ROLE || undefined,
  });
  return { name: e.PROCVER_DASHBOARD_ACTOR, role: e.PROCVER_DASHBOARD_ROLE };
}
