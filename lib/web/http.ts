import 'server-only';
import type { z } from 'zod';
import { requireMigrated } from '../db/migrate';
import { pool } from '../db/pool';
import { ProcverError, httpStatus } from '../errors';
import { currentActor, hasRole, type Actor, type Role } from './actor';
import { MAX_BODY_BYTES, readJsonBody } from './requestBody';
import { sameOrigin } from './trustedProxy';
import { databaseProblem } from './dbProblem';

export function json(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { 'cache-control': 'no-store' } });
}

export function errorResponse(e: unknown): Response {
  if (e instanceof ProcverError) {
    return json({ error: e.message, code: e.code, reason: e.reason ?? null, details: e.details }, httpStatus[e.code]);
  }
  // Never a stack trace or SQL to the client.
  console.error(e);
  // The database down is not a bug in procver: say so, and 503 so clients and proxies retry.
  const problem = databaseProblem(e);
  if (problem) return json({ error: problem.message, code: 'unavailable' }, problem.status);
  return json({ error: 'internal error', code: 'internal' }, 500);
}

/**
 * What every mutation checks before any session or database work: the origin (trusted-proxy
 * aware, scheme included), then the body, read as JSON under a size limit while it streams in,
 * then the zod schema. Either the parsed input or the response refusing the request.
 */
export async function mutationInput<S extends z.ZodType>(
  req: Request,
  schema: S,
  maxBytes: number,
): Promise<{ ok: true; input: z.infer<S> } | { ok: false; response: Response }> {
  if (!sameOrigin(req.headers)) return { ok: false, response: json({ error: 'cross-origin request refused', code: 'forbidden' }, 403) };
  const body = await readJsonBody(req, maxBytes);
  if (!body.ok) return { ok: false, response: json({ error: body.error, code: 'invalid_input' }, body.status) };
  const parsed = schema.safeParse(body.value);
  if (!parsed.success) {
    return { ok: false, response: invalidRequest(parsed.error, '(body)') };
  }
  return { ok: true, input: parsed.data };
}

/** 400 naming each rejected field. */
export function invalidRequest(error: z.ZodError, whole = '(query)'): Response {
  return json({ error: 'invalid request', code: 'invalid_input', details: error.issues.map((i) => `${i.path.join('.') || whole}: ${i.message}`) }, 400);
}

/**
 * The one wrapper every mutation goes through: origin check, body size and JSON parsing, zod
 * validation, role check, then the lib call (which writes the change and its audit entry in one
 * transaction), with errors mapped to a status and a safe message.
 */
export async function mutation<S extends z.ZodType, T>(req: Request, schema: S, minRole: Role, run: (input: z.infer<S>, actor: Actor) => Promise<T>): Promise<Response> {
  try {
    const input = await mutationInput(req, schema, MAX_BODY_BYTES);
    if (!input.ok) return input.response;
    const actor = await currentActor();
    if (!actor) return json({ error: 'sign in first', code: 'unauthorized' }, 401);
    if (!hasRole(actor, minRole)) return json({ error: `this needs the ${minRole} role`, code: 'forbidden' }, 403);
    // A dashboard older (or newer) than the registry would write without what the other version records.
    await requireMigrated(pool());
    return json(await run(input.input, actor));
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
