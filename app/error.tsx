'use client';

export default function ErrorPage({ reset }: { error: Error; reset: () => void }) {
  return (
    <div role="alert" className="rounded border border-red-200 bg-red-50 p-4 text-red-800">
      <h1 className="font-semibold">Something went wrong loading this page.</h1>
      <button type="button" onClick={reset} className="mt-2 rounded bg-red-700 px-3 py-1 text-sm text-white">
        Try again
      </button>
    </div>
  );
}
