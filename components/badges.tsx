const versionStyles: Record<string, string> = {
  live: 'bg-emerald-100 text-emerald-800',
  retired: 'bg-amber-100 text-amber-900',
  dropped: 'bg-slate-200 text-slate-700 line-through',
};

const deploymentStyles: Record<string, string> = {
  live: 'bg-emerald-100 text-emerald-800',
  previous: 'bg-amber-100 text-amber-800',
  pending: 'bg-sky-100 text-sky-800',
  archived: 'bg-slate-100 text-slate-600',
};

export function VersionStatus({ status }: { status: string }) {
  return <span className={`inline-block rounded px-2 py-0.5 text-xs font-medium ${versionStyles[status] ?? ''}`}>{status}</span>;
}

export function DeploymentBadge({ app, id, status }: { app: string; id: string; status: string }) {
  return (
    <span className={`inline-flex items-center gap-1 rounded px-2 py-0.5 text-xs ${deploymentStyles[status] ?? ''}`} title={`${app}/${id} is ${status}`}>
      <span className="font-medium">{app}</span>
      <span className="font-mono">{id}</span>
      <span className="opacity-75">{status}</span>
    </span>
  );
}

export function DeploymentStatus({ status }: { status: string }) {
  return <span className={`rounded px-2 py-0.5 text-xs font-medium ${deploymentStyles[status] ?? ''}`}>{status}</span>;
}
