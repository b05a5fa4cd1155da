import { ProcverError } from '../../errors';
import { defineCommand, parseOptions, required } from '../command';
import { withDb } from '../db';
import { table } from '../print';

const options = {
  email: { type: 'string', value: '<e>', description: "the user's email (their sign-in name)" },
  name: { type: 'string', value: '<n>', description: 'display name (default: the email)' },
  role: { type: 'string', value: 'viewer|operator|admin', description: 'what the user may do' },
  'password-stdin': { type: 'boolean', description: 'read the password from the first line of standard input' },
  json: { type: 'boolean', description: 'list: print JSON' },
} as const;

async function readPassword(fromStdin: boolean): Promise<string | null> {
  if (fromStdin) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
    if (!line) throw new ProcverError('invalid_input', 'no password on standard input');
    return line;
  }
  const { readEnv } = await import('../../config');
  return readEnv().PROCVER_NEW_PASSWORD ?? null;
}

const roles = ['viewer', 'operator', 'admin'] as const;
function role(value: string | undefined): (typeof roles)[number] {
  if (!roles.includes(value as (typeof roles)[number])) throw new ProcverError('invalid_input', `--role must be one of ${roles.join(', ')}`);
  return value as (typeof roles)[number];
}

export const command = defineCommand({
  name: 'users',
  summary:
    'Dashboard users. The password comes from stdin (--password-stdin) or PROCVER_NEW_PASSWORD; a user without one can only come in through a trusted proxy (PROCVER_TRUST_PROXY_HEADER).',
  usage: [
    'users add --email <e> --name <n> --role viewer|operator|admin [--password-stdin]',
    'users list [--json]',
    'users set-role --email <e> --role viewer|operator|admin',
    'users set-password --email <e> --password-stdin',
    'users disable --email <e>',
  ],
  options,
  async run(argv) {
    const [sub, ...rest] = argv;
    const { values } = parseOptions(options, rest);
    const [{ actor }, { addUser, disableUser, listUsers, setPassword, setRole }] = await Promise.all([import('../../config'), import('../../users')]);
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
        else
          console.log(
            table(
              ['email', 'name', 'role', 'disabled'],
              rows.map((u) => [u.email, u.name, u.role, u.disabledAt ? u.disabledAt.toISOString() : '']),
            ),
          );
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
  },
});
