import { ProcverError } from '../../errors';
import { defineCommand, parseOptions } from '../command';

const options = {
  port: { type: 'string', value: '<port>', description: 'port to listen on (default: PORT, else 3000)' },
  host: { type: 'string', value: '<address>', description: 'address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)' },
} as const;

export const command = defineCommand({
  name: 'dashboard',
  summary:
    "Serve the dashboard's production build (shipped in the package) against DATABASE_URL; GET /api/health and /api/ready for load balancers; stops gracefully on SIGTERM. PROCVER_LOG=json logs one JSON line per request.",
  usage: ['dashboard [--port <port>] [--host <address>]'],
  options,
  async run(argv) {
    const { values } = parseOptions(options, argv);
    const [{ databaseUrl, readEnv }, { join }, { packageRoot }, { serveDashboard }] = await Promise.all([
      import('../../config'),
      import('node:path'),
      import('../../packageRoot'),
      import('../../dashboard/serve'),
    ]);
    const env = readEnv();
    const port = values.port === undefined ? (env.PORT ?? 3000) : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ProcverError('invalid_input', '--port must be a port number (0-65535)');
    databaseUrl(env);
    const dashboard = await serveDashboard({
      dir: join(packageRoot(), 'dist/web'),
      port,
      host: values.host ?? '127.0.0.1',
      jsonLog: env.PROCVER_LOG === 'json',
    });
    console.log(`procver dashboard on ${dashboard.url}`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        console.log('stopping: finishing requests in flight');
        dashboard.close().then(resolve, resolve);
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    console.log('dashboard stopped');
    return 0;
  },
});
