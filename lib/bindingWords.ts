import type { FiringState } from './compile/statements';

/**
 * What push says about a binding it changed or kept, in its output and in the audit entry alike
 * (no imports: the CLI's compile path loads it).
 */

/** Why push forgets a binding (its audit entry's reason and push's line): gone, or its object now bound under another identity. */
export function forgottenWording(takenBy: string | null): string {
  return takenBy === null ? 'gone from the sources and from the database' : `gone from the sources; its object in the database is now ${takenBy}`;
}

/** What push found wrong with a binding the sources did not change, before creating it again. */
export interface RepairFindings {
  /** not in the database under its name */
  missing: boolean;
  /** there, but not calling each of its versions (re-created on another function, say) */
  pointsElsewhere: boolean;
  /** triggers and event triggers: how it fires in the database, where that is not what the sources declare */
  fires: { found: FiringState; declared: FiringState } | null;
}

const FIRING_WORDS: Record<FiringState, string> = { O: 'enabled', D: 'disabled', R: 'enabled for replicas only', A: 'enabled always' };

/** What a repair repaired, as push's line and the binding.repair audit entry say it: "pointed at another function". */
export function repairWording(f: RepairFindings): string {
  if (f.missing) return 'was missing from the database';
  const found = [
    ...(f.pointsElsewhere ? ['pointed at another function'] : []),
    ...(f.fires ? [`fired differently (${FIRING_WORDS[f.fires.found]} in the database, ${FIRING_WORDS[f.fires.declared]} in the sources)`] : []),
  ];
  return found.join(' and ');
}
