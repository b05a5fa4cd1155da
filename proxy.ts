import { NextResponse, type NextRequest } from 'next/server';
import { pathNamesText } from './lib/web/params';
import { MAX_BODY_BYTES } from './lib/web/requestBody';
import { readEnv } from './lib/config';
import { SESSION_COOKIE } from './lib/web/sessionCookie';

/**
 * A request for a page with no session cookie (and no trusted proxy header) gets a real redirect
 * to sign in, before any page work starts. Pages still check the session itself on the server:
 * a cookie that is present but expired or forged is sent to sign in from there.
 */
export function proxy(req: NextRequest) {
  // Pages take no bodies beyond a server action's: refuse a large declared one before Next.js
  // buffers it for the page (the front door, lib/web/frontDoor.ts, does the same for every path).
  const declared = req.headers.get('content-length');
  if (declared !== null && !(Number(declared) <= MAX_BODY_BYTES)) {
    return NextResponse.json({ error: `request body too large (at most ${MAX_BODY_BYTES} bytes)`, code: 'invalid_input' }, { status: 413 });
  }
  // A path no procedure or version can be named by (NUL, overlong) is not found, with a real 404.
  if (!pathNamesText(req.nextUrl.pathname)) return NextResponse.rewrite(new URL('/_procver-not-found', req.url));
  const trusted = readEnv().PROCVER_TRUST_PROXY_HEADER;
  if (req.cookies.has(SESSION_COOKIE) || (trusted && req.headers.get(trusted))) return NextResponse.next();
  return NextResponse.redirect(new URL('/sign-in', req.url), 307);
}

export const config = {
  // Pages only: the API answers 401 itself, and sign-in, assets and Next's internals are public.
  matcher: ['/((?!api/|sign-in|_next/|favicon\\.ico|.*\\.(?:png|svg|ico|txt|css|js)$).*)'],
};
