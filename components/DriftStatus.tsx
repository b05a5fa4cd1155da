import Link from 'next/link';
import { db } from '@/lib/db/pool';
import { driftProblem, findDrift, type DriftInfo } from '@/lib/drift';

/** How many drifted versions the overview lists; the count covers them all. */
const SHOWN = 25;

const versionHref = (d: DriftInfo) => `/versions/${encodeURIComponent(d.schema)}/${encodeURIComponent(d.physicalName)}`;

/**
 * The overview's drift section: managed versions whose code in the database is not what procver
 * created. Streamed after the page, since it fingerprints every managed function.
 */
export async function DriftStatus() {
  let drifted: DriftInfo[];
  try {
    drifted = [...(await findDrift(db())).values()].sort((a, b) => `${a.schema}.${a.physicalName}`.localeCompare(`${b.schema}.${b.physicalName}`));
  } catch {
    return (
      <p role="alert" className="mt-2 rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
        Drift could not be checked just now; <code>procver collect --once</code> reports it too.
      </p>
    );
  }
  if (drifted.length === 0) {
    return (
      <p role="status" className="mt-2 text-sm text-slate-600">
        No drift: every managed version in the database has the code procver created.
      </p>
    );
  }
  return (
    <div role="alert" className="mt-2 space-y-1">
      <p className="text-sm font-medium text-red-800">
        {drifted.length.toLocaleString('en')} version(s) drifted: someone changed their code in the database. Callers run that code, not the registry&apos;s; cleanup
        never drops them and <code>procver check</code> fails for builds that use them.
      </p>
      <ul className="space-y-1">
        {drifted.slice(0, SHOWN).map((d) => (
          <li key={d.versionId} className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            <Link className="font-mono underline" href={versionHref(d)}>
              {d.schema}.{d.physicalName}
            </Link>{' '}
            {d.quarantined ? `(quarantined as ${d.currentName}) ` : ''}
            {driftProblem(d)}
          </li>
        ))}
        {drifted.length > SHOWN ? <li className="text-sm text-red-800">…and {(drifted.length - SHOWN).toLocaleString('en')} more.</li> : null}
      </ul>
    </div>
  );
}

export function DriftPending() {
  return (
    <p role="status" className="mt-2 text-sm text-slate-600">
      Checking every managed version for drift…
    </p>
  );
}
