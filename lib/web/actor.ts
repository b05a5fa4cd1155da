import 'server-only';
import { cookies, headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { readEnv } from '../config';
import { db } from '../db/pool';
import { hasRole, type Role } from '../roles';
import { userByEmail, userForSession } from '../users';

export { hasRole, type Role } from '../roles';

export interface Actor {
  name: string;
  role: Role;
}

export { SESSION_COOKIE } from './sessionCookie';
import { SESSION_COOKIE } from './sessionCookie';
import { proxyConfig, viaTrustedProxy } from './trustedProxy';

/**
 * Who is making this request: the user of a valid session cookie, or (only when
 * PROCVER_TRUST_PROXY_HEADER names a header set by an authenticating proxy) the user with that
 * email. Null when nobody is signed in.
 */
export async function currentActor(): Promise<Actor | null> {
  const proxyHeader = readEnv().PROCVER_TRUST_PROXY_HEADER;
  if (proxyHeader) {
    const h = await headers();
    const email = h.get(proxyHeader);
    // With PROCVER_TRUSTED_PROXIES set, the header counts only from those proxies: a client that
    // reaches the dashboard directly cannot name itself. Without it, the README's rule holds (the
    // proxy strips the header, and the dashboard is reachable only through it).
    const proxies = proxyConfig();
    if (email && (proxies.proxies.kind === 'none' || viaTrustedProxy(h, proxies))) {
      const u = await userByEmail(db(), email);
      return u ? { name: u.email, role: u.role } : null;
    }
  }
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!token || token.length > 200) return null;
  const u = await userForSession(db(), token);
  return u ? { name: u.email, role: u.role } : null;
}

/** For pages: sends anonymous visitors to sign in and refuses roles below `min`. */
export async function requirePageActor(min: Role = 'viewer'): Promise<Actor> {
  const actor = await currentActor();
  if (!actor) redirect('/sign-in');
  if (!hasRole(actor, min)) redirect('/forbidden');
  return actor;
}
