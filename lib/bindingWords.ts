/**
 * What push says about a binding it changed or kept, in its output and in the audit entry alike
 * (no imports: the CLI's compile path loads it).
 */

/** Why push forgets a binding: its audit entry's reason and push's line. */
export const FORGOTTEN_BECAUSE = 'gone from the sources and from the database';
