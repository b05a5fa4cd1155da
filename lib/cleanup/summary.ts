import type { PlanRow } from './plan';

/**
 * The plan's summary sentence, for the CLI, the Cleanup page and its dry run alike:
 * "N retired version(s): a to drop, b to quarantine, c to put back from quarantine, d kept".
 * No React and nothing but a type from the plan, so a client component may import it.
 * `total`: lead with the number of retired versions; `grouped`: digits grouped as 1,234 (the dashboard).
 */
export function summarizePlan(rows: readonly { action: string }[], opts: { total?: boolean; grouped?: boolean } = {}): string {
  const figure = (n: number) => (opts.grouped ? n.toLocaleString('en') : String(n));
  const count = (action: PlanRow['action']) => figure(rows.filter((r) => r.action === action).length);
  const counts = `${count('drop')} to drop, ${count('quarantine')} to quarantine, ${count('release')} to put back from quarantine, ${count('keep')} kept`;
  return opts.total ? `${figure(rows.length)} retired version(s): ${counts}` : counts;
}
