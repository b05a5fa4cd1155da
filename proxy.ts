import { NextResponse, type NextRequest } from 'next/server';
import { readEnv } from './lib/config';
import { SESSION_COOKIE } from './lib/web/sessionCookie';

/**
 * A request for a page with no session cookie (and no trusted proxy header) gets a real redirect
 * to sign in, before any page work starts. Pages still check the session itself on the server:
 * a cookie that is present but expired or forged is sent to sign in from there.
 */
export function proxy(req: NextRequest) {
  const trusted = readEnv().PROCVER_TRUST_PROXY_HEADER;
  if (req.cookies.has(SESSION_COOKIE) || (trusted && req.headers.get(trusted))) return NextResponse.next();
  return NextResponse.redirect(new URL('/sign-in', req.url), 307);
}

export const config = {
  // Pages only: the API answers 401 itself, and sign-in, assets and Next's internals are public.
  matcher: ['/((?!api/|sign-in|_next/|favicon\\.ico|.*\\.(?:png|svg|ico|txt|css|js)$).*)'],
};
