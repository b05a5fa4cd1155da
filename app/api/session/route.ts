import { z } from 'zod';
import { db } from '@/lib/db/pool';
import { ProcverError, httpStatus } from '@/lib/errors';
import { sessionHours } from '@/lib/config';
import { signIn, signOut } from '@/lib/users';
import { SESSION_COOKIE } from '@/lib/web/actor';
import { json, sameOrigin } from '@/lib/web/http';

const body = z.object({ email: z.string().trim().min(1).max(320), password: z.string().min(1).max(1024) });

function cookie(value: string, maxAge: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

/** POST /api/session {"email", "password"}: signs in and sets the session cookie. */
export async function POST(req: Request) {
  if (!sameOrigin(req)) return json({ error: 'cross-origin request refused', code: 'forbidden' }, 403);
  const text = await req.text();
  if (text.length > 8 * 1024) return json({ error: 'request body too large', code: 'invalid_input' }, 413);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return json({ error: 'request body is not valid JSON', code: 'invalid_input' }, 400);
  }
  const parsed = body.safeParse(raw);
  if (!parsed.success) return json({ error: 'email and password are required', code: 'invalid_input' }, 400);
  const client = req.headers.get('x-forwarded-for')?.split(',')[0]?.trim() || req.headers.get('x-real-ip') || 'local';
  try {
    const s = await signIn(db(), parsed.data.email, parsed.data.password, client);
    const res = json({ email: s.user.email, role: s.user.role });
    res.headers.set('set-cookie', cookie(s.token, sessionHours() * 3600, new URL(req.url).protocol === 'https:'));
    return res;
  } catch (e) {
    if (e instanceof ProcverError) return json({ error: e.message, code: e.code }, httpStatus[e.code]);
    console.error(e);
    return json({ error: 'internal error', code: 'internal' }, 500);
  }
}

/** DELETE /api/session: signs out (ends the server-side session and clears the cookie). */
export async function DELETE(req: Request) {
  if (!sameOrigin(req)) return json({ error: 'cross-origin request refused', code: 'forbidden' }, 403);
  const token = req.headers
    .get('cookie')
    ?.split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${SESSION_COOKIE}=`))
    ?.slice(SESSION_COOKIE.length + 1);
  if (token) await signOut(db(), token);
  const res = json({ signedOut: true });
  res.headers.set('set-cookie', cookie('', 0, new URL(req.url).protocol === 'https:'));
  return res;
}
