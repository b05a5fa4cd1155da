/**
 * Reading a JSON request body with a size limit that holds while the body arrives: a declared
 * Content-Length over the limit is refused before a byte is read, and a body sent without one
 * (chunked) is counted chunk by chunk and abandoned as soon as it passes the limit, so memory stays
 * at the limit whatever the client sends. Runs before any session or database work.
 */
export type BodyResult = { ok: true; value: unknown } | { ok: false; status: 400 | 413 | 415; error: string };

/** The largest body any route accepts; the front door refuses larger declared bodies for every path. */
export const MAX_BODY_BYTES = 64 * 1024;

function isJson(contentType: string | null): boolean {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  return mediaType === 'application/json';
}

export async function readJsonBody(req: Request, maxBytes: number): Promise<BodyResult> {
  const declared = req.headers.get('content-length');
  if (declared !== null && (!/^\d+$/.test(declared) || Number(declared) > maxBytes)) {
    return { ok: false, status: 413, error: `request body too large (at most ${maxBytes} bytes)` };
  }
  const hasBody = req.body !== null && declared !== '0';
  // No body at all reads as {} (a mutation whose fields all have defaults); any body must be JSON.
  if (hasBody && !isJson(req.headers.get('content-type'))) {
    return { ok: false, status: 415, error: 'send the request body as JSON (content-type: application/json)' };
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return { ok: false, status: 413, error: `request body too large (at most ${maxBytes} bytes)` };
      }
      chunks.push(value);
    }
  }
  if (total === 0) return { ok: true, value: {} };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    return { ok: false, status: 400, error: 'request body is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, status: 400, error: 'request body is not valid JSON' };
  }
}
