import Link from 'next/link';
import type { BindingReference } from '@/lib/bindings';

/** "bound by trigger touch on app.items": the bindings and entry point pointing at versions. */
export function BoundBy({ refs, versions }: { refs: BindingReference[]; versions?: Map<number, { schema: string; physicalName: string }> }) {
  if (refs.length === 0) return <span className="text-slate-400">no binding</span>;
  return (
    <ul className="space-y-0.5" aria-label="Bindings">
      {refs.map((b) => {
        const v = versions?.get(b.versionId);
        return (
          <li key={`${b.label}/${b.versionId}`}>
            bound by <span className="font-mono">{b.label}</span>
            {v ? (
              <>
                {' → '}
                <Link className="font-mono text-sky-800 underline" href={`/versions/${encodeURIComponent(v.schema)}/${encodeURIComponent(v.physicalName)}`}>
                  {v.physicalName}
                </Link>
              </>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}
