import 'server-only';
import { verifyAuditChain, type ChainVerdict } from '../audit';
import type { Db } from '../db/client';

/**
 * Walking the whole chain costs about 10 µs per entry (2 s at 200,000), so the dashboard shares one
 * verification among its readers for a short while instead of walking it on every page view.
 * `procver audit verify` always walks it afresh.
 */
const REUSE_MS = 30_000;
let latest: { at: number; verdict: Promise<ChainVerdict & { checkedAt: Date }> } | null = null;

export function auditChainVerdict(db: Db): Promise<ChainVerdict & { checkedAt: Date }> {
  const now = Date.now();
  if (!latest || now - latest.at > REUSE_MS) {
    const verdict = verifyAuditChain(db).then((v) => ({ ...v, checkedAt: new Date() }));
    latest = { at: now, verdict };
    // A failed walk is not remembered: the next reader tries again.
    verdict.catch(() => {
      if (latest?.verdict === verdict) latest = null;
    });
  }
  return latest.verdict;
}
