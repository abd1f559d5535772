/**
 * The test names a check asks, per category. The built-in set uses the
 * filter's own illegal test name, the bypass switches the filter answers for
 * everyone, and one well-known name per category that the real lists put in
 * that category (checked with `schoolgate lists why` against every list in
 * the shared mirror, and in the demo's lists too). A school may replace the
 * set with its own.
 */
import { type CategoryKey, isCategoryKey } from '../filter/categories.ts';
import { normalizeName } from '../filter/list-formats.ts';
import { ILLEGAL_TEST_NAME } from '../filter/special-names.ts';
import type { Issue } from '../shared/errors.ts';

/** A category key, or `bypass` for the switches that turn on a way round the filter. */
export type CheckCategory = CategoryKey | 'bypass';

/** One test name and the category it stands for. */
export interface CheckName {
  category: CheckCategory;
  name: string;
}

/** The bypass switches the filter answers "does not exist" for every client (src/filter/special-names.ts). */
export const BYPASS_TEST_NAMES = ['use-application-dns.net', 'mask.icloud.com'] as const;

/** The built-in test names. */
export const DEFAULT_CHECK_NAMES: readonly CheckName[] = [
  { category: 'illegal', name: ILLEGAL_TEST_NAME },
  ...BYPASS_TEST_NAMES.map((name) => ({ category: 'bypass' as const, name })),
  { category: 'pornography', name: 'pornhub.com' },
  { category: 'gambling', name: 'skybet.com' },
  { category: 'dating', name: 'tinder.com' },
  { category: 'social_networks', name: 'facebook.com' },
  { category: 'chat', name: 'discord.com' },
  { category: 'games', name: 'roblox.com' },
  { category: 'streaming', name: 'netflix.com' },
  { category: 'vpn_proxy', name: 'nordvpn.com' },
  { category: 'public_dns', name: 'dns.google' },
  { category: 'drugs', name: 'erowid.org' },
  { category: 'ai_chat', name: 'chatgpt.com' },
];

/** The names the daily self-test asks: illegal content and the bypass switches, which must be blocked for everyone. */
export const SELF_TEST_NAMES: readonly CheckName[] = DEFAULT_CHECK_NAMES.filter((n) => n.category === 'illegal' || n.category === 'bypass');

/** Whether a text is a check category. */
export function isCheckCategory(value: string): value is CheckCategory {
  return value === 'bypass' || isCategoryKey(value);
}

/**
 * Checks a school's list of test names: each a host name in a known
 * category, no repeats. The illegal test name and the bypass switches are
 * always asked (the self-test depends on them), so they are added when left out.
 */
export function parseCheckNames(input: readonly { category: string; name: string }[]): { names: CheckName[]; issues: Issue[] } {
  const issues: Issue[] = [];
  const names: CheckName[] = [];
  const seen = new Set<string>();
  input.forEach((entry, index) => {
    const where = `names[${index}]`;
    if (!isCheckCategory(entry.category)) {
      issues.push({ where: `${where}.category`, message: `"${entry.category}" is not a category` });
      return;
    }
    const checked = normalizeName(entry.name.trim(), true);
    if (!checked.ok || checked.ip) {
      issues.push({ where: `${where}.name`, message: `"${entry.name}" is not a host name` });
      return;
    }
    const key = `${entry.category} ${checked.name}`;
    if (seen.has(key)) {
      issues.push({ where: `${where}.name`, message: `${checked.name} is already listed for ${entry.category}` });
      return;
    }
    seen.add(key);
    names.push({ category: entry.category, name: checked.name });
  });
  for (const required of SELF_TEST_NAMES) {
    if (!seen.has(`${required.category} ${required.name}`)) names.unshift(required);
  }
  return { names, issues };
}
