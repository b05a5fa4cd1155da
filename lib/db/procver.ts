import { pgSchema } from 'drizzle-orm/pg-core';

/** Every registry table lives in this schema of the target database. */
export const procver = pgSchema('procver');
