import type { StatementsResult } from '../compile/statements';
import { forgottenWording, repairWording } from '../bindingWords';
import type { StatementsPushed } from '../sourceStatements';

/** What compile says about the statements that are not functions: skipped ones once each, notices. */
export function compileStatementLines(s: StatementsResult): string[] {
  const lines = s.notices.map((n) => `notice: ${n}`);
  if (s.skipped.length > 0) {
    lines.push(`skipped ${s.skipped.length} statement(s) that belong to your migration tool:`);
    for (const k of s.skipped) lines.push(`  ${k.where}: ${k.label}`);
  }
  const counts = [
    [s.properties.length, 'property statement(s)'],
    [s.bindings.length, 'binding(s)'],
    [s.entryPoints.length, 'entry point(s)'],
  ].filter(([n]) => Number(n) > 0);
  if (counts.length > 0) lines.push(`also: ${counts.map(([n, what]) => `${n} ${what}`).join(', ')}`);
  return lines;
}

/** What push changed besides creating versions. */
export function pushStatementLines(p: StatementsPushed | undefined): string[] {
  if (!p) return [];
  return [
    ...p.properties.changed.map((x) => `  properties of ${x} applied to its versions`),
    ...p.entryPoints.moved.map((x) => `  entry point ${x}`),
    ...p.bindings.created.map((x) => `  + ${x}`),
    ...p.bindings.moved.map((x) => `  → ${x} moved to the new version`),
    ...p.bindings.updated.map((x) => `  ~ ${x} changed`),
    ...p.bindings.repaired.map((x) => `  ! ${x.identity} ${repairWording(x.found)}: created again`),
    ...p.bindings.forgotten.map((x) => `  - ${x.identity} forgotten: ${forgottenWording(x.takenBy)}`),
    ...p.bindings.notInSources.map((x) =>
      x.inDatabase
        ? `  ? ${x.identity} is not in the sources but still in the database, so it keeps ${x.versions.join(', ')} referenced: drop it, or put it back in the sources`
        : `  ? ${x.identity} is not in the sources; procver cannot tell whether it is still in the database (registered before procver recorded where to look), so it keeps ${x.versions.join(', ')} referenced: push it once from the sources, then remove it from both`,
    ),
  ];
}
