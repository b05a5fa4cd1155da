import { ProcverError } from '../../errors';
import { defineCommand } from '../command';
import { withDb } from '../db';

export const command = defineCommand({
  name: 'audit',
  summary: "Walk the audit log's hash chain; exit 1 naming the first broken link.",
  usage: ['audit verify'],
  options: {},
  async run(argv) {
    if (argv[0] !== 'verify') throw new ProcverError('invalid_input', 'usage: procver audit verify');
    const { verifyAuditChain } = await import('../../audit');
    const v = await withDb((db) => verifyAuditChain(db));
    if (v.ok) console.log(`audit log intact: ${v.entries} entr${v.entries === 1 ? 'y' : 'ies'}, every link verified`);
    else console.error(`audit log BROKEN at entry #${v.brokenAt!.seq} (id ${v.brokenAt!.id}): ${v.brokenAt!.problem}`);
    return v.ok ? 0 : 1;
  },
});
