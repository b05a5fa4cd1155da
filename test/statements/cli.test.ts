import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { procver } from '../helpers/cli';
import { writeTree } from '../helpers/sources';

const mixed = `BEGIN;
CREATE TABLE app.items (id int, updated_at timestamptz);
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER items_touch BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE INDEX items_id ON app.items (id);
COMMIT;
`;

describe('procver CLI: statements that are not functions, and import', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ migrated: false });
  });

  it('compile refuses other statements by name; --skip-other skips and lists each once', async () => {
    const dir = writeTree({ 'm.sql': mixed });
    const refused = await procver(['compile', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /\/m\.sql:2:1: CREATE TABLE is not managed by procver; it belongs to your migration tool \(pass --skip-other to skip such statements\)/,
    );
    expect(refused.stderr).toMatch(/\/m\.sql:5:1: CREATE INDEX is not managed by procver/);

    const skipped = await procver(['compile', dir, '--skip-other']);
    expect(skipped.code).toBe(0);
    const lines = skipped.stdout.split('\n');
    expect(lines.slice(0, 6)).toEqual([
      'notice: skipped BEGIN, COMMIT: push runs in its own transaction and settings do not carry over; unqualified names use the schema public',
      'skipped 2 statement(s) that belong to your migration tool:',
      expect.stringMatching(/\/m\.sql:2:1: CREATE TABLE$/),
      expect.stringMatching(/\/m\.sql:5:1: CREATE INDEX$/),
      'also: 1 binding(s)',
      'compiled 1 definition(s) from 1 file(s)',
    ]);
  });

  it('import writes the database functions into --out', async () => {
    await t.pool.query(`CREATE SCHEMA app; CREATE FUNCTION app.hello() RETURNS text LANGUAGE sql AS $$ SELECT 'hi' $$;
      COMMENT ON FUNCTION app.hello() IS 'greets'; CREATE SCHEMA other; CREATE FUNCTION other.x() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;`);
    const out = join(writeTree({}), 'imported');
    const r = await procver(['import', '--schema', 'app', '--out', out], { DATABASE_URL: t.url });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('imported 1 function(s) and procedure(s) and 0 binding(s)');
    expect(readFileSync(join(out, 'app.sql'), 'utf8')).toContain(
      "CREATE OR REPLACE FUNCTION app.hello()\n RETURNS text\n LANGUAGE sql\nAS $function$ SELECT 'hi' $function$;\nCOMMENT ON ROUTINE app.hello() IS 'greets';",
    );
    const missing = await procver(['import', '--schema', 'nope', '--out', out], { DATABASE_URL: t.url });
    expect(missing.code).toBe(7);
    expect(missing.stderr).toContain('--schema: no such schema in the database: nope');
  });
});
