import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileKeys, settingNames } from '../../lib/config';

/**
 * The places that may touch process.env outside lib/config.ts, each exact access and why. Anything
 * else reads its settings through readEnv() (validated, typed, named in errors).
 */
const allowedEnvAccess: { file: string; access: string; why: string }[] = [
  { file: 'lib/config.ts', access: 'process.env', why: 'the one reader: readEnv() and loadSettings() parse it with the schema' },
  { file: 'lib/cli/run.ts', access: 'process.env.PROCVER_DEBUG', why: 'the last-resort error handler prints stacks even when the settings themselves failed to load' },
  { file: 'lib/cli/dev.ts', access: 'process.env.DATABASE_URL', why: 'a write: hands the embedded cluster URL to the in-process dashboard' },
  { file: 'lib/cli/dev.ts', access: 'process.env', why: 'passes the environment on to `next dev`, whose instrumentation.ts checks it' },
  { file: 'lib/dashboard/serve.ts', access: 'process.env', why: "a write of Next.js's own NODE_ENV" },
  { file: 'lib/dashboard/serve.ts', access: 'process.env.__NEXT_PRIVATE_STANDALONE_CONFIG', why: "a write of Next.js's own variable" },
  { file: 'instrumentation.ts', access: 'process.env.NEXT_RUNTIME', why: "Next.js's own variable: which runtime register() runs in" },
];

/**
 * Variable names that appear in the code but are not procver's settings: the generated client
 * (lib/compile/client/render.ts) reads them in the application that imports procs.ts.
 */
const notSettings = new Set(['PROCVER_APP', 'PROCVER_DEPLOYMENT']);

const roots = ['lib', 'app', 'components', 'bin', 'proxy.ts', 'instrumentation.ts'];

function sourceFiles(path: string): string[] {
  if (statSync(path).isFile()) return /\.(ts|tsx|mjs|js)$/.test(path) ? [path] : [];
  return readdirSync(path).flatMap((name) => sourceFiles(join(path, name)));
}

const files = roots.flatMap(sourceFiles).map((file) => ({ file, text: readFileSync(file, 'utf8') }));

describe('settings are read in one place', () => {
  it('touches process.env only in lib/config.ts and the allowlisted places', () => {
    const found = files.flatMap(({ file, text }) => [...text.matchAll(/process\.env(?:\.[A-Za-z_]\w*|\[[^\]]*\])?/g)].map((m) => ({ file, access: m[0] })));
    const unexplained = found.filter((f) => !allowedEnvAccess.some((a) => a.file === f.file && a.access === f.access));
    expect(unexplained).toEqual([]);
    // No stale entries: each allowance is still used.
    expect(allowedEnvAccess.filter((a) => !found.some((f) => f.file === a.file && f.access === a.access))).toEqual([]);
  });

  it('names no PROCVER_ variable (or DATABASE_URL) that the schema in lib/config.ts does not read', () => {
    const known = new Set(settingNames);
    const unknown = files.flatMap(({ file, text }) =>
      [...text.matchAll(/\b(PROCVER_[A-Z0-9_]+|DATABASE_URL)\b/g)]
        .map((m) => m[1]!)
        .filter((name) => !known.has(name) && !notSettings.has(name))
        .map((name) => `${file}: ${name}`),
    );
    expect([...new Set(unknown)]).toEqual([]);
  });
});

describe("README's Configuration section", () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration\n'), readme.indexOf('\n## ', readme.indexOf('\n## Configuration\n') + 1));

  it('has a table row for every environment variable in the schema, and for no other', () => {
    const documented = section
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!));
    expect([...documented].sort()).toEqual([...settingNames].sort());
  });

  it('names every key of procver.config.json', () => {
    const missing = fileKeys.filter((key) => !section.includes(`\`${key.replace(/^windows\./, '')}\``) && !section.includes(`"${key.replace(/^windows\./, '')}"`));
    expect(missing).toEqual([]);
  });
});
