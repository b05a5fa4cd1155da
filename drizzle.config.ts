import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './lib/db/schema.ts',
  out: './drizzle',
  schemaFilter: ['procver'],
  migrations: { schema: 'procver', table: '__drizzle_migrations' },
});
