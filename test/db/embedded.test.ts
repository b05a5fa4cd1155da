import { createServer, type Server } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startEmbedded, type EmbeddedServer } from '../../lib/embedded';
import { testTempDir } from '../helpers/disposal';

describe('startEmbedded', () => {
  let squatter: Server | undefined;
  let server: EmbeddedServer | undefined;
  afterAll(async () => {
    await server?.stop();
    await new Promise((r) => (squatter ? squatter.close(r) : r(undefined)));
  });

  it('picks another port when the free one it found was taken before PostgreSQL could bind it', async () => {
    // Someone grabs the port between freePort() and PostgreSQL's bind.
    squatter = createServer();
    await new Promise<void>((r) => squatter!.listen(0, '127.0.0.1', r));
    const taken = (squatter.address() as { port: number }).port;
    const picked: number[] = [];
    const pickPort = async () => {
      const p = picked.length === 0 ? taken : await freePort();
      picked.push(p);
      return p;
    };
    server = await startEmbedded({ dataDir: testTempDir('procver-port-pg-'), ephemeral: true, pickPort });
    expect(picked).toHaveLength(2);
    expect(picked[0]).toBe(taken);
    expect(server.port).toBe(picked[1]);
    const c = new pg.Client({ connectionString: server.adminUrl });
    await c.connect();
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await c.end();
  });
});
