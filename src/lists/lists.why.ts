/**
 * "Why is this blocked?": for a name, every category the lists put it in and
 * every list line behind that (the exact line, and whether it matched the
 * name itself or a parent domain); for a group, what the filter decides for
 * it now, the rule that decided, and since when that rule has stood.
 */
import { type Catalog, emptyCatalog, explainName, loadCatalog } from '../filter/catalog.ts';
import type { CategoryKey } from '../filter/categories.ts';
import type { Decision } from '../filter/decision.ts';
import { normalizeName } from '../filter/list-formats.ts';
import { compilePolicy } from '../filter/policy.ts';
import { QTYPE } from '../filter/wire.ts';
import type { PolicyService } from '../policy/policy.service.ts';
import { invalid } from '../shared/errors.ts';
import { BUILT_IN_LISTS } from './lists.sources.ts';

/** One list line that puts the name in a category. */
export interface WhyMatch {
  /** The list's id (`ut1:gambling`), and its source. */
  list: string;
  source: string | null;
  category: CategoryKey;
  /** The entry that matched: the name itself or a parent domain. */
  entry: string;
  via: 'name' | 'parent';
  exact: boolean;
  /** 1-based line of the list file (as downloaded) that holds the entry. */
  line: number;
}

export interface WhyResult {
  name: string;
  categories: CategoryKey[];
  matches: WhyMatch[];
  /** With a group: what the filter decides for that group now. */
  group?: {
    id: string;
    name: string;
    kind: Decision['kind'];
    rule: Decision['rule'];
    reason: string;
    category: CategoryKey | null;
    matched: string | null;
    /** When the deciding rule was last set (a policy, entry or exemption); null for built-in rules. */
    since: string | null;
  };
}

/** Explains `names` from the compiled catalog (and, with `groupId`, the school's policy for that group). */
export async function whyNames(deps: { catalogFile: string; policy: PolicyService; schoolId: string | null }, names: string[], group: string | null): Promise<WhyResult[]> {
  const cleaned = names.map((raw, i) => {
    const checked = normalizeName(raw.trim(), true);
    if (!checked.ok) throw invalid(`"${raw}" is not a domain name: ${checked.reason}`, [{ where: `names.${i}`, message: checked.reason }]);
    return checked.name;
  });
  let catalog: Catalog | null = null;
  try {
    catalog = loadCatalog(deps.catalogFile);
  } catch {
    catalog = null;
  }

  let decide: ((name: string) => Promise<WhyResult['group']>) | null = null;
  if (group !== null) {
    if (deps.schoolId === null) throw invalid('There is no school yet, so there is no group to decide for');
    const schoolId = deps.schoolId;
    const policies = await deps.policy.listGroupPolicies(schoolId);
    const chosen = policies.find((p) => p.groupId === group || p.groupName.toLowerCase() === group.toLowerCase());
    if (!chosen) throw invalid(`No group "${group}"; groups: ${policies.map((p) => p.groupName).join(', ')}`, [{ where: 'group', message: 'no such group' }]);
    const compiled = compilePolicy(await deps.policy.snapshot(schoolId));
    const client = compiled.client({ personId: null, deviceId: null, networkId: null, groupIds: [chosen.groupId] });
    const lookup = catalog ?? emptyCatalog();
    decide = async (name) => {
      const decision = compiled.decide(name, QTYPE.A, client, lookup, Date.now());
      return { id: chosen.groupId, name: chosen.groupName, kind: decision.kind, rule: decision.rule, reason: decision.reason, category: decision.category, matched: decision.matched, since: await since(schoolId, decision, chosen.groupId, chosen.updatedAt) };
    };
  }

  async function since(schoolId: string, decision: Decision, groupId: string, policyUpdatedAt: string | null): Promise<string | null> {
    switch (decision.rule) {
      case 'category':
      case 'schedule':
      case 'safe_search':
      case 'filter_off':
        return policyUpdatedAt;
      case 'allow_entry':
      case 'deny_entry': {
        const entries = await deps.policy.listEntries(schoolId, { list: decision.rule === 'allow_entry' ? 'allow' : 'deny' });
        const entry = entries.find((e) => e.domain === decision.matched && (e.groupId === null || e.groupId === groupId));
        return entry?.createdAt ?? null;
      }
      case 'exemption': {
        const exemptions = await deps.policy.listExemptions(schoolId, { activeOnly: true });
        return exemptions.find((e) => decision.reason.includes(e.until) || e.domain === decision.matched)?.createdAt ?? null;
      }
      case 'never_block':
        return (await deps.policy.getSettings(schoolId)).updatedAt;
      default:
        return null;
    }
  }

  const results: WhyResult[] = [];
  for (const name of cleaned) {
    const lines = catalog ? await explainName(deps.catalogFile, name) : [];
    const matches: WhyMatch[] = lines.map((l) => ({ list: l.source, source: BUILT_IN_LISTS.get(l.source)?.source ?? null, category: l.category, entry: l.entry, via: l.via, exact: l.exact, line: l.line }));
    const result: WhyResult = { name, categories: [...new Set(matches.map((m) => m.category))], matches };
    if (decide) result.group = await decide(name);
    results.push(result);
  }
  return results;
}
