import { defineCommand, parseOptions } from '../command';

const options = {} as const;

export const command = defineCommand({
  name: 'migrate',
  summary: 'Create or update the registry (schema "procver") in DATABASE_URL.',
  usage: ['migrate'],
  options,
  async run(argv) {
    parseOptions(options, argv, true);
    const [{ databaseUrl }, { createPool }, { migrate, registryState, unknownMigrationsMessage }, { ProcverError }] = await Promise.all([
      import('../../config'),
      import('../../db/client'),
      import('../../db/migrate'),
      import('../../errors'),
    ]);
    const pool = createPool(databaseUrl(), 1);
    try {
      // A registry migrated by a newer procver (or another build) is not this one's to change.
      const { unknown } = await registryState(pool);
      if (unknown > 0) throw new ProcverError('not_migrated', unknownMigrationsMessage(unknown));
      const n = await migrate(pool);
      console.log(n === 0 ? 'registry is up to date' : `applied ${n} migration(s)`);
      return 0;
    } finally {
      await pool.end();
    }
  },
});
