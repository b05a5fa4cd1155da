export function EmptyState({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div className="rounded border border-dashed border-slate-300 bg-white p-6 text-center text-slate-600">
      <p className="font-medium text-slate-800">{title}</p>
      {children ? <div className="mt-1 text-sm">{children}</div> : null}
    </div>
  );
}

export function ErrorState({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <div role="alert" className="rounded border border-red-200 bg-red-50 p-4 text-red-800">
      <p className="font-semibold">{title}</p>
      {children ? <div className="mt-1 text-sm">{children}</div> : null}
    </div>
  );
}

/** A query string the page refuses: what is wrong, and the page without it. */
export function InvalidAddress({ error, href, title = 'Invalid address' }: { error: string; href: string; title?: string }) {
  return (
    <ErrorState title={title}>
      <p>{error}</p>
      <a href={href} className="mt-2 inline-block underline">
        Open {href} without it
      </a>
    </ErrorState>
  );
}
