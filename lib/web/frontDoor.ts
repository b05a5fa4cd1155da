import http from 'node:http';
import { readEnv, type Env } from '../config';
import { MAX_BODY_BYTES } from './requestBody';
import { peerHeaderName } from './trustedProxy';

/**
 * The front door: the first code that sees each HTTP request, before Next.js reads a byte of it
 * (installed from instrumentation.ts by wrapping the HTTP server's 'request' event, since
 * `next start` offers no hook earlier than the proxy, and the proxy sees neither the socket nor
 * when the response ends). It
 * - stamps the socket peer address on the request under a per-process random header name, the
 *   only address lib/web/trustedProxy.ts trusts;
 * - refuses a declared body over the largest any route accepts (413) and a page request whose body
 *   has no declared length (411), before anything buffers it; API routes count chunked bodies
 *   themselves (lib/web/requestBody.ts);
 * - bounds the page and API work in progress: past the limit a request is answered 503 with
 *   Retry-After at once, instead of queueing without bound behind the database pool.
 */
export interface FrontDoorOptions {
  /** page and API requests handled at once; PROCVER_MAX_CONCURRENT_REQUESTS, default 16 */
  maxConcurrent: number;
}

const INSTALLED = Symbol.for('procver.frontDoor');
const g = globalThis as unknown as { [INSTALLED]?: { inFlight: () => number } };

/** Static files and Next's own assets are cheap and cached: they never count against the limit. */
function isWork(url: string): boolean {
  return !url.startsWith('/_next/static/') && !url.startsWith('/_next/image') && !/^\/[^/?]*\.(?:ico|png|svg|txt|css|js)(?:\?|$)/.test(url);
}

/** How long a client may go on sending a refused body (discarded) while it reads our answer. */
const REFUSED_BODY_GRACE_MS = 1000;

function refuse(req: http.IncomingMessage, res: http.ServerResponse, status: number, error: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error, code: status === 503 ? 'overloaded' : 'invalid_input' });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(body);
  // Closing at once would reset the connection while the client is still sending, and a reset can
  // discard our answer before the client reads it. Node discards the rest of the body meanwhile
  // (nothing is kept), and a body still arriving after the grace period ends the connection.
  if (!req.complete) {
    const timer = setTimeout(() => req.socket.destroy(), REFUSED_BODY_GRACE_MS);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
  }
}

export function frontDoorOptions(env: Env = readEnv()): FrontDoorOptions {
  return { maxConcurrent: env.PROCVER_MAX_CONCURRENT_REQUESTS ?? 16 };
}

export function installFrontDoor(options: FrontDoorOptions = frontDoorOptions()): void {
  if (g[INSTALLED]) return;
  const peerHeader = peerHeaderName(true)!;
  let inFlight = 0;
  g[INSTALLED] = { inFlight: () => inFlight };
  const emit = http.Server.prototype.emit as (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;
  http.Server.prototype.emit = function frontDoorEmit(this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'request') return emit.call(this, event, ...args);
    const [req, res] = args as [http.IncomingMessage, http.ServerResponse];
    req.headers[peerHeader] = req.socket.remoteAddress ?? '';
    const url = req.url ?? '/';
    const declared = req.headers['content-length'];
    if (declared !== undefined && !(Number(declared) <= MAX_BODY_BYTES)) {
      refuse(req, res, 413, `request body too large (at most ${MAX_BODY_BYTES} bytes)`);
      return true;
    }
    if (declared === undefined && req.headers['transfer-encoding'] !== undefined && !url.startsWith('/api/')) {
      refuse(req, res, 411, 'a request body needs a Content-Length here');
      return true;
    }
    if (isWork(url)) {
      if (inFlight >= options.maxConcurrent) {
        refuse(req, res, 503, 'the server is busy; try again shortly', { 'retry-after': '1' });
        return true;
      }
      inFlight++;
      res.once('close', () => inFlight--);
    }
    return emit.call(this, event, ...args);
  };
}
