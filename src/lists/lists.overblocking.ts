/**
 * The over-blocking report (DfE filtering standard: filtering must not
 * unreasonably stop teaching and learning). Every known-good name (the
 * school's own list of sites teachers rely on, and the last good copies of
 * the install's allow lists, such as UT1's white lists and Hipo's university
 * domains) is decided for each group by the same compiled policy and catalog
 * the DNS filter uses; a name the group's policy blocks is over-blocked, and
 * the report says which rule blocked it and which list line put it in the
 * blocking category.
 *
 * A name in a category the group blocks only on a schedule is reported too
 * when the schedule allows it at the time of the report (`when: 'at_times'`):
 * the report is often read after school, and a site teachers rely on that is
 * blocked during lessons is the over-blocking that matters most.
 *
 * One catalog load and one compiled policy serve every group; deciding is in
 * memory, so 15,000 names for four groups take well under a second. The
 * slower look-up of list lines (`explainName`, on disk) is made only for
 * blocked names, once per name whatever the number of groups.
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { type Catalog, emptyCatalog, type Explanation, explainName, loadCatalog } from '../filter/catalog.ts';
import { readLines } from '../filter/catalog-build.ts';
import { CATEGORY_BIT } from '../filter/categories.ts';
import type { Decision } from '../filter/decision.ts';
import { type ListFormat, parseListLine } from '../filter/list-formats.ts';
import { compilePolicy } from '../filter/policy.ts';
import { QTYPE } from '../filter/wire.ts';
import type { GroupPolicyView, PolicyService } from '../policy/policy.service.ts';
import { invalid } from '../shared/errors.ts';
import type { KnownGoodSites } from './lists.known-good.ts';
import { cacheFileOf } from './lists.sync.ts';

/** The source id of the school's own known-good sites. */
export const SCHOOL_SOURCE = 'school';
/** How many blocked names a group's report lists by default (all are counted). */
export const DEFAULT_ITEM_LIMIT = 500;

/** An allow list whose last good copy the report reads (the composition root says which). */
export interface AllowListChoice {
  id: string;
  label: string;
  format: ListFormat;
}

/** What the report reads. */
export interface OverblockingDeps {
  /** The compiled catalog the filter loads (and its `.why` index beside it). */
  catalogFile: string;
  /** `<dataDir>/lists`: the last good copies of the lists (`cacheFileOf`). */
  cacheDir: string;
  policy: PolicyService;
  sites: KnownGoodSites;
  /** The install's allow lists: known-good names from the list sources. */
  allowLists(): Promise<AllowListChoice[]>;
  /** Milliseconds since the epoch; schedules are decided at this time. */
  clock?: () => number;
}

/** One source of known-good names, and what was read from it. */
export interface KnownGoodSourceReport {
  id: string;
  label: string;
  kind: 'school' | 'list';
  /** Whether a copy was there to read (always true for the school's own sites). */
  copy: boolean;
  /** Why it gave nothing, when it did not ("not synced yet"). */
  note: string | null;
  lines: number;
  /** Names read, duplicates within the source included. */
  names: number;
  /** Lines with something on them that gave no name to check: bad names, IP addresses, rules. */
  unused: number;
}

/** Where a known-good name came from. */
export interface KnownGoodOrigin {
  source: string;
  /** 1-based line of the list copy; null for the school's own sites. */
  line: number | null;
}

/** A list line behind the blocking category. */
export interface BlockingLine {
  list: string;
  line: number;
  entry: string;
  category: string;
  via: 'name' | 'parent';
  exact: boolean;
}

/** One over-blocked name in one group. */
export interface BlockedName {
  name: string;
  knownGood: KnownGoodOrigin[];
  /** `now`: blocked at the time of the report; `at_times`: allowed now, blocked at other times by a schedule. */
  when: 'now' | 'at_times';
  kind: Decision['kind'];
  rule: Decision['rule'];
  reason: string;
  category: string | null;
  matched: string | null;
  /** The list lines that put it in the blocking category (none when a rule other than a category blocked it). */
  lists: BlockingLine[];
}

/** A group's part of the report. */
export interface GroupOverblocking {
  id: string;
  name: string;
  /** False when the group has no policy of its own (the defaults apply). */
  ownPolicy: boolean;
  checked: number;
  /** Names blocked now or at times (a schedule). */
  blocked: number;
  /** Of those, the names blocked at the time of the report. */
  blockedNow: number;
  /** Blocked names per category (`(no category)` for deny entries and the like). */
  byCategory: { key: string; count: number }[];
  /** Blocked names per list that put them in the blocking category, or per rule when no list did (`deny_entry`). */
  byList: { key: string; count: number }[];
  byRule: { key: string; count: number }[];
  /** The first `limit` blocked names, by name. */
  items: BlockedName[];
  truncated: boolean;
}

/** The whole report. */
export interface OverblockingReport {
  generatedAt: string;
  catalog: { names: number; builtAt: string | null; problem: string | null };
  sources: KnownGoodSourceReport[];
  /** Distinct known-good names checked. */
  names: number;
  groups: GroupOverblocking[];
  /** Groups not reported because they have no policy of their own (ask for one by name to see it). */
  groupsLeftOut: { id: string; name: string }[];
  durationMs: number;
}

/** The note of an allow list with no copy yet. */
export const NOT_SYNCED = 'not synced yet: no copy has been brought in';

/** Reads every known-good source into one map of name → where it came from. */
async function readKnownGood(deps: OverblockingDeps, schoolId: string): Promise<{ names: Map<string, KnownGoodOrigin[]>; sources: KnownGoodSourceReport[] }> {
  const names = new Map<string, KnownGoodOrigin[]>();
  const note = (name: string, origin: KnownGoodOrigin) => {
    const origins = names.get(name);
    if (!origins) names.set(name, [origin]);
    else if (!origins.some((o) => o.source === origin.source)) origins.push(origin);
  };
  const sources: KnownGoodSourceReport[] = [];

  const sites = await deps.sites.list(schoolId);
  for (const site of sites) note(site.domain, { source: SCHOOL_SOURCE, line: null });
  sources.push({ id: SCHOOL_SOURCE, label: 'The school’s own known-good sites', kind: 'school', copy: true, note: sites.length ? null : 'none added yet', lines: sites.length, names: sites.length, unused: 0 });

  for (const list of await deps.allowLists()) {
    const file = cacheFileOf(deps.cacheDir, list);
    const report: KnownGoodSourceReport = { id: list.id, label: list.label, kind: 'list', copy: existsSync(file), note: null, lines: 0, names: 0, unused: 0 };
    sources.push(report);
    if (!report.copy) {
      report.note = NOT_SYNCED;
      continue;
    }
    try {
      report.lines = await readLines(file, (text, line) => {
        if (text === null) {
          report.unused++;
          return;
        }
        const parsed = parseListLine(list.format, text);
        let used = false;
        for (const n of parsed.names) {
          if (isIP(n.name)) continue; // the filter decides names; an address in an allow list says nothing about them
          note(n.name, { source: list.id, line });
          report.names++;
          used = true;
        }
        if (!used && (parsed.names.length || parsed.problems.length)) report.unused++;
      });
    } catch (error) {
      report.note = `the copy cannot be read: ${(error as Error).message}`;
    }
  }
  return { names, sources };
}

/** The groups to report: the one asked for, else those with a policy of their own (all of them when none has). */
function chooseGroups(policies: GroupPolicyView[], wanted: string | null): { chosen: GroupPolicyView[]; leftOut: GroupPolicyView[] } {
  if (wanted !== null) {
    const chosen = policies.find((p) => p.groupId === wanted || p.groupName.toLowerCase() === wanted.toLowerCase());
    if (!chosen) throw invalid(`No group "${wanted}"; groups: ${policies.map((p) => p.groupName).join(', ') || 'none yet'}`, [{ where: 'group', message: 'no such group' }]);
    return { chosen: [chosen], leftOut: [] };
  }
  const own = policies.filter((p) => !p.isDefault);
  if (own.length === 0) return { chosen: policies, leftOut: [] };
  return { chosen: own, leftOut: policies.filter((p) => p.isDefault) };
}

const isBlock = (d: Decision) => d.kind === 'blocked' || d.kind === 'bypass_blocked';
/** Allowed now only because a schedule says so: blocked at other times. */
const isBlockedAtTimes = (d: Decision) => d.kind === 'allowed' && d.rule === 'schedule' && d.category !== null;
/** Rules whose category came from the lists (so list lines explain them). */
const LIST_RULES = new Set<Decision['rule']>(['category', 'schedule', 'illegal']);

/** Counts as sorted `{ key, count }` rows, most first. */
function rows(counts: Map<string, number>): { key: string; count: number }[] {
  return [...counts].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
}

const bump = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

/**
 * The over-blocking report of a school: for each group (or the one named by
 * `group`, an id or name), every known-good name its policy blocks now, with
 * the rule and the list lines behind it. `limit` caps the names listed per
 * group (all are counted).
 */
export async function overblockingReport(deps: OverblockingDeps, schoolId: string, options: { group?: string | null; limit?: number } = {}): Promise<OverblockingReport> {
  const started = performance.now();
  const now = deps.clock?.() ?? Date.now();
  const limit = options.limit ?? DEFAULT_ITEM_LIMIT;
  const policies = await deps.policy.listGroupPolicies(schoolId);
  const { chosen, leftOut } = chooseGroups(policies, options.group ?? null);

  let catalog: Catalog;
  let catalogProblem: string | null = null;
  let haveCatalog = true;
  try {
    catalog = loadCatalog(deps.catalogFile);
  } catch (error) {
    catalog = emptyCatalog();
    haveCatalog = false;
    catalogProblem = `no category catalog (${(error as Error).message}): only the school’s allow and deny entries and built-in rules were checked; sync the lists (schoolgate lists sync)`;
  }
  const { names, sources } = await readKnownGood(deps, schoolId);
  const compiled = compilePolicy(await deps.policy.snapshot(schoolId), { now: () => now });

  // Decide every name for every group first (fast, in memory), then explain each blocked name once.
  const blockedByGroup = chosen.map((g) => {
    const client = compiled.client({ personId: null, deviceId: null, networkId: null, groupIds: [g.groupId] });
    const blocked: { name: string; decision: Decision; when: BlockedName['when'] }[] = [];
    for (const name of names.keys()) {
      const decision = compiled.decide(name, QTYPE.A, client, catalog, now);
      if (isBlock(decision)) blocked.push({ name, decision, when: 'now' });
      else if (isBlockedAtTimes(decision)) {
        const category = decision.category!;
        blocked.push({
          name,
          when: 'at_times',
          decision: { kind: 'blocked', rule: 'schedule', reason: `${category} is blocked for ${g.groupName} on a schedule: allowed now, blocked at other times`, category, matched: catalog.matchedEntry(name, CATEGORY_BIT[category]) },
        });
      }
    }
    blocked.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { group: g, blocked };
  });

  const explained = new Map<string, Explanation[]>();
  if (haveCatalog) {
    const wanted = new Set<string>();
    for (const { blocked } of blockedByGroup) for (const b of blocked) if (LIST_RULES.has(b.decision.rule) && b.decision.category !== null) wanted.add(b.name);
    for (const name of wanted) {
      try {
        explained.set(name, await explainName(deps.catalogFile, name));
      } catch (error) {
        // A missing or stale why index leaves the lines out; the decision still stands.
        catalogProblem ??= `the list lines cannot be shown: ${(error as Error).message}`;
        break;
      }
    }
  }

  const groups: GroupOverblocking[] = blockedByGroup.map(({ group, blocked }) => {
    const byCategory = new Map<string, number>();
    const byList = new Map<string, number>();
    const byRule = new Map<string, number>();
    const items: BlockedName[] = [];
    for (const { name, decision, when } of blocked) {
      const lines: BlockingLine[] =
        decision.category !== null && LIST_RULES.has(decision.rule)
          ? (explained.get(name) ?? []).filter((e) => e.category === decision.category).map((e) => ({ list: e.source, line: e.line, entry: e.entry, category: e.category, via: e.via, exact: e.exact }))
          : [];
      bump(byCategory, decision.category ?? '(no category)');
      bump(byRule, decision.rule);
      const lists = new Set(lines.map((l) => l.list));
      if (lists.size === 0) bump(byList, `(${decision.rule.replace(/_/g, ' ')})`);
      for (const list of lists) bump(byList, list);
      if (items.length < limit) {
        items.push({ name, knownGood: names.get(name) ?? [], when, kind: decision.kind, rule: decision.rule, reason: decision.reason, category: decision.category, matched: decision.matched, lists: lines });
      }
    }
    return {
      id: group.groupId,
      name: group.groupName,
      ownPolicy: !group.isDefault,
      checked: names.size,
      blocked: blocked.length,
      blockedNow: blocked.filter((b) => b.when === 'now').length,
      byCategory: rows(byCategory),
      byList: rows(byList),
      byRule: rows(byRule),
      items,
      truncated: blocked.length > items.length,
    };
  });

  return {
    generatedAt: new Date(now).toISOString(),
    catalog: { names: catalog.size, builtAt: haveCatalog ? catalog.builtAt : null, problem: catalogProblem },
    sources,
    names: names.size,
    groups,
    groupsLeftOut: leftOut.map((g) => ({ id: g.groupId, name: g.groupName })),
    durationMs: Math.round(performance.now() - started),
  };
}

/** The report's functions as one object, for the composition root, routes and CLI. */
export interface Overblocking {
  sites: KnownGoodSites;
  report(schoolId: string, options?: { group?: string | null; limit?: number }): Promise<OverblockingReport>;
}

/** Binds the report to its sources. */
export function createOverblocking(deps: OverblockingDeps): Overblocking {
  return { sites: deps.sites, report: (schoolId, options) => overblockingReport(deps, schoolId, options) };
}
