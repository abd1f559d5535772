/**
 * The "decide" stage of the DNS filter: a school's policy snapshot compiled
 * into lookup tables once, then a decision per query from a few map lookups
 * and integer operations.
 *
 * The order of precedence, first rule that applies wins:
 *
 * 1. Illegal content is always blocked, for every client, whatever the policy
 *    says: no group setting, filter-off, exemption, allow entry or never-block
 *    entry can let it through. `illegal-test.schoolgate.invalid` (and any name
 *    below it) is in this category without any list, for checking enforcement.
 * 2. Names that switch on a way round the filter are answered here for
 *    everyone: the Firefox canary `use-application-dns.net` and iCloud
 *    Private Relay (`mask.icloud.com`, `mask-h2.icloud.com`) do not exist
 *    (recorded as bypass attempts). Discovery of Designated Resolvers
 *    (`_dns.resolver.arpa`) has no data, and reverse names of private and
 *    other local addresses (RFC 6303) do not exist; these two are ordinary
 *    local answers, not bypass attempts.
 * 3. A sanction ("network rights removed") on the client's person or device
 *    blocks everything except its own allow list and the school's never-block
 *    list, until it ends. A name on those lists then goes on through the rules
 *    below as usual: a sanction only ever takes access away. With two
 *    sanctions at once a name must pass both.
 * 4. Allowed: a name on the school's never-block list, on the school's or the
 *    group's allow list, or under an approved exemption for the name (for the
 *    client's group, person or device, not yet ended).
 * 5. Blocked: a name on the school's or the group's deny list.
 * 6. Blocked: a name in a category the group blocks now, either always or
 *    because of a schedule in the school's local time. A category exemption
 *    lifts the block on that category only. A group with filtering switched
 *    off skips rules 4 to 7: everything is allowed except rules 1 to 3.
 * 7. Safe search, on whatever rules 4 to 6 allowed: with safe search on,
 *    Google, Bing, DuckDuckGo, Ecosia, Pixabay and Brave Search are answered
 *    with their safe hosts and search engines that cannot be locked are
 *    blocked (even when an allow entry names them); YouTube is answered with
 *    its strict or moderate host when the group asks for it.
 * 8. Otherwise allowed.
 *
 * Which policy applies to a client: the caller gives the client's groups,
 * taken from the most specific identity it has (a signed-in person's groups,
 * else the device's, else the network's). The whole policy of the group with
 * the lowest `priority` number applies; equal priorities go to the lower
 * group id. A client in no known group gets the school's default group, and
 * with no default group only rules 1 to 3 apply (the decision says so, so the
 * gap shows in the log).
 *
 * Answers: a blocked A or AAAA query gets the block page (or the null address,
 * per `blocking.answer`), other types get "no data"; with `blocking.answer`
 * `nxdomain` every blocked type gets NXDOMAIN. An `allowed` decision that
 * carries an `answer` (rule `local`) is also answered here, with that empty
 * answer, and never forwarded.
 */
import { BYPASS_MASK, CATEGORY_BIT, CATEGORY_KEYS, type CategoryKey, ILLEGAL_BIT, isCategoryKey } from './categories.ts';
import type { BlockAnswer, CategoryLookup, Decision, DecisionRule } from './decision.ts';
import { DomainSet, DomainTable, normalizeDomainEntry } from './domain-set.ts';
import type { Exemption, GroupPolicy, PolicySnapshot, Sanction, ScheduledCategory } from './policy.types.ts';
import { SafeSearchRewrites, unforceableEngine } from './safe-search.ts';
import { CompiledSchedule, SchoolClock } from './schedule.ts';
import { ILLEGAL_TEST_NAME, isIllegalTestName, SpecialNames } from './special-names.ts';
import { QTYPE } from './wire.ts';

/**
 * Who is asking, as the identify stage found it. `groupIds` are the groups of
 * the most specific identity (person, else device, else network); the person
 * and device ids find sanctions and exemptions.
 */
export interface ClientIdentity {
  personId: string | null;
  deviceId: string | null;
  networkId: string | null;
  groupIds: readonly string[];
}

/** Largest TTL of an allowed answer whose category is scheduled, so a schedule change reaches clients within a minute. */
export const SCHEDULED_TTL_CAP = 60;
/** Smallest TTL cap under an exemption about to end (clients that get 0 or 1 s ask again at once). */
export const MIN_EXEMPTION_TTL_CAP = 10;

const MINUTE_MS = 60_000;

// The lists of a group's entry table, in one walk over the name.
const NEVER = 0;
const SCHOOL_ALLOW = 1;
const GROUP_ALLOW = 2;
const SCHOOL_DENY = 3;
const GROUP_DENY = 4;
const ALLOW_BITS = (1 << SCHOOL_ALLOW) | (1 << GROUP_ALLOW);
const DENY_BITS = (1 << SCHOOL_DENY) | (1 << GROUP_DENY);

/** Category names as a sentence reads them. */
const LABEL_OVERRIDES: Readonly<Record<string, string>> = {
  vpn_proxy: 'VPNs and proxies',
  public_dns: 'public DNS resolvers',
  ai_chat: 'AI chat',
  self_harm: 'self-harm',
};
const CATEGORY_LABEL: readonly string[] = CATEGORY_KEYS.map((key) => LABEL_OVERRIDES[key] ?? key.replace(/_/g, ' '));

/** Index of the lowest set bit of a non-zero mask. */
function lowestBit(mask: number): number {
  return 31 - Math.clz32(mask & -mask);
}

/** The bit that names a blocked name's category: a bypass category first (it makes a bypass event), else the first in taxonomy order. */
function decidingBit(mask: number): number {
  return lowestBit(mask & BYPASS_MASK || mask);
}

function frozen(decision: Decision): Decision {
  return Object.freeze(decision);
}

function isAddress(value: string): boolean {
  // No top-level domain is numeric, so a final digit means an IPv4 address.
  const last = value.charCodeAt(value.length - 1);
  return value.includes(':') || (last >= 48 && last <= 57);
}

function shorten(text: string, max = 100): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`;
}

const DEFAULT_ALLOWED = frozen({ kind: 'allowed', rule: 'default', reason: 'allowed: no rule blocks it', category: null, matched: null });
const NO_GROUP_ALLOWED = frozen({
  kind: 'allowed',
  rule: 'default',
  reason: 'allowed: no filtering group applies to this client, so only illegal content is blocked',
  category: null,
  matched: null,
});

/** The rules of an allowed question whose upstream answer is checked in full by `recheck`; after the others only illegal content is checked. */
const FULL_RECHECK: ReadonlySet<DecisionRule> = new Set(['default', 'schedule', 'safe_search']);

/** A group's policy, compiled. */
class CompiledGroup {
  readonly index: number;
  readonly id: string;
  readonly name: string;
  readonly priority: number;
  readonly filterOff: boolean;
  /** Categories blocked at all times. */
  readonly alwaysMask: number;
  /** Categories whose state depends on a schedule (and are not always blocked). */
  readonly scheduledMask: number;
  readonly scheduled: readonly { bit: number; schedule: number; mode: ScheduledCategory['mode'] }[];
  readonly entries: DomainTable<Decision>;
  readonly search: SafeSearchRewrites;
  readonly filterOffDecision: Decision;
  /** Allowed-at-this-time decisions per category bit index, made when first needed. */
  readonly scheduleAllowed: (Decision | undefined)[] = [];

  constructor(
    index: number,
    group: GroupPolicy,
    scheduleIndex: ReadonlyMap<string, number>,
    snapshot: PolicySnapshot,
    problems: string[],
  ) {
    this.index = index;
    this.id = group.groupId;
    this.name = group.name;
    this.priority = group.priority;
    this.filterOff = group.filterOff;
    let always = 0;
    for (const key of group.blocked) {
      if (isCategoryKey(key)) always |= CATEGORY_BIT[key];
      else problems.push(`group ${group.groupId}: unknown category ${key}`);
    }
    this.alwaysMask = always;
    const scheduled: { bit: number; schedule: number; mode: ScheduledCategory['mode'] }[] = [];
    let scheduledMask = 0;
    for (const s of group.scheduled) {
      if (!isCategoryKey(s.category)) {
        problems.push(`group ${group.groupId}: unknown category ${s.category}`);
        continue;
      }
      const schedule = scheduleIndex.get(s.scheduleId) ?? -1;
      // An unknown schedule is never active: `block_during` then never blocks, `allow_during` always does.
      if (schedule < 0) problems.push(`group ${group.groupId}: unknown schedule ${s.scheduleId} for ${s.category}`);
      const bit = CATEGORY_BIT[s.category];
      if (always & bit) continue;
      scheduled.push({ bit, schedule, mode: s.mode });
      scheduledMask |= bit;
    }
    this.scheduled = scheduled;
    this.scheduledMask = scheduledMask;
    this.entries = new DomainTable<Decision>(
      [snapshot.neverBlock, snapshot.schoolAllow, group.allow, snapshot.schoolDeny, group.deny],
      (list, entry) => entryDecision(list, entry.text, group.name),
    );
    // The school-wide lists are in every group's table; they are reported once, by the policy.
    for (const { list, entry } of this.entries.rejected) {
      if (list === GROUP_ALLOW || list === GROUP_DENY) problems.push(`group ${group.groupId}: not a domain name: ${entry}`);
    }
    this.search = SafeSearchRewrites.of(group.safeSearch, group.youtube);
    this.filterOffDecision = frozen({
      kind: 'allowed',
      rule: 'filter_off',
      reason: `filtering is off for ${group.name}: only illegal content is blocked`,
      category: null,
      matched: null,
    });
  }

  /** The blocked-categories mask for a minute, given which schedules are active. */
  maskAt(active: readonly boolean[]): number {
    let blockDuring = 0;
    let allowDuring = 0;
    let allowActive = 0;
    for (const s of this.scheduled) {
      const on = s.schedule >= 0 && active[s.schedule];
      if (s.mode === 'block_during') {
        if (on) blockDuring |= s.bit;
      } else {
        allowDuring |= s.bit;
        if (on) allowActive |= s.bit;
      }
    }
    // One category under both modes: blocked when a block_during schedule is on, or when no allow_during one is.
    return this.alwaysMask | blockDuring | (allowDuring & ~allowActive);
  }

  /** The decision for a name allowed now whose category is scheduled. */
  allowedBySchedule(bitIndex: number): Decision {
    let decision = this.scheduleAllowed[bitIndex];
    if (!decision) {
      decision = frozen({
        kind: 'allowed',
        rule: 'schedule',
        reason: `${CATEGORY_LABEL[bitIndex]} is allowed for ${this.name} at this time`,
        category: CATEGORY_KEYS[bitIndex],
        matched: null,
        ttlCap: SCHEDULED_TTL_CAP,
      });
      this.scheduleAllowed[bitIndex] = decision;
    }
    return decision;
  }
}

/** The ready-made decision of an entry in a group's table (deny ones get their answer when used). */
function entryDecision(list: number, text: string, groupName: string): Decision {
  switch (list) {
    case NEVER:
      return frozen({ kind: 'allowed', rule: 'never_block', reason: `allowed: ${text} is on the school’s never-block list`, category: null, matched: text });
    case SCHOOL_ALLOW:
      return frozen({ kind: 'allowed', rule: 'allow_entry', reason: `allowed by the school’s allow list (${text})`, category: null, matched: text });
    case GROUP_ALLOW:
      return frozen({ kind: 'allowed', rule: 'allow_entry', reason: `allowed for ${groupName} by the allow entry ${text}`, category: null, matched: text });
    case SCHOOL_DENY:
      return frozen({ kind: 'blocked', rule: 'deny_entry', reason: `blocked by the school’s deny list (${text})`, category: null, matched: text });
    default:
      return frozen({ kind: 'blocked', rule: 'deny_entry', reason: `blocked for ${groupName} by the deny entry ${text}`, category: null, matched: text });
  }
}

/** An exemption, compiled. */
interface CompiledExemption {
  readonly id: string;
  readonly untilMs: number;
  /** "15:40" or "15:40 on 3 Mar 2026", local time. */
  readonly until: string;
  /** ` (reason)` ready to append, or empty. */
  readonly reason: string;
  readonly groupId: string | null;
  readonly personId: string | null;
  readonly deviceId: string | null;
  /** For a domain exemption: the name, `.name` for subdomains, and whether it is exact. */
  readonly name: string | null;
  readonly dotted: string | null;
  readonly exact: boolean;
  readonly text: string | null;
  /** For a category exemption: its bit (0 otherwise). */
  readonly bit: number;
}

/** A sanction, compiled. */
interface CompiledSanction {
  readonly id: string;
  readonly untilMs: number;
  readonly until: string;
  readonly personId: string | null;
  readonly deviceId: string | null;
  readonly allow: DomainSet;
}

/**
 * What applies to one client under one compiled policy: its winning group and
 * the exemptions and sanctions that name it. Resolve once per client and keep
 * it while the policy version stays the same; `decide` re-resolves one made by
 * an older policy.
 */
export class ClientPolicy {
  readonly owner: CompiledPolicy;
  readonly identity: ClientIdentity;
  /** The group whose policy applies, or null (only illegal content, bypass names and sanctions then). */
  readonly group: CompiledGroup | null;
  readonly domainExemptions: readonly CompiledExemption[];
  readonly categoryExemptions: readonly CompiledExemption[];
  /** Union of the category exemptions' bits, to skip the loop when none can matter. */
  readonly categoryExemptMask: number;
  readonly sanctions: readonly CompiledSanction[];

  constructor(
    owner: CompiledPolicy,
    identity: ClientIdentity,
    group: CompiledGroup | null,
    exemptions: readonly CompiledExemption[],
    sanctions: readonly CompiledSanction[],
  ) {
    this.owner = owner;
    this.identity = identity;
    this.group = group;
    this.domainExemptions = exemptions.filter((e) => e.name !== null);
    this.categoryExemptions = exemptions.filter((e) => e.name === null);
    this.categoryExemptMask = this.categoryExemptions.reduce((mask, e) => mask | e.bit, 0);
    this.sanctions = sanctions;
  }

  /** The id of the group whose policy applies, or null. */
  get groupId(): string | null {
    return this.group?.id ?? null;
  }

  /** The name of the group whose policy applies, or null. */
  get groupName(): string | null {
    return this.group?.name ?? null;
  }
}

/** Compiles a snapshot. `now` (default `Date.now`) drops exemptions and sanctions already over and words "until" times. */
export function compilePolicy(snapshot: PolicySnapshot, options: { now?: () => number } = {}): CompiledPolicy {
  return new CompiledPolicy(snapshot, options.now ?? Date.now);
}

/** A school's policy, compiled: `client` once per client, `decide` per query, `recheck` per upstream answer. */
export class CompiledPolicy {
  readonly version: number;
  readonly schoolId: string;
  readonly timeZone: string;
  /** Parts of the snapshot that could not be used, in words (the policy module should have refused them). */
  readonly problems: readonly string[];

  private readonly groups: readonly CompiledGroup[];
  private readonly groupsById = new Map<string, CompiledGroup>();
  private readonly defaultGroup: CompiledGroup | null;
  private readonly schedules: readonly CompiledSchedule[];
  private readonly clock: SchoolClock;
  private readonly special: SpecialNames;
  private readonly neverBlock: DomainSet;
  private readonly exemptionsByPerson = new Map<string, CompiledExemption[]>();
  private readonly exemptionsByDevice = new Map<string, CompiledExemption[]>();
  private readonly exemptionsByGroup = new Map<string, CompiledExemption[]>();
  private readonly sanctionsByPerson = new Map<string, CompiledSanction[]>();
  private readonly sanctionsByDevice = new Map<string, CompiledSanction[]>();
  private readonly answers: { a: BlockAnswer; aaaa: BlockAnswer; other: BlockAnswer };

  // Per-minute state: which categories each group blocks during the current minute.
  private minuteKey = Number.NaN;
  private readonly masks: Int32Array;
  private readonly active: boolean[];
  private readonly anyScheduled: boolean;

  constructor(snapshot: PolicySnapshot, now: () => number) {
    const problems: string[] = [];
    const compiledAt = now();
    this.version = snapshot.version;
    this.schoolId = snapshot.schoolId;
    this.timeZone = snapshot.timeZone;
    try {
      this.clock = new SchoolClock(snapshot.timeZone, snapshot.calendar);
    } catch {
      throw new RangeError(`unknown time zone: ${snapshot.timeZone}`);
    }
    this.special = new SpecialNames(snapshot.conditionalForwarders.map((f) => f.zone));

    this.schedules = snapshot.schedules.map((s) => new CompiledSchedule(s));
    const scheduleIndex = new Map<string, number>();
    this.schedules.forEach((s, i) => {
      problems.push(...s.problems);
      scheduleIndex.set(s.id, i);
    });

    const schoolLists: [string, readonly string[]][] = [
      ['never-block list', snapshot.neverBlock],
      ['school allow list', snapshot.schoolAllow],
      ['school deny list', snapshot.schoolDeny],
    ];
    for (const [what, entries] of schoolLists) {
      for (const entry of entries) if (!normalizeDomainEntry(entry)) problems.push(`${what}: not a domain name: ${entry}`);
    }

    const groups: CompiledGroup[] = [];
    for (const group of snapshot.groups) {
      if (this.groupsById.has(group.groupId)) {
        problems.push(`group ${group.groupId} appears twice; the first is used`);
        continue;
      }
      const compiled = new CompiledGroup(groups.length, group, scheduleIndex, snapshot, problems);
      groups.push(compiled);
      this.groupsById.set(compiled.id, compiled);
    }
    this.groups = groups;
    this.defaultGroup = snapshot.defaultGroupId === null ? null : (this.groupsById.get(snapshot.defaultGroupId) ?? null);
    if (snapshot.defaultGroupId !== null && !this.defaultGroup) problems.push(`default group ${snapshot.defaultGroupId} does not exist`);

    this.neverBlock = new DomainSet(snapshot.neverBlock);

    for (const exemption of snapshot.exemptions) {
      const compiled = this.compileExemption(exemption, compiledAt, problems);
      if (!compiled) continue;
      // Indexed under one of its targets; `client` checks all of them.
      if (compiled.personId !== null) push(this.exemptionsByPerson, compiled.personId, compiled);
      else if (compiled.deviceId !== null) push(this.exemptionsByDevice, compiled.deviceId, compiled);
      else push(this.exemptionsByGroup, compiled.groupId!, compiled);
    }
    for (const sanction of snapshot.sanctions) {
      const compiled = this.compileSanction(sanction, compiledAt, problems);
      if (!compiled) continue;
      if (compiled.personId !== null) push(this.sanctionsByPerson, compiled.personId, compiled);
      if (compiled.deviceId !== null) push(this.sanctionsByDevice, compiled.deviceId, compiled);
    }

    const { blocking } = snapshot;
    const nx = blocking.answer === 'nxdomain';
    this.answers = {
      a: nx ? 'nxdomain' : blocking.answer === 'null' || blocking.ipv4 ? 'block_page' : 'nodata',
      aaaa: nx ? 'nxdomain' : blocking.answer === 'null' || blocking.ipv6 ? 'block_page' : 'nodata',
      other: nx ? 'nxdomain' : 'nodata',
    };

    this.masks = new Int32Array(groups.length);
    this.active = this.schedules.map(() => false);
    this.anyScheduled = groups.some((g) => g.scheduled.length > 0);
    if (!this.anyScheduled) groups.forEach((g) => (this.masks[g.index] = g.alwaysMask));
    this.problems = problems;
  }

  private compileExemption(e: Exemption, compiledAt: number, problems: string[]): CompiledExemption | null {
    const untilMs = Date.parse(e.until);
    if (Number.isNaN(untilMs)) {
      problems.push(`exemption ${e.id}: until is not a time: ${e.until}`);
      return null;
    }
    if (untilMs <= compiledAt) return null;
    if (e.groupId === null && e.personId === null && e.deviceId === null) {
      problems.push(`exemption ${e.id}: names no group, person or device`);
      return null;
    }
    let entry = null;
    let bit = 0;
    if (e.domain !== null) {
      entry = normalizeDomainEntry(e.domain);
      if (!entry) {
        problems.push(`exemption ${e.id}: not a domain name: ${e.domain}`);
        return null;
      }
    } else if (e.category !== null && isCategoryKey(e.category)) {
      if (e.category === 'illegal') {
        problems.push(`exemption ${e.id}: illegal content cannot be exempted`);
        return null;
      }
      bit = CATEGORY_BIT[e.category];
    } else {
      problems.push(`exemption ${e.id}: names neither a domain nor a known category`);
      return null;
    }
    return {
      id: e.id,
      untilMs,
      until: this.clock.describe(untilMs, compiledAt),
      reason: e.reason.trim() ? ` (${shorten(e.reason)})` : '',
      groupId: e.groupId,
      personId: e.personId,
      deviceId: e.deviceId,
      name: entry?.name ?? null,
      dotted: entry && !entry.exact ? `.${entry.name}` : null,
      exact: entry?.exact ?? false,
      text: entry?.text ?? null,
      bit,
    };
  }

  private compileSanction(s: Sanction, compiledAt: number, problems: string[]): CompiledSanction | null {
    const untilMs = Date.parse(s.until);
    if (Number.isNaN(untilMs)) {
      problems.push(`sanction ${s.id}: until is not a time: ${s.until}`);
      return null;
    }
    if (untilMs <= compiledAt) return null;
    if (s.personId === null && s.deviceId === null) {
      problems.push(`sanction ${s.id}: names no person or device`);
      return null;
    }
    const allow = new DomainSet(s.allow);
    for (const rejected of allow.rejected) problems.push(`sanction ${s.id}: not a domain name: ${rejected}`);
    return { id: s.id, untilMs, until: this.clock.describe(untilMs, compiledAt), personId: s.personId, deviceId: s.deviceId, allow };
  }

  /** The group whose whole policy applies to a set of group ids (see the module comment), or null. */
  private winningGroup(groupIds: readonly string[]): CompiledGroup | null {
    let best: CompiledGroup | null = null;
    for (const id of groupIds) {
      const g = this.groupsById.get(id);
      if (g && (!best || g.priority < best.priority || (g.priority === best.priority && g.id < best.id))) best = g;
    }
    return best ?? this.defaultGroup;
  }

  /** Resolves what applies to a client; the caller may keep the result for as long as this policy is current. */
  client(identity: ClientIdentity): ClientPolicy {
    const group = this.winningGroup(identity.groupIds);
    // Group exemptions follow every group the client is in, with or without a policy of its own
    // (an exemption for "Year 9" reaches a pupil whose policy comes from "Pupils"), and the default group it fell back to.
    const groupIds = group && !identity.groupIds.includes(group.id) ? [...identity.groupIds, group.id] : identity.groupIds;
    const candidates: CompiledExemption[] = [];
    if (identity.personId !== null) candidates.push(...(this.exemptionsByPerson.get(identity.personId) ?? []));
    if (identity.deviceId !== null) candidates.push(...(this.exemptionsByDevice.get(identity.deviceId) ?? []));
    for (const id of groupIds) candidates.push(...(this.exemptionsByGroup.get(id) ?? []));
    // Every target an exemption names must match: an exemption for a person on one device is that narrow.
    const exemptions = candidates.filter(
      (e) =>
        (e.personId === null || e.personId === identity.personId) &&
        (e.deviceId === null || e.deviceId === identity.deviceId) &&
        (e.groupId === null || groupIds.includes(e.groupId)),
    );
    // A sanction applies when any target it names matches: on the person anywhere, on the device whoever uses it.
    const sanctions = new Set<CompiledSanction>();
    if (identity.personId !== null) for (const s of this.sanctionsByPerson.get(identity.personId) ?? []) sanctions.add(s);
    if (identity.deviceId !== null) for (const s of this.sanctionsByDevice.get(identity.deviceId) ?? []) sanctions.add(s);
    return new ClientPolicy(this, identity, group, exemptions, [...sanctions]);
  }

  /** How a blocked query of a record type is answered. */
  blockAnswer(qtype: number): BlockAnswer {
    return qtype === QTYPE.A ? this.answers.a : qtype === QTYPE.AAAA ? this.answers.aaaa : this.answers.other;
  }

  /**
   * The decision for a query. `name` is lower case without the trailing dot
   * (as `parseQuery` gives it). The result may be a shared, frozen object:
   * copy it to change it.
   */
  decide(name: string, qtype: number, client: ClientPolicy, lookup: CategoryLookup, nowMs: number): Decision {
    if (client.owner !== this) client = this.client(client.identity);
    const bits = lookup.lookup(name) | 0;
    // 1. Illegal content.
    if (bits & ILLEGAL_BIT || isIllegalTestName(name)) return this.illegal(name, qtype, lookup, 'illegal', null);
    // 2. Bypass switches and locally served names.
    const local = this.special.decide(name);
    if (local) return local;
    // 3. Sanctions.
    if (client.sanctions.length !== 0) {
      const sanction = this.sanctionBlocking(name, client, nowMs);
      if (sanction) return this.sanctioned(sanction, qtype, bits);
    }
    const group = client.group;
    if (!group) return NO_GROUP_ALLOWED;
    if (group.filterOff) return group.filterOffDecision;
    // 4–6. Entries, exemptions, categories.
    const decided = this.groupDecision(name, qtype, bits, group, client, lookup, nowMs);
    if (decided.kind !== 'allowed') return decided;
    // 7. Safe search on whatever is allowed.
    if (group.search.active) {
      const rewrite = group.search.rewrite(name, qtype);
      if (rewrite) return rewrite;
      if (group.search.safeSearch) {
        const engine = unforceableEngine(name);
        if (engine) {
          return {
            kind: 'blocked',
            rule: 'safe_search',
            reason: `${engine.engine} is blocked while safe search is on for ${group.name}: it cannot be locked to safe search`,
            category: null,
            matched: engine.entry,
            answer: this.blockAnswer(qtype),
          };
        }
      }
    }
    // 8. Allowed (by rule 4, a schedule, or nothing at all).
    return decided;
  }

  /**
   * Checks a name or address found in the upstream answer to an allowed
   * question (a CNAME target, an A/AAAA address) and returns the decision that
   * replaces the answer, or null when it may pass. Illegal content is always
   * checked. Pass the question's decision: deny entries and categories are
   * then checked only when the question was allowed by no more than the
   * defaults (rules `default`, `schedule`, `safe_search`), so that an allow
   * entry, never-block entry or exemption for a site also covers the CDN its
   * answer points to; without it everything is checked. `qtype` (the
   * question's type, A when left out) only chooses `answer`. Addresses match
   * only exact entries (`=192.0.2.1`, or the catalog's own).
   */
  recheck(
    nameOrAddress: string,
    client: ClientPolicy,
    lookup: CategoryLookup,
    nowMs: number,
    question: Decision | null = null,
    qtype: number = QTYPE.A,
  ): Decision | null {
    if (question && question.kind !== 'allowed' && question.kind !== 'safe_search') return null;
    if (client.owner !== this) client = this.client(client.identity);
    const address = isAddress(nameOrAddress);
    const bits = lookup.lookup(nameOrAddress) | 0;
    if (bits & ILLEGAL_BIT || (!address && isIllegalTestName(nameOrAddress))) {
      return this.illegal(nameOrAddress, qtype, lookup, 'upstream_answer', nameOrAddress);
    }
    if (question && !FULL_RECHECK.has(question.rule)) return null;
    const group = client.group;
    if (!group || group.filterOff) return null;
    const hit = group.entries.match(nameOrAddress, address);
    if (hit & ((1 << NEVER) | ALLOW_BITS)) return null;
    if (!address && client.domainExemptions.length !== 0 && this.domainExemption(nameOrAddress, client, nowMs)) return null;
    if (hit & DENY_BITS) {
      const entry = group.entries.value(hit & (1 << GROUP_DENY) ? GROUP_DENY : SCHOOL_DENY);
      return this.upstreamBlock(nameOrAddress, qtype, bits, entry.matched, null, `it is on a deny list (${entry.matched})`);
    }
    let hitBits = bits & this.masksAt(nowMs)[group.index];
    if (hitBits & client.categoryExemptMask) hitBits &= ~this.categoryExemption(hitBits, client, nowMs).mask;
    if (!hitBits) return null;
    const bit = decidingBit(hitBits);
    const matched = lookup.matchedEntry(nameOrAddress, 1 << bit);
    return this.upstreamBlock(nameOrAddress, qtype, hitBits, matched, CATEGORY_KEYS[bit], `${CATEGORY_LABEL[bit]} is blocked for ${group.name}`);
  }

  /** Rules 4 to 6 for a group: an allowed decision, or the block. */
  private groupDecision(name: string, qtype: number, bits: number, group: CompiledGroup, client: ClientPolicy, lookup: CategoryLookup, nowMs: number): Decision {
    const entries = group.entries;
    const hit = entries.match(name);
    // 4. Never-block, allow entries, domain exemptions.
    if (hit & (1 << NEVER)) return entries.value(NEVER);
    if (hit & ALLOW_BITS) return entries.value(hit & (1 << GROUP_ALLOW) ? GROUP_ALLOW : SCHOOL_ALLOW);
    if (client.domainExemptions.length !== 0) {
      const exemption = this.domainExemption(name, client, nowMs);
      if (exemption) {
        return {
          kind: 'allowed',
          rule: 'exemption',
          reason: `allowed by an exemption until ${exemption.until}${exemption.reason}`,
          category: null,
          matched: exemption.text,
          ttlCap: ttlLeft(exemption.untilMs, nowMs),
        };
      }
    }
    // 5. Deny entries.
    if (hit & DENY_BITS) {
      const entry = entries.value(hit & (1 << GROUP_DENY) ? GROUP_DENY : SCHOOL_DENY);
      const bypass = bits & BYPASS_MASK;
      return {
        ...entry,
        kind: bypass ? 'bypass_blocked' : 'blocked',
        category: bypass ? CATEGORY_KEYS[lowestBit(bypass)] : null,
        answer: this.blockAnswer(qtype),
      };
    }
    // 6. Categories, always and scheduled, less category exemptions.
    let hitBits = bits & this.masksAt(nowMs)[group.index];
    if (hitBits) {
      if (hitBits & client.categoryExemptMask) {
        const exempted = this.categoryExemption(hitBits, client, nowMs);
        hitBits &= ~exempted.mask;
        if (!hitBits && exempted.first) {
          const e = exempted.first;
          let ttlCap = ttlLeft(exempted.untilMs, nowMs);
          // Another of the name's categories may change with a schedule while the exemption lasts.
          if (bits & group.scheduledMask & ~exempted.mask) ttlCap = Math.min(ttlCap, SCHEDULED_TTL_CAP);
          return {
            kind: 'allowed',
            rule: 'exemption',
            reason: `${CATEGORY_LABEL[lowestBit(e.bit)]} allowed by an exemption until ${e.until}${e.reason}`,
            category: CATEGORY_KEYS[lowestBit(e.bit)],
            matched: null,
            ttlCap,
          };
        }
      }
      if (hitBits) {
        const bit = decidingBit(hitBits);
        const always = (group.alwaysMask >>> bit) & 1;
        const label = CATEGORY_LABEL[bit];
        return {
          kind: (1 << bit) & BYPASS_MASK ? 'bypass_blocked' : 'blocked',
          rule: always ? 'category' : 'schedule',
          reason: always ? `${label} is blocked for ${group.name}` : `${label} is blocked for ${group.name} at this time`,
          category: CATEGORY_KEYS[bit],
          matched: lookup.matchedEntry(name, 1 << bit),
          answer: this.blockAnswer(qtype),
        };
      }
    }
    const scheduled = bits & group.scheduledMask;
    return scheduled ? group.allowedBySchedule(lowestBit(scheduled)) : DEFAULT_ALLOWED;
  }

  /** The active domain exemption covering a name that lasts longest, or null. */
  private domainExemption(name: string, client: ClientPolicy, nowMs: number): CompiledExemption | null {
    let best: CompiledExemption | null = null;
    for (const e of client.domainExemptions) {
      if (nowMs >= e.untilMs || (best && best.untilMs >= e.untilMs)) continue;
      if (name === e.name || (e.dotted !== null && name.endsWith(e.dotted))) best = e;
    }
    return best;
  }

  /** The active category exemptions among `hitBits`: their bits, the earliest end, and the exemption ending first. */
  private categoryExemption(hitBits: number, client: ClientPolicy, nowMs: number): { mask: number; untilMs: number; first: CompiledExemption | null } {
    let mask = 0;
    let untilMs = Infinity;
    let first: CompiledExemption | null = null;
    for (const e of client.categoryExemptions) {
      if (!(e.bit & hitBits) || nowMs >= e.untilMs) continue;
      // With several, the earliest end caps the TTL (a little early at worst, never late).
      mask |= e.bit;
      if (e.untilMs < untilMs) {
        untilMs = e.untilMs;
        first = e;
      }
    }
    return { mask, untilMs, first };
  }

  /** The first active sanction that does not let the name through, or null. */
  private sanctionBlocking(name: string, client: ClientPolicy, nowMs: number): CompiledSanction | null {
    let blocking: CompiledSanction | null = null;
    for (const s of client.sanctions) {
      if (nowMs >= s.untilMs || s.allow.match(name) !== null) continue;
      if (!blocking || s.untilMs > blocking.untilMs) blocking = s;
    }
    // The never-block list passes, so a sanctioned device still updates and still reaches captive portals and school systems.
    if (blocking && this.neverBlock.match(name) !== null) return null;
    return blocking;
  }

  private sanctioned(sanction: CompiledSanction, qtype: number, bits: number): Decision {
    const bypass = bits & BYPASS_MASK;
    // The sanction's own reason is a behaviour record: it stays out of answers and block pages.
    return {
      kind: bypass ? 'bypass_blocked' : 'blocked',
      rule: 'sanction',
      reason: `network access is removed until ${sanction.until}`,
      category: bypass ? CATEGORY_KEYS[lowestBit(bypass)] : null,
      matched: null,
      answer: this.blockAnswer(qtype),
    };
  }

  private illegal(name: string, qtype: number, lookup: CategoryLookup, rule: DecisionRule, via: string | null): Decision {
    const matched = isIllegalTestName(name) ? ILLEGAL_TEST_NAME : lookup.matchedEntry(name, ILLEGAL_BIT);
    return {
      kind: 'blocked',
      rule,
      reason: via
        ? `the answer led to ${via}, which is on the illegal-content list (IWF/CTIRU) and always blocked`
        : 'on the illegal-content list (IWF/CTIRU): always blocked',
      category: 'illegal',
      matched,
      answer: this.blockAnswer(qtype),
    };
  }

  private upstreamBlock(target: string, qtype: number, bits: number, matched: string | null, category: CategoryKey | null, why: string): Decision {
    const bypass = category !== null ? CATEGORY_BIT[category] & BYPASS_MASK : bits & BYPASS_MASK;
    return {
      kind: bypass ? 'bypass_blocked' : 'blocked',
      rule: 'upstream_answer',
      reason: `the answer led to ${target}: ${why}`,
      category: category ?? (bypass ? CATEGORY_KEYS[lowestBit(bypass)] : null),
      matched,
      answer: this.blockAnswer(qtype),
    };
  }

  /** The blocked-categories mask of every group during the minute of `nowMs`; schedules are evaluated once per minute. */
  private masksAt(nowMs: number): Int32Array {
    if (!this.anyScheduled) return this.masks;
    const key = Math.floor(nowMs / MINUTE_MS);
    if (key !== this.minuteKey) {
      const local = this.clock.at(nowMs);
      for (let i = 0; i < this.schedules.length; i++) this.active[i] = this.schedules[i].isActive(local);
      for (const g of this.groups) this.masks[g.index] = g.maskAt(this.active);
      this.minuteKey = key;
    }
    return this.masks;
  }

  /** The categories a group blocks at an instant (for the "why" API and tests). */
  blockedCategories(groupId: string, nowMs: number): number {
    const g = this.groupsById.get(groupId);
    return g ? this.masksAt(nowMs)[g.index] : 0;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Seconds left until `untilMs`, at least the floor for exemptions. */
function ttlLeft(untilMs: number, nowMs: number): number {
  return Math.max(MIN_EXEMPTION_TTL_CAP, Math.floor((untilMs - nowMs) / 1000));
}
