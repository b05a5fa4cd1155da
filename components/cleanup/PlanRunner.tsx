import { CleanupRunner } from '@/components/CleanupRunner';
import { currentPlan } from '@/lib/web/cleanupPlan';

/** The run buttons, once the plan says how many versions an applied run would act on. */
export async function PlanRunner({ canApply }: { canApply: boolean }) {
  const r = await currentPlan();
  const plan = r.ok && r.data.reading !== 'none' ? r.data.plan : null;
  const pending = plan ? plan.rows.filter((x) => x.action !== 'keep').length + plan.retire.length : 0;
  return <CleanupRunner canApply={canApply} pending={pending} />;
}

export function PlanRunnerPending({ canApply }: { canApply: boolean }) {
  return (
    <div className="flex flex-wrap gap-2">
      <button type="button" disabled className="rounded border border-slate-300 px-3 py-1.5 text-sm text-slate-500">
        Re-check (dry run)
      </button>
      {canApply ? (
        <button type="button" disabled className="rounded bg-red-700 px-3 py-1.5 text-sm font-medium text-white opacity-50">
          Apply plan (…)
        </button>
      ) : null}
    </div>
  );
}
