'use client';

import { useEffect, useState } from 'react';

type Ready = { checks?: Record<string, { ok: boolean; detail: string }> };

/**
 * A page that threw: in production the reason is only in the server log (under the digest). The
 * usual cause, the registry database down, is asked of /api/ready so the page can say so.
 */
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const [database, setDatabase] = useState<string | null>(null);
  useEffect(() => {
    fetch('/api/ready', { cache: 'no-store' })
      .then((r) => r.json() as Promise<Ready>)
      .then((r) => {
        const failed = (['database', 'registry'] as const).find((k) => r.checks?.[k]?.ok === false);
        setDatabase(failed ? `${failed === 'database' ? 'database ' : ''}${r.checks![failed]!.detail}` : null);
      })
      .catch(() => undefined);
  }, []);
  return (
    <div role="alert" className="rounded border border-red-200 bg-red-50 p-4 text-red-800">
      <h1 className="font-semibold">Something went wrong loading this page.</h1>
      <p className="mt-1 text-sm">
        {database ? <span data-testid="database-problem">The registry cannot be read: {database}. </span> : null}
        The server log has the details
        {error.digest ? (
          <>
            {' '}
            (error <code>{error.digest}</code>)
          </>
        ) : null}
        .
      </p>
      <button type="button" onClick={reset} className="mt-2 rounded bg-red-700 px-3 py-1 text-sm text-white">
        Try again
      </button>
    </div>
  );
}
