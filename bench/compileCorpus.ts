import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The compile benches' sources: N definitions, 100 to a file, in 10 directories. */

/** A realistic mix: SQL and PL/pgSQL bodies, comments, and calls to earlier definitions. */
export function definition(i: number): string {
  if (i % 3 === 0) {
    return `-- lookup ${i}
CREATE FUNCTION bench.get_${i}(p_id integer, p_limit integer DEFAULT 10)
RETURNS TABLE (id integer, name text)
LANGUAGE sql STABLE
AS $$ SELECT id, name FROM bench.items WHERE id = p_id AND category = ${i % 97} LIMIT p_limit $$;\n`;
  }
  const callee = i > 3 ? `bench.calc_${i - 1 - ((i - 1) % 3 === 0 ? 1 : 0)}(x)` : 'x';
  return `/* calculation ${i} */
CREATE FUNCTION bench.calc_${i}(x integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE
AS $body$
DECLARE
  r integer := 0;
BEGIN
  -- step ${i}
  IF x > ${i} THEN
    r := ${callee} + ${i};
  ELSE
    r := x * ${(i % 7) + 1};
  END IF;
  RETURN r;
END
$body$;\n`;
}

/**
 * Writes N definitions under `dir` (file f in directory m<f % 10>, so the even and the odd
 * directories each hold half) and returns the files' paths relative to `dir`.
 */
export function writeCompileCorpus(dir: string, n: number): string[] {
  const perFile = 100;
  const files: string[] = [];
  for (let f = 0; f < n / perFile; f++) {
    mkdirSync(join(dir, `m${f % 10}`), { recursive: true });
    let text = '';
    for (let i = f * perFile; i < (f + 1) * perFile; i++) text += definition(i);
    const file = join(`m${f % 10}`, `file_${f}.sql`);
    writeFileSync(join(dir, file), text);
    files.push(file);
  }
  return files;
}
