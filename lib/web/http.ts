import 'server-only';
import type { z } from 'zod';
import { ProcverError, httpStatus } from '../errors';
import { currentActor, hasRole, type Actor, type Role } from './actor';

export function json(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { 'cache-control': 'no-store' } });
}

function errorResponse(e: unknown): Response {
  if (e instanceof ProcverError) {
    return json({ error: e.message, code: e.code, reason: e.reason ?? null, details: e.details }, httpStatus[e.code]);
  }
  // Never a stack trace or SQL to the client.
  console.error(e);
  return json({ error: 'internal error', code: 'internal' }, 500);
}

/** Mutations only from our own pages or from clients that send no Origin (curl, automation). */
function sameOrigin(req: Request): boolean {
  const origin = req.headers.get('origin');
  if (!origin) return req.headers.get('sec-fetch-site') === null || req.headers.get('sec-fetch-site') === 'same-origin';
  const host = req.headers.get('x-forwarded-host') ?? req.headers.get('host');
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * The one wrapper every mutation goes through: origin check, body size and JSON parsing, zod
 * validation, role check, then the lib call (which writes the change and its audit entry in one
 * transaction), with errors mapped to a status and a safe message.
 */
export { sameOrigin };

export async function mutation<S extends z.ZodType, T>(
  req: Request,
  schema: S,
  minRole: Role,
  run: (input: z.infer<S>, actor: Actor) => Promise<T>,
): Promise<Response> {
  try {
    if (!sameOrigin(req)) return json({ error: 'cross-origin request refused', code: 'forbidden' }, 403);
    const text = await req.text();
    if (text.length > 64 * 1024) return json({ error: 'request body too large', code: 'invalid_input' }, 413);
    let raw: unknown;
    try {
      raw = text.length === 0 ? {} : JSON.parse(text);
    } catch {
      return json({ error: 'request body is not valid JSON', code: 'invalid_input' }, 400);
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      return json(
        {
          error: 'invalid request',
          code: 'invalid_input',
          details: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
        },
        400,
      );
    }
    const actor = await currentActor();
    if (!actor) return json({ error: 'sign in first', code: 'unauthorized' }, 401);
    if (!hasRole(actor, minRole)) return json({ error: `this needs the ${minRole} role`, code: 'forbidden' }, 403);
    return json(await run(parsed.data, actor));
  } catch (e) {
    return errorResponse(e);
  }
}

/** For GET route handlers: a signed-in user with at least `minRole`. */
export async function authorize(minRole: Role = 'viewer'): Promise<Response | null> {
  const actor = await currentActor();
  if (!actor) return json({ error: 'sign in first', code: 'unauthorized' }, 401);
  if (!hasRole(actor, minRole)) return json({ error: `this needs the ${minRole} role`, code: 'forbidden' }, 403);
  return null;
}

export async function read<T>(run: () => Promise<T>): Promise<Response> {
  try {
    const denied = await authorize('viewer');
    if (denied) return denied;
    return json(await run());
  } catch (e) {
    return errorResponse(e);
  }
}
