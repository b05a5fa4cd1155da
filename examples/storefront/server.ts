import { createServer } from 'node:http';
import pg from 'pg';
import { createStorefront } from './app';
import { poolConfig } from './generated/procs';

/**
 * Serves one build of the storefront. DATABASE_URL: the shop's database; PORT (0: any free port);
 * PROCVER_APP and PROCVER_DEPLOYMENT name its sessions `<app>@<deployment>`, which the procver
 * dashboard shows as "seen live".
 */
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('storefront: set DATABASE_URL');
  process.exit(3);
}
const pool = new pg.Pool(poolConfig({ connectionString: databaseUrl, max: 4 }));
const server = createServer(createStorefront(pool));
server.listen(Number(process.env.PORT ?? 3001), '127.0.0.1', () => {
  const address = server.address();
  console.log(`storefront listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : '?'}`);
});
const stop = () => server.close(() => void pool.end().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
