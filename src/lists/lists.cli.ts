/**
 * `schoolgate lists sync [--mirror DIR]`, `schoolgate lists status` and
 * `schoolgate lists why NAME...`. Sync works without the web app running; a
 * running Schoolgate notices the new catalog file and swaps to it within a
 * few seconds, and its status follows the lists' state file.
 */
import { existsSync, statSync } from 'node:fs';
import type { Command, CommandContext } from '../cli/command.ts';
import { dataPaths } from '../config/config.ts';
import { invalid } from '../shared/errors.ts';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import { BUILT_IN_SOURCES, isEnabled } from './lists.sources.ts';
import type { IllegalFeedStatus } from './lists.feeds.ts';
import { syncConfiguredLists } from './lists.refresh.ts';
import { createListsStatus } from './lists.status.ts';
import type { ListResult, SyncProgress } from './lists.sync.ts';
import { whyNames } from './lists.why.ts';

const number = (n: number) => n.toLocaleString('en-GB');

function progressLine(event: SyncProgress): string {
  if (event.phase === 'check') {
    const r = event.result;
    return `[${event.index + 1}/${event.total}] ${r.id.padEnd(28)} ${r.status.padEnd(9)} ${number(r.names).padStart(9)} names${r.reason ? `  (${r.reason})` : ''}`;
  }
  const step = event.step;
  if (step.phase === 'read') return `compiling: read ${step.index + 1}/${step.total} ${step.source} (${number(step.names)} names)`;
  if (step.phase === 'sort') return `compiling: sorting ${number(step.names)} entries`;
  return `compiling: writing ${number(step.names)} distinct names`;
}

/** The school `--school` names, or the first; null when there is none yet. */
async function schoolIdOf(ctx: CommandContext, app: Awaited<ReturnType<CommandContext['app']>>): Promise<string | null> {
  const schools = await app.schools.list();
  const wanted = ctx.values.school as string | undefined;
  const school = wanted ? schools.find((s) => s.id === wanted) : schools[0];
  if (wanted && !school) throw invalid(`No school ${wanted}`);
  return school?.id ?? null;
}

/** `lists enable` and `lists disable`: the same switch as the web app's Lists page, audited. */
function switchCommand(enabled: boolean): Command {
  const verb = enabled ? 'enable' : 'disable';
  return {
    name: `lists ${verb}`,
    summary: `Switch built-in lists ${enabled ? 'on' : 'off'} (with a reason); the next sync or refresh applies it`,
    usage: `lists ${verb} LIST_ID... --reason TEXT`,
    help: `LIST_ID as \`schoolgate lists sources\` shows it (ut1:games). The change is audited with the reason.`,
    options: { reason: { type: 'string' } },
    async run(ctx) {
      const reason = (ctx.values.reason as string | undefined) ?? '';
      if (!ctx.positionals.length) throw invalid(`Say which lists: schoolgate lists ${verb} LIST_ID... --reason TEXT`);
      const app = await ctx.app();
      const schoolId = await schoolIdOf(ctx, app);
      for (const id of ctx.positionals) {
        await app.listChoices.setEnabled(CLI_ACTOR, schoolId, id, enabled, reason);
        ctx.out(`${id}: ${enabled ? 'on' : 'off'}`);
      }
      ctx.out('Run schoolgate lists sync (or wait for the app’s refresh) to apply it.');
      return 0;
    },
  };
}

const sourcesCommand: Command = {
  name: 'lists sources',
  summary: 'Every built-in and own list: what it is for, whether it is on, and its copy in service',
  usage: 'lists sources [--json]',
  options: { json: { type: 'boolean' } },
  async run(ctx) {
    const app = await ctx.app();
    const states = createListsStatus({ cacheDir: dataPaths(ctx.config()).lists, lists: ctx.config().lists }).states();
    const chosen = new Map((await app.listChoices.switches()).map((s) => [s.listId, s.enabled]));
    const own = await app.listChoices.listOwn();
    const rows = [
      ...BUILT_IN_SOURCES.flatMap((source) => source.lists.map((l) => ({ id: l.id, use: l.use, category: l.category, enabled: isEnabled(l, chosen.get(l.id)), names: states[l.id]?.copy?.names ?? 0, note: l.note ?? '' }))),
      ...own.map((l) => ({ id: l.id, use: l.use, category: l.category, enabled: l.enabled, names: states[l.id]?.copy?.names ?? 0, note: l.note || (l.url ? `from ${l.url}` : 'uploaded') })),
    ];
    if (ctx.values.json) {
      for (const row of rows) ctx.out(JSON.stringify(row));
      return 0;
    }
    for (const r of rows) ctx.out(`${r.enabled ? 'on ' : 'off'} ${r.id.padEnd(30)} ${r.use.padEnd(6)} ${(r.category ?? '').padEnd(16)} ${number(r.names).padStart(9)}  ${r.note}`);
    return 0;
  },
};

const LEVEL_MARK = { green: 'GREEN', amber: 'AMBER', red: 'RED' } as const;

/** The illegal feeds' status as lines for a terminal. */
function feedStatusLines(status: IllegalFeedStatus): string[] {
  const lines = [`illegal-content feeds: ${LEVEL_MARK[status.level]}: ${status.summary}`];
  for (const f of status.feeds) lines.push(`  ${f.name.padEnd(12)} ${LEVEL_MARK[f.level].padEnd(6)} ${f.url}: ${f.message}`);
  if (status.advice) lines.push(`  ${status.advice}`, `  See ${status.docs}. Check enforcement any time: dig ${status.testName}`);
  return lines;
}

export const listsCommands: Command[] = [
  {
    name: 'lists sync',
    summary: 'Bring in the category lists and licensed feeds, and compile the filter’s catalog',
    usage: 'lists sync [--mirror DIR] [--json]',
    help: [
      'Downloads every enabled built-in list (block lists, and allow lists of known-good names',
      'for the over-blocking report) from its source (only what changed since the last',
      'sync), or with --mirror reads them from DIR, laid out as the sources publish them',
      '(ut1/<category>/domains.gz, blocklistproject/hosts/<list>.txt.gz,',
      'shadowwhisperer/Lists/<List>.gz, sinfonietta/<list>.gz). Licensed illegal-content feeds',
      '(lists.illegalFeeds in the config) are always downloaded from their URLs with their',
      'credentials, and the school\'s own lists from their URL or the uploaded file. Lists are',
      'switched on and off in the web app (Lists) or with `schoolgate lists enable|disable`.',
      'Each list is checked and kept as the last good copy in <dataDir>/lists, and',
      'the catalog the filter loads is compiled from those copies.',
      'A list that is missing, unreadable, not a list, or less than half its last size is',
      'reported and its last good copy stays in service. A running Schoolgate picks up the',
      'new catalog within a few seconds. Exit code 1 when any list had a problem.',
      '',
      '  --mirror   the directory to read the built-in lists from (air-gapped installs, tests)',
      '  --json     print the report as JSON',
    ].join('\n'),
    options: { mirror: { type: 'string' }, json: { type: 'boolean' } },
    async run(ctx) {
      const mirror = ctx.values.mirror as string | undefined;
      if (mirror !== undefined && (!existsSync(mirror) || !statSync(mirror).isDirectory())) throw invalid(`--mirror ${mirror}: no such directory`);
      const config = ctx.config();
      const paths = dataPaths(config);
      const json = ctx.values.json === true;
      const started = performance.now();
      const app = await ctx.app();
      const report = await syncConfiguredLists(config, {
        mirror: mirror ?? config.lists.mirror ?? null,
        remember: true,
        selection: await app.listChoices.selection(),
        onProgress: (event) => {
          if (json) return;
          if (event.phase === 'check') ctx.out(progressLine(event));
          else ctx.progress(progressLine(event));
        },
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const health = createListsStatus({ cacheDir: paths.lists, lists: config.lists }).current();
      if (json) {
        ctx.out(JSON.stringify({ lists: report.lists, build: report.build && { ...report.build, rejections: report.build.rejections.slice(0, 100) }, problems: report.problems, illegalFeed: health.illegalFeed }, null, 2));
        return report.problems.length ? 1 : 0;
      }
      const b = report.build;
      if (b) {
        ctx.out('');
        ctx.out(`catalog: ${number(b.names)} distinct names from ${b.sources.length} lists in ${(b.durationMs / 1000).toFixed(1)} s; ${number(b.duplicatesMerged)} duplicates merged`);
        ctx.out(`         ${(b.bytes / 1048576).toFixed(1)} MiB on disk, ${(b.tableBytes / 1048576).toFixed(1)} MiB in memory (${b.bytesPerName.toFixed(1)} bytes/name); why index ${(b.whyBytes / 1048576).toFixed(1)} MiB`);
        ctx.out(`         ${number(b.rejected)} line(s) not used${b.rejected ? '; the first of them:' : ''}`);
        for (const r of b.rejections.slice(0, 15)) ctx.out(`  ${r.source} line ${r.line}: ${r.reason}: ${r.text}`);
        ctx.out('');
        ctx.out('per list: lines read, names, distinct names in the list, lines not used');
        for (const s of b.sources) ctx.out(`  ${s.name.padEnd(28)} ${s.category.padEnd(16)} ${number(s.lines).padStart(9)} ${number(s.names).padStart(9)} ${number(s.distinct).padStart(9)} ${number(s.invalid + s.unsupported).padStart(7)}`);
      } else {
        ctx.out('No list has a usable copy: the catalog in service was left as it is.');
      }
      const problems: ListResult[] = report.problems;
      if (problems.length) {
        ctx.out('');
        ctx.out(`${problems.length} list(s) need attention:`);
        for (const p of problems) ctx.out(`  ${p.id} (${p.file ?? 'no file'}): ${p.reason}`);
      }
      ctx.out('');
      for (const line of feedStatusLines(health.illegalFeed)) ctx.out(line);
      ctx.out(`done in ${seconds} s`);
      return problems.length ? 1 : 0;
    },
  },
  {
    name: 'lists status',
    summary: 'Whether a licensed illegal-content feed is in service, and lists whose latest check failed',
    usage: 'lists status [--json]',
    help: [
      'The illegal category\'s licensed feeds: GREEN in service, AMBER the latest update failed or is',
      'late (the copy in service still blocks), RED none configured or none loaded. Then every',
      'list whose latest check had a problem. Exit code 0 when green with no problem, 1 otherwise.',
    ].join('\n'),
    options: { json: { type: 'boolean' } },
    async run(ctx) {
      const config = ctx.config();
      const health = createListsStatus({ cacheDir: dataPaths(config).lists, lists: config.lists }).current();
      const fine = health.illegalFeed.level === 'green' && health.problems.length === 0;
      if (ctx.values.json) {
        ctx.out(JSON.stringify(health, null, 2));
        return fine ? 0 : 1;
      }
      for (const line of feedStatusLines(health.illegalFeed)) ctx.out(line);
      if (health.problems.length) {
        ctx.out('');
        ctx.out(`${health.problems.length} list(s) had a problem at their latest check:`);
        for (const p of health.problems) ctx.out(`  ${p.id} (${p.at.slice(0, 16).replace('T', ' ')} UTC): ${p.reason}${p.inService ? '; the last good copy stays in service' : '; not in service'}`);
      }
      return fine ? 0 : 1;
    },
  },
  {
    name: 'lists why',
    summary: 'Why is a name blocked? Its categories, the list lines behind them, and a group’s decision',
    usage: 'lists why NAME... [--group GROUP] [--json] [--school ID]',
    help: [
      'For each NAME: every category the lists put it in, and each matching list, entry and line',
      '(by the name itself or a parent domain). With --group (a name or id): what the filter',
      'decides for that group now, the rule that decided, and since when.',
      '--json prints one object per name with name, categories, matches (and group).',
    ].join('\n'),
    options: { group: { type: 'string' }, json: { type: 'boolean' }, school: { type: 'string' } },
    async run(ctx) {
      if (!ctx.positionals.length) throw invalid('Say which names: schoolgate lists why NAME...');
      const app = await ctx.app();
      const results = await whyNames({ catalogFile: dataPaths(ctx.config()).catalog, policy: app.policy, schoolId: await schoolIdOf(ctx, app) }, ctx.positionals, (ctx.values.group as string | undefined) ?? null);
      for (const r of results) {
        if (ctx.values.json) {
          ctx.out(JSON.stringify(r));
          continue;
        }
        ctx.out(`${r.name}: ${r.categories.length ? r.categories.join(', ') : 'in no category'}`);
        for (const m of r.matches) ctx.out(`  ${m.category.padEnd(16)} ${m.list} line ${m.line}: ${m.entry}${m.exact ? ' (exact)' : ''} (${m.via === 'name' ? 'the name itself' : 'a parent domain'})`);
        if (r.group) ctx.out(`  for ${r.group.name}: ${r.group.kind} by ${r.group.rule}: ${r.group.reason}${r.group.since ? ` (since ${r.group.since})` : ''}`);
      }
      return 0;
    },
  },
  sourcesCommand,
  switchCommand(true),
  switchCommand(false),
];
