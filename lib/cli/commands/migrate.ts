import { defineCommand, parseOptions } from '../command';

const options = {} as const;

export const command = defineCommand({
  name: 'migrate',
  summary: 'Create or update the registry (schema "procver") in DATABASE_URL.',
  usage: ['migrate'],
  options,
  async run(argv) {
    parseOptions(options, argv, true);
    const [{ databaseUrl }, { createPool }, { migrate }] = await Promise.all([import('../../config'), import('../../db/client'), import('../../db/migrate')]);
    const pool = createPool(databaseUrl(), 1);
    const n = await migrate(pool).finally(() => pool.end());
    console.log(n === 0 ? 'registry is up to date' : `applied ${n} migration(s)`);
    return 0;
  },
});
