import { z } from 'zod';

/** The manifest a frontend build carries: which version of each procedure it calls. */
const manifestEntrySchema = z.object({
  schema: z.string().min(1),
  name: z.string().min(1),
  args: z.string(),
  kind: z.enum(['function', 'procedure']),
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lower-case hex'),
  physicalName: z.string().min(1).max(63),
});
export const manifestSchema = z.object({
  version: z.literal(1),
  /** the normalization rules the hashes were computed with (lib/compile/normalize.ts HASH_SCHEME); absent = 1 */
  hashScheme: z.number().int().positive().optional(),
  procedures: z.array(manifestEntrySchema),
});
export type Manifest = z.infer<typeof manifestSchema>;
