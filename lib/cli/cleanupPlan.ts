import { formatDuration } from '../cleanup/config';
import { RELEASE_EXPLAINED, type CleanupPlan } from '../cleanup/plan';
import { describePolicy } from '../cleanup/retention';
import { summarizePlan } from '../cleanup/summary';

const mark = { pass: '✓', fail: '✗', unknown: '?' } as const;

export function printPlan(plan: CleanupPlan, apply: boolean): void {
  const c = plan.config;
  console.log(
    `cleanup ${apply ? '' : 'plan (dry run; --apply to act)'}: quiet window ${formatDuration(c.quietWindowMs)}, quarantine ${formatDuration(c.quarantineMs)}, ` +
      `rollback window: newest ${c.rollbackKeep} previous per app or live within ${c.rollbackDays} days`,
  );
  for (const r of plan.rows) {
    console.log(`\n${r.schema}.${r.physicalName}  ${r.procedure}  → ${r.action.toUpperCase()}${r.quarantinedAt ? ` (quarantined as ${r.currentName})` : ''}`);
    if (r.action === 'release') console.log(`  ! ${RELEASE_EXPLAINED}`);
    for (const check of r.checks) {
      check.detail.forEach((d, i) => {
        console.log(`  ${i === 0 ? mark[check.verdict] : ' '} ${(i === 0 ? check.name.replace('_', ' ') : '').padEnd(12)} ${d}`);
      });
    }
  }
  console.log(`\n${summarizePlan(plan.rows, { total: true })}; ${plan.live} live version(s) not considered`);
  if (!c.retention) {
    console.log('retention policy: off (set PROCVER_RETENTION_AFTER, e.g. 30d, to retire unused old versions automatically)');
    return;
  }
  console.log(`\nretention policy: ${describePolicy(c.retention)}`);
  for (const v of plan.retire) {
    console.log(`\n${v.schema}.${v.physicalName}  ${v.procedure}  → RETIRE`);
    for (const reason of v.reasons) console.log(`  ✓ ${reason}`);
  }
  console.log(`${plan.retire.length} live version(s) to retire by the policy${apply ? '' : ' (they start their quiet window then; nothing is dropped before it ends)'}`);
}
