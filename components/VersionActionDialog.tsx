'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useId, useRef, useState } from 'react';

interface Props {
  action: 'retire' | 'restore';
  schema: string;
  physicalName: string;
  revision: number;
  canOverride: boolean;
}

interface ApiError {
  error: string;
  code: string;
  reason?: string | null;
  details?: string[];
}

class RequestError extends Error {
  constructor(readonly body: ApiError) {
    super(body.error);
  }
}

/** Retire or restore one version: a confirmation with a required reason, via the JSON API. */
export function VersionActionDialog({ action: currentAction, schema, physicalName, revision, canOverride }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  // What the operator saw when opening the dialog: live data may move on while they type, and
  // the server then answers "changed meanwhile" instead of acting on a state they did not see.
  const [seen, setSeen] = useState({ action: currentAction, revision });
  const action = seen.action;
  const [reason, setReason] = useState('');
  const [override, setOverride] = useState(false);
  const [refusal, setRefusal] = useState<ApiError | null>(null);
  const router = useRouter();
  const queryClient = useQueryClient();
  const id = useId();
  const label = action === 'retire' ? 'Retire' : 'Restore';

  const mutation = useMutation({
    mutationFn: async () => {
      const res = await fetch(`/api/versions/${encodeURIComponent(`${schema}.${physicalName}`)}/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason, expectedRevision: seen.revision, override: override || undefined }),
      });
      const body = await res.json().catch(() => ({ error: `request failed (${res.status})`, code: 'internal' }));
      if (!res.ok) throw new RequestError(body as ApiError);
      return body;
    },
    onSuccess: () => {
      dialog.current?.close();
      void queryClient.invalidateQueries({ queryKey: ['usage'] });
      router.refresh();
    },
    onError: (e) => {
      const body = e instanceof RequestError ? e.body : { error: 'the request failed; check your connection', code: 'network' };
      setRefusal(body);
      // Someone else acted first: show what is true now.
      if (body.reason === 'changed') {
        void queryClient.invalidateQueries({ queryKey: ['usage'] });
        router.refresh();
      }
    },
  });

  useEffect(() => {
    const d = dialog.current;
    const reset = () => {
      setReason('');
      setOverride(false);
      setRefusal(null);
      mutation.reset();
    };
    d?.addEventListener('close', reset);
    return () => d?.removeEventListener('close', reset);
  }, [mutation]);

  return (
    <>
      <button
        type="button"
        onClick={() => {
          setSeen({ action: currentAction, revision });
          dialog.current?.showModal();
        }}
        className={`rounded border px-2 py-1 text-xs font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 ${
          currentAction === 'retire' ? 'border-amber-300 text-amber-900 hover:bg-amber-50' : 'border-emerald-300 text-emerald-900 hover:bg-emerald-50'
        }`}
        aria-label={`${currentAction === 'retire' ? 'Retire' : 'Restore'} ${physicalName}`}
      >
        {currentAction === 'retire' ? 'Retire' : 'Restore'}…
      </button>
      <dialog ref={dialog} aria-labelledby={`${id}-title`} className="m-auto w-full max-w-lg rounded-lg p-0 shadow-xl backdrop:bg-slate-900/40">
        <form
          className="space-y-4 p-5"
          onSubmit={(e) => {
            e.preventDefault();
            mutation.mutate();
          }}
        >
          <h2 id={`${id}-title`} className="text-lg font-semibold">
            {label} <span className="font-mono text-base">{physicalName}</span>?
          </h2>
          <p className="text-sm text-slate-600">
            {action === 'retire'
              ? 'A retired version stays in the database and can be restored; the cleanup job may drop it once nothing calls it.'
              : 'The version becomes live again.'}
          </p>
          <label className="block text-sm font-medium">
            Reason (recorded in the audit log)
            <textarea
              required
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              rows={3}
              maxLength={2000}
              className="mt-1 block w-full rounded border border-slate-300 p-2 font-normal focus:border-sky-500 focus:outline-none"
            />
          </label>
          {refusal ? (
            <div role="alert" className="rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800">
              <p>{refusal.error}</p>
              {refusal.details && refusal.details.length > 0 ? (
                <ul className="mt-1 list-inside list-disc font-mono text-xs">
                  {refusal.details.map((d) => (
                    <li key={d}>{d}</li>
                  ))}
                </ul>
              ) : null}
              {refusal.reason === 'referenced' && canOverride ? (
                <label className="mt-2 flex items-center gap-2 font-medium">
                  <input type="checkbox" checked={override} onChange={(e) => setOverride(e.target.checked)} />
                  Retire anyway (admin override, recorded with the reason)
                </label>
              ) : null}
            </div>
          ) : null}
          <div className="flex justify-end gap-2">
            <button type="button" onClick={() => dialog.current?.close()} className="rounded px-3 py-1.5 text-sm hover:bg-slate-100">
              Cancel
            </button>
            <button
              type="submit"
              disabled={mutation.isPending || reason.trim().length === 0 || (refusal?.reason === 'referenced' && !override)}
              className="rounded bg-slate-900 px-3 py-1.5 text-sm font-medium text-white disabled:opacity-50"
            >
              {mutation.isPending ? 'Working…' : label}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
