import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ProcverError } from '../errors';

export interface DashboardOptions {
  /** the standalone server directory (dist/web in the package) */
  dir: string;
  port: number;
  host: string;
  /** one JSON line per request on stdout */
  jsonLog: boolean;
  /** how long SIGTERM waits for requests in flight before it exits anyway */
  drainMs?: number;
}

export interface RunningDashboard {
  url: string;
  /** stops accepting connections and resolves when the requests in flight have finished (or drainMs passed) */
  close(): Promise<void>;
}

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
interface NextApp {
  prepare(): Promise<void>;
  getRequestHandler(): RequestHandler;
  close?(): Promise<void>;
}

function logRequest(req: IncomingMessage, res: ServerResponse, started: bigint): void {
  const path = (req.url ?? '/').split('?')[0];
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'request', method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 })}\n`,
  );
}

/**
 * Serves Next's production build from a standalone output directory with node:http: the request
 * log and the graceful shutdown are ours, the routing is Next's (its public custom-server API).
 */
export async function serveDashboard(opts: DashboardOptions): Promise<RunningDashboard> {
  const serverFiles = join(opts.dir, '.next/required-server-files.json');
  if (!existsSync(serverFiles)) {
    throw new ProcverError('config', `no dashboard build in ${opts.dir}: run \`npm run build\` (the package ships it in dist/web)`);
  }
  const { config } = JSON.parse(readFileSync(serverFiles, 'utf8')) as { config: Record<string, unknown> };
  // As Next's own standalone server.js: production mode, the traced config, paths relative to the build.
  (process.env as Record<string, string>).NODE_ENV = 'production';
  process.env.__NEXT_PRIVATE_STANDALONE_CONFIG = JSON.stringify(config);
  process.chdir(opts.dir);
  const next = createRequire(join(opts.dir, 'server.js'))('next') as (o: object) => NextApp;
  const app = next({ dev: false, dir: opts.dir, conf: config, hostname: opts.host, port: opts.port, customServer: true });
  await app.prepare();
  const handle = app.getRequestHandler();

  const server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    if (opts.jsonLog) res.once('finish', () => logRequest(req, res, started));
    handle(req, res).catch(() => {
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections would hold close() open; busy ones finish their request first.
      server.closeIdleConnections();
      const drained = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), opts.drainMs ?? 10_000).unref())]);
      if (!drained) server.closeAllConnections();
      await app.close?.().catch(() => undefined);
    },
  };
}
