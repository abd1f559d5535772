/** `schoolgate audit verify`: walk the chain and the keyed checkpoint. */
import type { Command } from '../cli/command.ts';

export const auditCommands: Command[] = [
  {
    name: 'audit verify',
    summary: 'Check the audit log is whole: names the first broken link and exits non-zero',
    usage: 'audit verify',
    help: 'Recomputes every entry’s hash and link, then checks the newest entries against the keyed checkpoint kept outside the database.',
    async run(ctx) {
      const app = await ctx.app();
      const result = await app.audit.verify();
      if (result.ok) {
        ctx.out(`audit log OK: ${result.entries} entries, chain intact${result.checkpoint ? `, checkpoint at entry ${result.checkpoint.seq} matches` : ''}`);
        return 0;
      }
      console.error(`audit log BROKEN after ${result.entries} good entries: ${result.problem}`);
      return 1;
    },
  },
];
