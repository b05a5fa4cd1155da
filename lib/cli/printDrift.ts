import type { Db } from '../db/client';
import { describeDrift, findDrift, type DriftInfo } from '../drift';

/** Drift warnings on stderr (push, collect): reported, never fixed silently, since procver cannot know whose code is right. */
export function printDrift(drifted: DriftInfo[], where: string): void {
  if (drifted.length === 0) return;
  console.error(`warning: ${drifted.length} version(s) ${where} drifted: their code in the database is not the registry's`);
  for (const d of drifted) console.error(`  ! ${describeDrift(d)}`);
  console.error('  procver leaves them alone; `procver check` fails for manifests that use them, and cleanup never drops them');
}

/**
 * The collector's drift warning: every pass looks, and the warning is printed when the set of
 * drifted versions changes (a long-running collector does not repeat it every 30 s).
 */
export function driftWatcher(db: Db) {
  let last: string | null = null;
  return async () => {
    const drifted = [...(await findDrift(db)).values()];
    const key = drifted.map((d) => d.versionId).join(',');
    if (key === (last ?? '')) return;
    last = key;
    if (drifted.length === 0) console.log('drift gone: every managed version has the code procver created again');
    else printDrift(drifted, 'managed by procver');
  };
}
