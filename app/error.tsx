'use client';

/** A page that threw: in production the reason is only in the server log (under the digest). */
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div role="alert" className="rounded border border-red-200 bg-red-50 p-4 text-red-800">
      <h1 className="font-semibold">Something went wrong loading this page.</h1>
      <p className="mt-1 text-sm">
        If the registry database is down, the page works again once it is reachable. The server log has the details
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
