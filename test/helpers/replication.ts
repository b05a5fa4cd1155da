import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { createDb, createPool, type Db } from '../../lib/db/client';
import { migrate } from '../../lib/db/migrate';
import { databaseUrlFor, freePort } from '../../lib/embedded';

const run = promisify(execFile);
const PG_BIN = process.env.PROCVER_REPLICA_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Why the replica tests cannot run here, or null when they can. */
export function replicationUnavailable(): string | null {
  for (const b of ['initdb', 'postgres', 'pg_basebackup']) {
    if (!existsSync(join(PG_BIN, b))) return `no ${b} in ${PG_BIN} (install Debian's postgresql-15 or set PROCVER_REPLICA_PG_BIN)`;
  }
  if (userInfo().uid === 0) {
    try {
      execFileSync('id', ['-u', 'postgres']);
    } catch {
      return 'running as root and there is no "postgres" user to run PostgreSQL as';
    }
  }
  return null;
}

function runAs(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  };
}

async function waitReady(url: string, standby: boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const r = await c.query('SELECT pg_is_in_recovery() AS r');
      await c.end();
      if (r.rows[0].r === standby) return;
    } catch {
      await c.end().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`PostgreSQL at ${url} did not become ready`);
}

export interface ReplicatedPair {
  primaryAdminUrl: string;
  standbyAdminUrl: string;
  /** Resolves once the standby has replayed everything the primary has written so far. */
  waitForReplay(): Promise<void>;
  stop(): Promise<void>;
}

async function waitForReplay(primaryAdminUrl: string, standbyAdminUrl: string): Promise<void> {
  const primary = new pg.Client({ connectionString: primaryAdminUrl });
  const standby = new pg.Client({ connectionString: standbyAdminUrl });
  await primary.connect();
  await standby.connect();
  try {
    const lsn = (await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    for (let i = 0; i < 300; i++) {
      const r = await standby.query<{ caught_up: boolean }>('SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS caught_up', [lsn]);
      if (r.rows[0]!.caught_up) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`the standby did not replay up to ${lsn} within 30 s`);
  } finally {
    await primary.end();
    await standby.end();
  }
}

/** A real primary and a hot standby streaming from it, in a temporary directory. */
export async function startPrimaryAndStandby(): Promise<ReplicatedPair> {
  const ids = runAs();
  const base = mkdtempSync(join(tmpdir(), 'procver-repl-'));
  chmodSync(base, 0o755);
  if (ids.uid !== undefined) chownSync(base, ids.uid, ids.gid!);
  const primaryDir = join(base, 'primary');
  const standbyDir = join(base, 'standby');
  const [pPort, sPort] = [await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGINT');
  };
  process.on('exit', killAll);

  await run(join(PG_BIN, 'initdb'), ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], ids);
  appendFileSync(
    join(primaryDir, 'postgresql.conf'),
    `\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\ntrack_functions = 'all'\nfsync = off\nwal_level = replica\nmax_wal_senders = 5\n`,
  );
  const start = (dir: string, port: number) => {
    const child = spawn(join(PG_BIN, 'postgres'), ['-D', dir, '-p', String(port)], { ...ids, stdio: 'ignore' });
    children.push(child);
  };
  start(primaryDir, pPort);
  const primaryAdminUrl = `postgres://postgres@127.0.0.1:${pPort}/postgres`;
  await waitReady(primaryAdminUrl, false);
  await run(join(PG_BIN, 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(pPort), '-U', 'postgres', '-D', standbyDir, '-R', '-X', 'stream', '--no-sync'], ids);
  start(standbyDir, sPort);
  const standbyAdminUrl = `postgres://postgres@127.0.0.1:${sPort}/postgres`;
  await waitReady(standbyAdminUrl, true);

  return {
    primaryAdminUrl,
    standbyAdminUrl,
    waitForReplay: () => waitForReplay(primaryAdminUrl, standbyAdminUrl),
    async stop() {
      process.off('exit', killAll);
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGINT');
            }),
        ),
      );
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** One plain PostgreSQL server from PG_BIN (Debian's 15), in a temporary directory. */
export async function startServer(): Promise<{ adminUrl: string; stop(): Promise<void> }> {
  const ids = runAs();
  const base = mkdtempSync(join(tmpdir(), 'procver-pg-'));
  chmodSync(base, 0o755);
  if (ids.uid !== undefined) chownSync(base, ids.uid, ids.gid!);
  const dir = join(base, 'data');
  const port = await freePort();
  await run(join(PG_BIN, 'initdb'), ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], ids);
  appendFileSync(join(dir, 'postgresql.conf'), `\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nfsync = off\n`);
  const child = spawn(join(PG_BIN, 'postgres'), ['-D', dir, '-p', String(port)], { ...ids, stdio: 'ignore' });
  const kill = () => child.exitCode === null && child.kill('SIGINT');
  process.on('exit', kill);
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitReady(adminUrl, false);
  return {
    adminUrl,
    async stop() {
      process.off('exit', kill);
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGINT');
        });
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
}

export interface ReplicatedRegistry {
  pair: ReplicatedPair;
  /** the `app` database on the primary (which holds the registry) and on the standby */
  primaryUrl: string;
  standbyUrl: string;
  pool: pg.Pool;
  db: Db;
}

/**
 * A primary and a hot standby with an `app` database (replayed on the standby) and procver's
 * registry migrated into the primary's, as a production setup has it. The caller ends the pool and
 * stops the pair.
 */
export async function startReplicatedRegistry(poolSize: number): Promise<ReplicatedRegistry> {
  const pair = await startPrimaryAndStandby();
  try {
    const admin = new pg.Client({ connectionString: pair.primaryAdminUrl });
    await admin.connect();
    await admin.query('CREATE DATABASE app');
    await admin.end();
    await pair.waitForReplay();
    const primaryUrl = databaseUrlFor(pair.primaryAdminUrl, 'app');
    const pool = createPool(primaryUrl, poolSize);
    await migrate(pool).catch(async (e) => {
      await pool.end();
      throw e;
    });
    return { pair, primaryUrl, standbyUrl: databaseUrlFor(pair.standbyAdminUrl, 'app'), pool, db: createDb(pool) };
  } catch (e) {
    await pair.stop();
    throw e;
  }
}
