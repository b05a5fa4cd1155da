import { z } from 'zod';
import { db } from '@/lib/db/pool';
import { sessionHours } from '@/lib/config';
import { signIn, signOut } from '@/lib/users';
import { SESSION_COOKIE } from '@/lib/web/actor';
import { errorResponse, json, mutationInput } from '@/lib/web/http';
import { clientAddress, requestOrigin, sameOrigin } from '@/lib/web/trustedProxy';

const body = z.object({ email: z.string().trim().min(1).max(320), password: z.string().min(1).max(1024) });
const MAX_SIGN_IN_BYTES = 8 * 1024;

/** Secure whenever the dashboard is served over https (PROCVER_PUBLIC_URL or a trusted proxy says so). */
function cookie(req: Request, value: string, maxAge: number): string {
  const secure = requestOrigin(req.headers)?.secure ?? false;
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

/** POST /api/session {"email", "password"}: signs in and sets the session cookie. */
export async function POST(req: Request) {
  try {
    const input = await mutationInput(req, body, MAX_SIGN_IN_BYTES);
    if (!input.ok) return input.response;
    const s = await signIn(db(), input.input.email, input.input.password, clientAddress(req.headers));
    const res = json({ email: s.user.email, role: s.user.role });
    res.headers.set('set-cookie', cookie(req, s.token, sessionHours() * 3600));
    return res;
  } catch (e) {
    return errorResponse(e);
  }
}

/** DELETE /api/session: signs out (ends the server-side session and clears the cookie). */
export async function DELETE(req: Request) {
  if (!sameOrigin(req.headers)) return json({ error: 'cross-origin request refused', code: 'forbidden' }, 403);
  const token = req.headers
    .get('cookie')
    ?.split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${SESSION_COOKIE}=`))
    ?.slice(SESSION_COOKIE.length + 1);
  if (token && token.length <= 200) await signOut(db(), token);
  const res = json({ signedOut: true });
  res.headers.set('set-cookie', cookie(req, '', 0));
  return res;
}
