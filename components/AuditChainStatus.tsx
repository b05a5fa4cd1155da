import { RelativeTime } from '@/components/RelativeTime';
import { db } from '@/lib/db/pool';
import { auditChainVerdict } from '@/lib/web/auditChain';

/** The hash chain's verdict; streamed after the log itself, since it walks every entry. */
export async function AuditChainStatus() {
  let chain: Awaited<ReturnType<typeof auditChainVerdict>>;
  try {
    chain = await auditChainVerdict(db());
  } catch {
    return (
      <p role="alert" className="rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
        The hash chain could not be verified just now; run <code>procver audit verify</code>.
      </p>
    );
  }
  return chain.ok ? (
    <p role="status" className="rounded border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
      ✓ Hash chain verified: all {chain.entries.toLocaleString('en')} entries are intact and in order (checked <RelativeTime date={chain.checkedAt} />
      ).
    </p>
  ) : (
    <p role="alert" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm font-medium text-red-800">
      ✗ The audit log was tampered with: entry #{chain.brokenAt!.seq} (id {chain.brokenAt!.id}) — {chain.brokenAt!.problem}.
    </p>
  );
}

export function AuditChainPending() {
  return (
    <p role="status" className="rounded border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-600">
      Verifying the hash chain…
    </p>
  );
}
