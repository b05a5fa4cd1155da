import { basename, join } from 'node:path';
import ts from 'typescript';

const modules = join(process.cwd(), 'node_modules');

/**
 * Type-checks files as a frontend's strict tsconfig would (the TypeScript compiler in-process),
 * wherever they are: `pg` and Node's types come from this repository. Returns one line per error,
 * `file:line: TScode message`.
 */
export function typeErrors(files: string[]): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    esModuleInterop: true,
    typeRoots: [join(modules, '@types')],
    types: ['node'],
    paths: { pg: [join(modules, '@types/pg/index.d.ts')] },
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '(config)';
    return `${where}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}
