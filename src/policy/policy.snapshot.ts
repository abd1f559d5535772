/**
 * Building the `PolicySnapshot` the DNS engine is given, from rows already
 * read (one query per table), and the pieces that need care: ChromeOS user
 * hashes and the content hash that numbers snapshot versions.
 *
 * ChromeOS (`DnsOverHttpsTemplatesWithIdentifiers` with `DnsOverHttpsSalt`)
 * replaces `${USER_EMAIL}` in the DoH URL with the uppercase hex SHA-256 of
 * salt ‖ email. Device placeholders of a user who is not affiliated with the
 * managing domain are replaced with a fixed value instead (Chromium:
 * `VALUE_NOT_AVAILABLE`; the policy text of version 122 says
 * `DEVICE_NOT_MANAGED`), and an email without `@` gives empty name and domain
 * parts. Those values hash the same on every such device, so a hash of any of
 * them must never identify a person: no person entry ever carries one.
 */
import { createHash } from 'node:crypto';
import type { CategoryKey } from '../filter/categories.ts';
import type {
  DeviceEntry,
  Exemption,
  GroupPolicy,
  NetworkEntry,
  PersonEntry,
  PolicySnapshot,
  Sanction,
  Schedule,
  ScheduledCategory,
  TokenEntry,
} from '../filter/policy.types.ts';

/** Values ChromeOS puts in place of an identifier it will not or cannot share. */
export const CHROMEOS_PLACEHOLDER_VALUES: readonly string[] = ['VALUE_NOT_AVAILABLE', 'DEVICE_NOT_MANAGED', ''];

/** The ChromeOS identifier hash: uppercase hex SHA-256 of salt ‖ value. */
export function chromeosHash(salt: string, value: string): string {
  return createHash('sha256').update(salt + value).digest('hex').toUpperCase();
}

/** The hashes that stand for "no identity" under this salt. */
export function placeholderHashes(salt: string): Set<string> {
  return new Set(CHROMEOS_PLACEHOLDER_VALUES.map((v) => chromeosHash(salt, v)));
}

/**
 * Each person's ChromeOS hash (null when there is no salt, no usable email, or
 * the email is shared with someone else: a hash must name exactly one person).
 * Emails are compared lower-case, as ChromeOS canonicalises account emails.
 */
export function chromeosHashes(salt: string | null, people: readonly { id: string; email: string | null }[]): Map<string, string | null> {
  const result = new Map<string, string | null>();
  if (!salt) {
    for (const p of people) result.set(p.id, null);
    return result;
  }
  const forbidden = placeholderHashes(salt);
  const placeholders = new Set(CHROMEOS_PLACEHOLDER_VALUES.map((v) => v.toLowerCase()));
  const owners = new Map<string, string[]>();
  for (const p of people) {
    const email = (p.email ?? '').trim().toLowerCase();
    let hash: string | null = null;
    if (email.includes('@') && !placeholders.has(email)) {
      hash = chromeosHash(salt, email);
      if (forbidden.has(hash)) hash = null;
    }
    result.set(p.id, hash);
    if (hash) owners.set(hash, [...(owners.get(hash) ?? []), p.id]);
  }
  for (const ids of owners.values()) {
    if (ids.length > 1) for (const id of ids) result.set(id, null);
  }
  return result;
}

/** Everything a snapshot is built from, already read and presented. */
export interface SnapshotInput {
  schoolId: string;
  timeZone: string;
  calendar: PolicySnapshot['calendar'];
  groups: { id: string; parentId: string | null; policy: Omit<GroupPolicy, 'allow' | 'deny'> }[];
  entries: { groupId: string | null; list: 'allow' | 'deny'; domain: string }[];
  schedules: Schedule[];
  defaultGroupId: string | null;
  networks: { id: string; name: string; cidr: string; groupId: string | null }[];
  people: { id: string; email: string | null; groupIds: string[] }[];
  devices: { id: string; name: string; groupId: string | null; ownerId: string | null; tokenHash: string }[];
  chromeosSalt: string | null;
  neverBlock: string[];
  exemptions: Exemption[];
  sanctions: Sanction[];
  blocking: PolicySnapshot['blocking'];
  trustedForwarders: string[];
  conditionalForwarders: { zone: string; servers: string[] }[];
}

/** Code-unit order: the same on every machine, whatever its locale. */
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byId = <T extends { id: string }>(a: T, b: T) => cmp(a.id, b.id);
const sorted = (items: readonly string[]) => [...items].sort();

/** The snapshot without its version, in a stable order (so equal content hashes equal). */
export function buildSnapshotContent(input: SnapshotInput): Omit<PolicySnapshot, 'version'> {
  const parentOf = new Map(input.groups.map((g) => [g.id, g.parentId]));
  const chainOf = (groupId: string | null): string[] => {
    const chain: string[] = [];
    for (let at = groupId; at && !chain.includes(at); at = parentOf.get(at) ?? null) chain.push(at);
    return chain;
  };
  const listsOf = (groupId: string | null, list: 'allow' | 'deny') =>
    sorted(input.entries.filter((e) => e.groupId === groupId && e.list === list).map((e) => e.domain));

  const groups: GroupPolicy[] = input.groups
    .map((g) => ({
      ...g.policy,
      blocked: sortedCategories(g.policy.blocked),
      scheduled: [...g.policy.scheduled].sort(compareScheduled),
      allow: listsOf(g.id, 'allow'),
      deny: listsOf(g.id, 'deny'),
    }))
    .sort((a, b) => cmp(a.groupId, b.groupId));

  const networks: NetworkEntry[] = input.networks
    .map((n) => ({ id: n.id, name: n.name, cidr: n.cidr, groupId: n.groupId, rateLimited: false }))
    .sort(byId);

  const hashes = chromeosHashes(input.chromeosSalt, input.people);
  const people: PersonEntry[] = input.people.map((p) => ({ id: p.id, groupIds: sorted(p.groupIds), chromeosHash: hashes.get(p.id) ?? null })).sort(byId);
  const present = new Set(people.map((p) => p.id));

  const devices: DeviceEntry[] = input.devices
    .map((d) => ({ id: d.id, name: d.name, groupIds: sorted(chainOf(d.groupId)), ownerId: d.ownerId && present.has(d.ownerId) ? d.ownerId : null }))
    .sort(byId);
  const tokens: TokenEntry[] = input.devices
    .map((d) => ({ tokenHash: d.tokenHash, deviceId: d.id, personId: null }))
    .sort((a, b) => cmp(a.tokenHash, b.tokenHash));

  return {
    schoolId: input.schoolId,
    timeZone: input.timeZone,
    calendar: {
      terms: [...input.calendar.terms].sort((a, b) => cmp(a.start, b.start) || cmp(a.end, b.end)),
      closures: [...input.calendar.closures].sort((a, b) => cmp(a.date, b.date) || cmp(a.label, b.label)),
    },
    groups,
    schedules: input.schedules.map((s) => ({ ...s })).sort(byId),
    defaultGroupId: input.defaultGroupId,
    networks,
    people,
    devices,
    tokens,
    chromeosSalt: input.chromeosSalt,
    schoolAllow: listsOf(null, 'allow'),
    schoolDeny: listsOf(null, 'deny'),
    neverBlock: sorted([...new Set(input.neverBlock)]),
    exemptions: [...input.exemptions].sort(byId),
    sanctions: [...input.sanctions].sort(byId),
    blocking: input.blocking,
    trustedForwarders: sorted(input.trustedForwarders),
    conditionalForwarders: [...input.conditionalForwarders].sort((a, b) => cmp(a.zone, b.zone)),
    answerAnyClient: false,
  };
}

function sortedCategories(keys: readonly CategoryKey[]): CategoryKey[] {
  return [...new Set(keys)].sort();
}

function compareScheduled(a: ScheduledCategory, b: ScheduledCategory): number {
  return cmp(a.category, b.category) || cmp(a.scheduleId, b.scheduleId) || cmp(a.mode, b.mode);
}

/** SHA-256 of the content's JSON: equal content, equal hash (the builder fixes every order). */
export function contentHash(content: Omit<PolicySnapshot, 'version'>): string {
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}
