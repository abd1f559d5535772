/**
 * `schoolgate lists overblocking [--group G] [--json] [--school ID]`: the
 * known-good names each group's policy blocks now, with the rule and the
 * list line behind each (the over-blocking report of the DfE filtering
 * standard). Reads the same catalog and list copies as the running app.
 */
import type { Command } from '../cli/command.ts';
import { invalid } from '../shared/errors.ts';
import { type BlockedName, NOT_SYNCED, type OverblockingReport } from './lists.overblocking.ts';

const number = (n: number) => n.toLocaleString('en-GB');

/** Where a blocked name came from and what blocked it, on one line. */
function itemLine(item: BlockedName): string {
  const by = item.lists.length
    ? item.lists.map((l) => `${l.list} line ${l.line}${l.entry === item.name ? '' : ` (${l.entry})`}`).join(', ')
    : item.matched
      ? `${item.rule.replace(/_/g, ' ')} ${item.matched}`
      : item.reason;
  const from = item.knownGood.map((k) => (k.line === null ? k.source : `${k.source}:${k.line}`)).join(', ');
  return `  ${item.name.padEnd(40)} ${(item.category ?? '-').padEnd(16)} ${(item.when === 'now' ? item.rule : `${item.rule}*`).padEnd(11)} ${by}   [known-good: ${from}]`;
}

/** The report as lines for a terminal. */
export function reportLines(report: OverblockingReport): string[] {
  const lines: string[] = [];
  const withCopy = report.sources.filter((s) => s.copy);
  lines.push(`Over-blocking report, ${report.generatedAt.slice(0, 16).replace('T', ' ')} UTC: ${number(report.names)} known-good names from ${withCopy.length} source(s), against a catalog of ${number(report.catalog.names)} names`);
  if (report.catalog.problem) lines.push(`  note: ${report.catalog.problem}`);
  const notSynced = report.sources.filter((s) => s.note === NOT_SYNCED);
  for (const s of report.sources) {
    if (s.note === NOT_SYNCED) continue;
    if (!s.copy || (s.kind === 'school' && s.names === 0)) lines.push(`  ${s.id.padEnd(28)} ${s.note ?? 'nothing read'}`);
    else lines.push(`  ${s.id.padEnd(28)} ${number(s.names).padStart(7)} names${s.unused ? `, ${number(s.unused)} line(s) not used` : ''}${s.note ? ` (${s.note})` : ''}`);
  }
  if (notSynced.length) lines.push(`  not synced yet (no copy to read): ${notSynced.map((s) => s.id).join(', ')}`);
  for (const g of report.groups) {
    lines.push('');
    const atTimes = g.blocked - g.blockedNow;
    lines.push(`${g.name}: ${number(g.blocked)} of ${number(g.checked)} known-good names blocked${atTimes ? ` (${number(atTimes)} of them on a schedule, marked *: allowed now, blocked at other times)` : ''}${g.ownPolicy ? '' : ' (the group has no policy of its own: the defaults)'}`);
    if (g.blocked === 0) continue;
    lines.push(`  by category: ${g.byCategory.map((c) => `${c.key} ${c.count}`).join(', ')}`);
    lines.push(`  by list:     ${g.byList.map((c) => `${c.key} ${c.count}`).join(', ')}`);
    for (const item of g.items) lines.push(itemLine(item));
    if (g.truncated) lines.push(`  … and ${number(g.blocked - g.items.length)} more (--json --limit N lists more)`);
  }
  if (report.groupsLeftOut.length) {
    lines.push('');
    lines.push(`Not reported (no policy of their own; ask with --group): ${report.groupsLeftOut.map((g) => g.name).join(', ')}`);
  }
  return lines;
}

/** The over-blocking command. */
export const overblockingCommands: Command[] = [
  {
    name: 'lists overblocking',
    summary: 'Over-blocking report: the known-good sites each group’s policy blocks, and by which list',
    usage: 'lists overblocking [--group GROUP] [--json] [--limit N] [--school ID]',
    help: [
      'Checks every known-good name against each group’s policy, as the filter decides it now:',
      'the school’s own known-good sites (added in the web app, Over-blocking page) and the',
      'last good copies of the allow lists (UT1’s white lists, Hipo’s university domains, ...;',
      'a list not synced yet is named and skipped). For each group with a policy of its own (or',
      'the one --group names), the names it blocks: category, rule, and the list and line that',
      'put each name in the category. --json prints the whole report; --limit caps the names',
      'listed per group (default 500; all are counted). Exit code 0.',
    ].join('\n'),
    options: { group: { type: 'string' }, json: { type: 'boolean' }, limit: { type: 'string' }, school: { type: 'string' } },
    async run(ctx) {
      const limitText = ctx.values.limit as string | undefined;
      const limit = limitText === undefined ? undefined : Number(limitText);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw invalid(`--limit ${limitText}: give a whole number`);
      const app = await ctx.app();
      const schools = await app.schools.list();
      const wanted = ctx.values.school as string | undefined;
      const school = wanted ? schools.find((s) => s.id === wanted) : schools[0];
      if (!school) throw invalid(wanted ? `No school ${wanted}` : 'There is no school yet (schoolgate start --demo, or create one)');
      const report = await app.overblocking.report(school.id, { group: (ctx.values.group as string | undefined) ?? null, limit });
      if (ctx.values.json) ctx.out(JSON.stringify(report, null, 2));
      else for (const line of reportLines(report)) ctx.out(line);
      return 0;
    },
  },
];
