/**
 * Where the DNS filter's policy lives: each group's categories, schedules and
 * search settings, allow and deny entries, the school calendar, exemptions
 * (approved unblocks), sanctions (network rights removed) and the school's
 * filter settings; and `snapshot`, which turns all of it, with people,
 * networks and devices, into the `PolicySnapshot` the engine compiles.
 *
 * Rules kept here: every change says why (`reason`) and writes its audit entry
 * in its own transaction; `illegal` can never be unblocked, scheduled,
 * exempted or allow-listed; exemptions and sanctions are never deleted
 * (revoking and lifting set fields; expiry is by time). Listeners registered
 * with `onChange` hear of every committed change to a school's policy or devices.
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Transaction } from 'kysely';
import type { Actor, AuditLog } from '../audit/audit.service.ts';
import type { DevicesService } from '../devices/devices.service.ts';
import type { CategoryKey } from '../filter/categories.ts';
import type { Exemption, PolicySnapshot, Sanction, Schedule, ScheduledCategory, ScheduleWindow, YouTubeMode } from '../filter/policy.types.ts';
import type { Group, PeopleService } from '../people/people.service.ts';
import { localDate } from '../people/people.service.ts';
import type { GroupKind } from '../people/people.tables.ts';
import type { SchoolsService } from '../schools/schools.service.ts';
import { parseCidr } from '../shared/cidr.ts';
import { conflict, DomainError, type Issue, invalid, notFound } from '../shared/errors.ts';
import { zodIssues } from '../shared/schema.ts';
import type { Database, Store } from '../store/store.ts';
import { BUILT_IN_NEVER_BLOCK, isBuiltInNeverBlock } from './policy.never-block.ts';
import {
  calendarInputSchema,
  entryInputSchema,
  exemptionInputSchema,
  type GroupPolicyInput,
  groupPolicyInputSchema,
  reasonOnlySchema,
  sanctionInputSchema,
  scheduleInputSchema,
  type SettingsInput,
  settingsInputSchema,
} from './policy.schema.ts';
import { buildSnapshotContent, contentHash } from './policy.snapshot.ts';
import * as store from './policy.store.ts';
import type {
  FilterEntriesTable,
  FilterExemptionsTable,
  FilterGroupPoliciesTable,
  FilterSanctionsTable,
  FilterSchedulesTable,
  FilterSettingsTable,
  SchoolCalendarTable,
} from './policy.tables.ts';
import { entryName } from './policy.validate.ts';

/** A group's policy as the API shows it. */
export interface GroupPolicyView {
  groupId: string;
  groupName: string;
  groupKind: GroupKind;
  /** True when nothing is stored for the group and these are the defaults. */
  isDefault: boolean;
  priority: number;
  blocked: CategoryKey[];
  scheduled: ScheduledCategory[];
  safeSearch: boolean;
  youtube: YouTubeMode;
  filterOff: boolean;
  filterOffApprovedBy: string | null;
  updatedAt: string | null;
  updatedBy: string | null;
}

/** An allow or deny entry. */
export interface EntryView {
  id: string;
  list: 'allow' | 'deny';
  domain: string;
  groupId: string | null;
  reason: string;
  createdBy: string;
  createdAt: string;
}

/** A schedule as the API shows it. */
export interface ScheduleView {
  id: string;
  name: string;
  windows: ScheduleWindow[];
  schoolDaysOnly: boolean;
  updatedAt: string;
  updatedBy: string;
}

/** The school calendar: terms as date ranges, closures as labelled days. */
export interface CalendarView {
  terms: { label: string; start: string; end: string }[];
  closures: { date: string; label: string }[];
}

/** An exemption record; `active` while neither revoked nor ended. */
export interface ExemptionView extends Exemption {
  approvedBy: string;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
  revokedBy: string | null;
  revokeReason: string | null;
  active: boolean;
}

/** A sanction record; `active` while neither lifted nor ended. */
export interface SanctionView extends Sanction {
  createdBy: string;
  createdAt: string;
  liftedAt: string | null;
  liftedBy: string | null;
  liftReason: string | null;
  active: boolean;
}

/** The school filter settings as the API shows them. */
export interface SettingsView {
  blockAnswer: 'address' | 'null' | 'nxdomain';
  blockIpv4: string | null;
  blockIpv6: string | null;
  blockedTtl: number;
  defaultGroupId: string | null;
  neverBlock: {
    builtIn: { entry: string; service: string; enabled: boolean; disabledReason: string | null }[];
    added: { entry: string; reason: string }[];
    effective: string[];
  };
  chromeosSaltSet: boolean;
  trustedForwarders: string[];
  conditionalForwarders: { zone: string; servers: string[] }[];
  /** The monitoring notice on the block page; null for the built-in wording. */
  blockPageNotice: string | null;
  /** Who to ask about a block (shown on the block page). */
  blockPageContact: string | null;
  updatedAt: string | null;
  updatedBy: string | null;
}

/** The policy module: every read and change of the filter policy, and the snapshot. */
export interface PolicyService {
  /** Every group of the school with its policy (the default where none is stored). */
  listGroupPolicies(schoolId: string): Promise<GroupPolicyView[]>;
  getGroupPolicy(schoolId: string, groupId: string): Promise<GroupPolicyView>;
  /** Replaces a group's policy; `blocked` must keep `illegal`. */
  updateGroupPolicy(actor: Actor, schoolId: string, groupId: string, input: GroupPolicyInput): Promise<GroupPolicyView>;

  /** Allow and deny entries; `groupId: null` for the school-wide ones only. */
  listEntries(schoolId: string, filter?: { groupId?: string | null; list?: 'allow' | 'deny' }): Promise<EntryView[]>;
  addEntry(actor: Actor, schoolId: string, input: { list: 'allow' | 'deny'; domain: string; groupId?: string | null; reason: string }): Promise<EntryView>;
  removeEntry(actor: Actor, schoolId: string, entryId: string, reason: string): Promise<void>;

  listSchedules(schoolId: string): Promise<ScheduleView[]>;
  createSchedule(actor: Actor, schoolId: string, input: { name: string; windows: ScheduleWindow[]; schoolDaysOnly: boolean; reason: string }): Promise<ScheduleView>;
  updateSchedule(actor: Actor, schoolId: string, scheduleId: string, input: { name: string; windows: ScheduleWindow[]; schoolDaysOnly: boolean; reason: string }): Promise<ScheduleView>;
  /** Refused while a group's policy uses the schedule. */
  deleteSchedule(actor: Actor, schoolId: string, scheduleId: string, reason: string): Promise<void>;

  getCalendar(schoolId: string): Promise<CalendarView>;
  /** Replaces the whole calendar: terms (date ranges) and closures (INSET days, bank holidays). */
  setCalendar(actor: Actor, schoolId: string, input: CalendarView & { reason: string }): Promise<CalendarView>;

  listExemptions(schoolId: string, options?: { activeOnly?: boolean }): Promise<ExemptionView[]>;
  createExemption(
    actor: Actor,
    schoolId: string,
    input: { domain?: string | null; category?: string | null; groupId?: string | null; personId?: string | null; deviceId?: string | null; until: string; approvedBy?: string | null; reason: string },
  ): Promise<ExemptionView>;
  /** Ends an exemption early; the record stays. */
  revokeExemption(actor: Actor, schoolId: string, exemptionId: string, reason: string): Promise<ExemptionView>;

  /** Sanctions are behaviour records: reading them is audited. */
  listSanctions(actor: Actor, schoolId: string, options?: { activeOnly?: boolean }): Promise<SanctionView[]>;
  createSanction(actor: Actor, schoolId: string, input: { personId?: string | null; deviceId?: string | null; until: string; allow?: string[]; reason: string }): Promise<SanctionView>;
  /** Ends a sanction early; the record stays (sanctions are never deleted). */
  liftSanction(actor: Actor, schoolId: string, sanctionId: string, reason: string): Promise<SanctionView>;

  getSettings(schoolId: string): Promise<SettingsView>;
  /** Changes the fields given; the others stay. */
  updateSettings(actor: Actor, schoolId: string, input: SettingsInput): Promise<SettingsView>;

  /** The whole policy of a school for the engine, numbered (see `version` in the module's doc). */
  snapshot(schoolId: string): Promise<PolicySnapshot>;
  /** Calls `listener` after every committed change to a school's policy or devices; returns an unsubscribe function. */
  onChange(listener: (schoolId: string) => void): () => void;
}

/** What the policy service is built from. */
export interface PolicyDeps {
  store: Store;
  audit: AuditLog;
  people: PeopleService;
  schools: SchoolsService;
  devices: DevicesService;
  /**
   * The catalog's categories of a name, when the caller has the catalog: an
   * allow entry, exemption, sanction allowance or never-block entry for a name
   * in `illegal` is then refused here as well as ignored by the engine.
   */
  categoriesOf?: (name: string) => readonly CategoryKey[];
  /** The time (tests set it to see expiry); defaults to the system clock. */
  clock?: () => Date;
}

/** Kinds of group whose members are pupils: their default is YouTube's strict mode. */
const PUPIL_GROUP_KINDS: readonly GroupKind[] = ['year', 'class'];

/**
 * The policy of a group with none stored: `illegal` only, priority 100 (so any
 * configured group wins over it), safe search on, YouTube strict for year and
 * class groups and moderate for the rest, filtering on.
 */
export function defaultGroupPolicy(kind: GroupKind): Pick<GroupPolicyView, 'priority' | 'blocked' | 'scheduled' | 'safeSearch' | 'youtube' | 'filterOff'> {
  return { priority: 100, blocked: ['illegal'], scheduled: [], safeSearch: true, youtube: PUPIL_GROUP_KINDS.includes(kind) ? 'strict' : 'moderate', filterOff: false };
}

/** Default settings of a school that has stored none. */
const DEFAULT_SETTINGS = { blockAnswer: 'null', blockIpv4: null, blockIpv6: null, blockedTtl: 5 } as const;

/** Longest an exemption or sanction may run: longer changes belong in the policy itself. */
const MAX_DAYS = 366;


/** Like the shared `parseOrThrow`, but leads with `illegal` when that is the problem. */
function parseOrThrow<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: any } }, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidWith(`The ${what} is not valid`, zodIssues(parsed.error));
  return parsed.data;
}

/** A validation error whose message lists its issues (and leads with `illegal` when that is the problem). */
function invalidWith(lead: string, issues: Issue[]): DomainError {
  const illegal = issues.some((i) => /illegal/.test(i.message));
  const head = illegal ? 'The illegal category can never be unblocked' : lead;
  return invalid(`${head}: ${issues.map((i) => `${i.where} ${i.message}`).join('; ')}`, issues);
}

const json = <T>(text: string): T => JSON.parse(text) as T;

/** Builds the policy service; it listens to device changes to pass them on. */
export function createPolicyService(deps: PolicyDeps): PolicyService {
  const { audit, people, devices } = deps;
  const db = deps.store.db;
  const clock = deps.clock ?? (() => new Date());
  const listeners = new Set<(schoolId: string) => void>();

  function notify(schoolId: string) {
    for (const listener of listeners) {
      try {
        listener(schoolId);
      } catch {
        // The change has committed; a listener's failure must not turn it into an error.
      }
    }
  }
  // Device changes (tokens, groups, retirement) change the snapshot too.
  devices.onChange(notify);

  /** Runs a change in one transaction with its audit entry, then tells the listeners (never for a rolled-back change). */
  async function change<T>(schoolId: string, fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    const result = await audit.transaction(fn);
    notify(schoolId);
    return result;
  }

  const illegalIssue = (where: string, domain: string, what: string): Issue[] =>
    deps.categoriesOf?.(entryName(domain)).includes('illegal') ? [{ where, message: `is in the illegal category (IWF / CTIRU lists): it can never be ${what}` }] : [];

  async function groupsOf(schoolId: string): Promise<Map<string, Group>> {
    return new Map((await people.listGroups(schoolId)).map((g) => [g.id, g]));
  }

  async function requireGroup(schoolId: string, groupId: string): Promise<Group> {
    const group = (await groupsOf(schoolId)).get(groupId);
    if (!group) throw notFound('Group');
    return group;
  }

  function presentPolicy(group: Group, row: FilterGroupPoliciesTable | undefined): GroupPolicyView {
    const base = { groupId: group.id, groupName: group.name, groupKind: group.kind };
    if (!row) return { ...base, isDefault: true, ...defaultGroupPolicy(group.kind), filterOffApprovedBy: null, updatedAt: null, updatedBy: null };
    const blocked = json<CategoryKey[]>(row.blocked);
    return {
      ...base,
      isDefault: false,
      priority: row.priority,
      blocked: blocked.includes('illegal') ? blocked : ['illegal', ...blocked],
      scheduled: json<ScheduledCategory[]>(row.scheduled),
      safeSearch: row.safe_search === 1,
      youtube: row.youtube,
      filterOff: row.filter_off === 1,
      filterOffApprovedBy: row.filter_off_approved_by,
      updatedAt: row.updated_at,
      updatedBy: row.updated_by,
    };
  }

  const presentEntry = (r: FilterEntriesTable): EntryView => ({
    id: r.id, list: r.list, domain: r.domain, groupId: r.group_id, reason: r.reason, createdBy: r.created_by, createdAt: r.created_at,
  });
  const presentSchedule = (r: FilterSchedulesTable): ScheduleView => ({
    id: r.id, name: r.name, windows: json<ScheduleWindow[]>(r.windows), schoolDaysOnly: r.school_days_only === 1, updatedAt: r.updated_at, updatedBy: r.updated_by,
  });
  const presentCalendar = (rows: SchoolCalendarTable[]): CalendarView => ({
    terms: rows.filter((r) => r.kind === 'term').map((r) => ({ label: r.label, start: r.start_date, end: r.end_date })),
    closures: rows.filter((r) => r.kind === 'closure').map((r) => ({ date: r.start_date, label: r.label })),
  });
  const presentExemption = (r: FilterExemptionsTable, now: string): ExemptionView => ({
    id: r.id, domain: r.domain, category: r.category as CategoryKey | null, groupId: r.group_id, personId: r.person_id, deviceId: r.device_id,
    until: r.until, reason: r.reason, approvedBy: r.approved_by, createdBy: r.created_by, createdAt: r.created_at,
    revokedAt: r.revoked_at, revokedBy: r.revoked_by, revokeReason: r.revoke_reason, active: r.revoked_at === null && r.until > now,
  });
  const presentSanction = (r: FilterSanctionsTable, now: string): SanctionView => ({
    id: r.id, personId: r.person_id, deviceId: r.device_id, until: r.until, allow: json<string[]>(r.allow), reason: r.reason,
    createdBy: r.created_by, createdAt: r.created_at, liftedAt: r.lifted_at, liftedBy: r.lifted_by, liftReason: r.lift_reason,
    active: r.lifted_at === null && r.until > now,
  });

  function presentSettings(row: FilterSettingsTable | undefined): SettingsView {
    const disabled = row ? json<{ entry: string; reason: string }[]>(row.never_block_disabled) : [];
    const added = row ? json<{ entry: string; reason: string }[]>(row.never_block_added) : [];
    const disabledReason = new Map(disabled.map((d) => [d.entry, d.reason]));
    const builtIn = BUILT_IN_NEVER_BLOCK.map((b) => ({ entry: b.entry, service: b.service, enabled: !disabledReason.has(b.entry), disabledReason: disabledReason.get(b.entry) ?? null }));
    return {
      blockAnswer: row?.block_answer ?? DEFAULT_SETTINGS.blockAnswer,
      blockIpv4: row?.block_ipv4 ?? null,
      blockIpv6: row?.block_ipv6 ?? null,
      blockedTtl: row?.blocked_ttl ?? DEFAULT_SETTINGS.blockedTtl,
      defaultGroupId: row?.default_group_id ?? null,
      neverBlock: { builtIn, added, effective: [...builtIn.filter((b) => b.enabled).map((b) => b.entry), ...added.map((a) => a.entry)] },
      chromeosSaltSet: Boolean(row?.chromeos_salt),
      trustedForwarders: row ? json<string[]>(row.trusted_forwarders) : [],
      conditionalForwarders: row ? json<{ zone: string; servers: string[] }[]>(row.conditional_forwarders) : [],
      blockPageNotice: row?.block_page_notice ?? null,
      blockPageContact: row?.block_page_contact ?? null,
      updatedAt: row?.updated_at ?? null,
      updatedBy: row?.updated_by ?? null,
    };
  }

  /** `until` must be ahead, and not more than a year ahead. */
  function untilIssues(until: string): Issue[] {
    const now = clock().getTime();
    const at = Date.parse(until);
    if (at <= now) return [{ where: 'until', message: 'is not in the future' }];
    if (at > now + MAX_DAYS * 86_400_000) return [{ where: 'until', message: `is more than ${MAX_DAYS} days away: make a lasting change in the policy instead` }];
    return [];
  }

  /** Checks the one target (group, person or device) of an exemption or sanction; reads other modules, so runs before the transaction. */
  async function targetIssues(schoolId: string, target: { groupId?: string | null; personId?: string | null; deviceId?: string | null }, allowGroup: boolean): Promise<Issue[]> {
    const given = (['groupId', 'personId', 'deviceId'] as const).filter((k) => target[k]);
    const names = allowGroup ? 'a group, a person or a device' : 'a person or a device';
    if (given.length !== 1) return [{ where: allowGroup ? 'groupId' : 'personId', message: `give exactly one of ${names}` }];
    if (target.groupId && !(await groupsOf(schoolId)).has(target.groupId)) return [{ where: 'groupId', message: 'no such group' }];
    if (target.personId && !(await people.getPerson(schoolId, target.personId))) return [{ where: 'personId', message: 'no such person' }];
    if (target.deviceId) {
      try {
        const device = await devices.get(schoolId, target.deviceId);
        if (device.retiredAt) return [{ where: 'deviceId', message: 'is retired' }];
      } catch (error) {
        if (error instanceof DomainError && error.code === 'not_found') return [{ where: 'deviceId', message: 'no such device' }];
        throw error;
      }
    }
    return [];
  }

  const service: PolicyService = {
    // ---- group policies ----
    async listGroupPolicies(schoolId) {
      const [groups, rows] = await Promise.all([people.listGroups(schoolId), store.groupPolicies(db, schoolId)]);
      const byGroup = new Map(rows.map((r) => [r.group_id, r]));
      return groups.map((g) => presentPolicy(g, byGroup.get(g.id)));
    },

    async getGroupPolicy(schoolId, groupId) {
      const group = await requireGroup(schoolId, groupId);
      return presentPolicy(group, await store.getGroupPolicy(db, schoolId, groupId));
    },

    async updateGroupPolicy(actor, schoolId, groupId, input) {
      const group = await requireGroup(schoolId, groupId);
      const data = parseOrThrow(groupPolicyInputSchema, input, 'policy');
      const issues: Issue[] = [];
      if (!data.blocked.includes('illegal')) issues.push({ where: 'blocked', message: 'must include illegal: the illegal category can never be unblocked' });
      const modes = new Map<string, string>();
      data.scheduled.forEach((rule, i) => {
        if (rule.category === 'illegal') issues.push({ where: `scheduled.${i}.category`, message: 'is illegal, which is blocked at all times and can never be scheduled' });
        else if (data.blocked.includes(rule.category)) issues.push({ where: `scheduled.${i}.category`, message: `${rule.category} is blocked at all times already: take it out of blocked to schedule it` });
        const mode = modes.get(rule.category);
        if (mode && mode !== rule.mode) issues.push({ where: `scheduled.${i}.mode`, message: `contradicts another rule for ${rule.category} (one blocks during a schedule, the other allows)` });
        modes.set(rule.category, rule.mode);
      });
      if (issues.length) throw invalidWith('The policy is not valid', issues);
      const result = await change(schoolId, async (trx) => {
        const schedules = new Set((await store.schedules(trx, schoolId)).map((s) => s.id));
        const missing: Issue[] = data.scheduled.flatMap((rule, i) => (schedules.has(rule.scheduleId) ? [] : [{ where: `scheduled.${i}.scheduleId`, message: 'no such schedule' }]));
        if (missing.length) throw invalidWith('The policy is not valid', missing);
        const before = await store.getGroupPolicy(trx, schoolId, groupId);
        const old = presentPolicy(group, before);
        const approvedBy = data.filterOffApprovedBy?.trim() || null;
        if (data.filterOff && !old.filterOff && !approvedBy) {
          throw invalidWith('The policy is not valid', [{ where: 'filterOffApprovedBy', message: "say who approved switching filtering off (the head, by the school's policy)" }]);
        }
        const row: FilterGroupPoliciesTable = {
          group_id: groupId,
          school_id: schoolId,
          priority: data.priority,
          blocked: JSON.stringify(data.blocked),
          scheduled: JSON.stringify(data.scheduled),
          safe_search: data.safeSearch ? 1 : 0,
          youtube: data.youtube,
          filter_off: data.filterOff ? 1 : 0,
          filter_off_approved_by: data.filterOff ? (approvedBy ?? old.filterOffApprovedBy) : null,
          updated_at: new Date().toISOString(),
          updated_by: actor.label,
        };
        await store.upsertGroupPolicy(trx, row, before !== undefined);
        const next = presentPolicy(group, row);
        const changes: Record<string, unknown> = {};
        const added = next.blocked.filter((c) => !old.blocked.includes(c));
        const removed = old.blocked.filter((c) => !next.blocked.includes(c));
        if (added.length || removed.length) changes.blocked = { added, removed };
        for (const field of ['priority', 'safeSearch', 'youtube', 'filterOff', 'filterOffApprovedBy'] as const) {
          if (old[field] !== next[field]) changes[field] = { from: old[field], to: next[field] };
        }
        if (JSON.stringify(old.scheduled) !== JSON.stringify(next.scheduled)) changes.scheduled = { from: old.scheduled, to: next.scheduled };
        await audit.append(trx, actor, {
          schoolId,
          action: 'filter.policy.update',
          targetType: 'group',
          targetId: groupId,
          details: { group: group.name, reason: data.reason, created: before === undefined, changes },
        });
        return next;
      });
      return result;
    },

    // ---- allow and deny entries ----
    async listEntries(schoolId, filter = {}) {
      return (await store.entries(db, schoolId, filter)).map(presentEntry);
    },

    async addEntry(actor, schoolId, input) {
      const data = parseOrThrow(entryInputSchema, input, 'entry');
      const groupId = data.groupId ?? null;
      const issues: Issue[] = data.list === 'allow' ? illegalIssue('domain', data.domain, 'allowed') : [];
      const group = groupId ? (await groupsOf(schoolId)).get(groupId) : undefined;
      if (groupId && !group) issues.push({ where: 'groupId', message: 'no such group' });
      if (issues.length) throw invalidWith('The entry is not valid', issues);
      const scope = group ? `for ${group.name}` : 'for the whole school';
      return change(schoolId, async (trx) => {
        const clash = (await store.entriesForDomain(trx, schoolId, groupId, data.domain))[0];
        if (clash?.list === data.list) throw conflict(`${data.domain} is already on the ${data.list} list ${scope} (added by ${clash.created_by}: ${clash.reason})`);
        if (clash) throw conflict(`${data.domain} is on the ${clash.list} list ${scope}: remove it there first`);
        const row: FilterEntriesTable = {
          id: randomUUID(), school_id: schoolId, group_id: groupId, list: data.list, domain: data.domain, reason: data.reason, created_by: actor.label, created_at: new Date().toISOString(),
        };
        await store.insertEntry(trx, row);
        await audit.append(trx, actor, {
          schoolId, action: 'filter.entry.create', targetType: 'filter_entry', targetId: row.id,
          details: { list: row.list, domain: row.domain, groupId, group: group?.name ?? null, reason: data.reason },
        });
        return presentEntry(row);
      });
    },

    async removeEntry(actor, schoolId, entryId, reason) {
      const data = parseOrThrow(reasonOnlySchema, { reason }, 'removal');
      await change(schoolId, async (trx) => {
        const row = await store.getEntry(trx, schoolId, entryId);
        if (!row) throw notFound('Entry');
        await store.deleteEntry(trx, schoolId, entryId);
        await audit.append(trx, actor, {
          schoolId, action: 'filter.entry.delete', targetType: 'filter_entry', targetId: entryId,
          details: { list: row.list, domain: row.domain, groupId: row.group_id, reason: data.reason, addedBecause: row.reason },
        });
      });
    },

    // ---- schedules ----
    async listSchedules(schoolId) {
      return (await store.schedules(db, schoolId)).map(presentSchedule);
    },

    async createSchedule(actor, schoolId, input) {
      const data = parseOrThrow(scheduleInputSchema, input, 'schedule');
      return change(schoolId, async (trx) => {
        if (await store.findScheduleByName(trx, schoolId, data.name)) throw conflict(`There is already a schedule called "${data.name}"`);
        const now = new Date().toISOString();
        const row: FilterSchedulesTable = {
          id: randomUUID(), school_id: schoolId, name: data.name, windows: JSON.stringify(data.windows), school_days_only: data.schoolDaysOnly ? 1 : 0,
          created_at: now, updated_at: now, updated_by: actor.label,
        };
        await store.insertSchedule(trx, row);
        await audit.append(trx, actor, {
          schoolId, action: 'filter.schedule.create', targetType: 'filter_schedule', targetId: row.id,
          details: { name: data.name, windows: data.windows, schoolDaysOnly: data.schoolDaysOnly, reason: data.reason },
        });
        return presentSchedule(row);
      });
    },

    async updateSchedule(actor, schoolId, scheduleId, input) {
      const data = parseOrThrow(scheduleInputSchema, input, 'schedule');
      return change(schoolId, async (trx) => {
        const before = await store.getSchedule(trx, schoolId, scheduleId);
        if (!before) throw notFound('Schedule');
        const clash = await store.findScheduleByName(trx, schoolId, data.name);
        if (clash && clash.id !== scheduleId) throw conflict(`There is already a schedule called "${data.name}"`);
        const old = presentSchedule(before);
        const patch = { name: data.name, windows: JSON.stringify(data.windows), school_days_only: data.schoolDaysOnly ? 1 : 0, updated_at: new Date().toISOString(), updated_by: actor.label };
        await store.updateSchedule(trx, schoolId, scheduleId, patch);
        const next = presentSchedule({ ...before, ...patch });
        const changes: Record<string, unknown> = {};
        if (old.name !== next.name) changes.name = { from: old.name, to: next.name };
        if (JSON.stringify(old.windows) !== JSON.stringify(next.windows)) changes.windows = { from: old.windows, to: next.windows };
        if (old.schoolDaysOnly !== next.schoolDaysOnly) changes.schoolDaysOnly = { from: old.schoolDaysOnly, to: next.schoolDaysOnly };
        await audit.append(trx, actor, { schoolId, action: 'filter.schedule.update', targetType: 'filter_schedule', targetId: scheduleId, details: { name: next.name, reason: data.reason, changes } });
        return next;
      });
    },

    async deleteSchedule(actor, schoolId, scheduleId, reason) {
      const data = parseOrThrow(reasonOnlySchema, { reason }, 'removal');
      const groups = await groupsOf(schoolId);
      await change(schoolId, async (trx) => {
        const row = await store.getSchedule(trx, schoolId, scheduleId);
        if (!row) throw notFound('Schedule');
        const users = (await store.groupPolicies(trx, schoolId)).filter((p) => json<ScheduledCategory[]>(p.scheduled).some((s) => s.scheduleId === scheduleId));
        if (users.length) {
          const names = users.map((u) => groups.get(u.group_id)?.name ?? u.group_id).join(', ');
          throw conflict(`"${row.name}" is used by the policy of ${names}: change that first`);
        }
        await store.deleteSchedule(trx, schoolId, scheduleId);
        await audit.append(trx, actor, {
          schoolId, action: 'filter.schedule.delete', targetType: 'filter_schedule', targetId: scheduleId,
          details: { name: row.name, windows: json(row.windows), schoolDaysOnly: row.school_days_only === 1, reason: data.reason },
        });
      });
    },

    // ---- calendar ----
    async getCalendar(schoolId) {
      return presentCalendar(await store.calendar(db, schoolId));
    },

    async setCalendar(actor, schoolId, input) {
      const data = parseOrThrow(calendarInputSchema, input, 'calendar');
      const issues: Issue[] = [];
      data.terms.forEach((term, i) => {
        if (term.end < term.start) issues.push({ where: `terms.${i}.end`, message: `is before the start (${term.start})` });
      });
      const order = data.terms.map((term, i) => ({ term, i })).sort((a, b) => (a.term.start < b.term.start ? -1 : a.term.start > b.term.start ? 1 : 0));
      for (let k = 1; k < order.length; k += 1) {
        const previous = order[k - 1].term;
        if (order[k].term.start <= previous.end) issues.push({ where: `terms.${order[k].i}.start`, message: `overlaps "${previous.label}" (${previous.start} to ${previous.end})` });
      }
      const seen = new Set<string>();
      data.closures.forEach((closure, i) => {
        if (seen.has(closure.date)) issues.push({ where: `closures.${i}.date`, message: 'is listed twice' });
        seen.add(closure.date);
      });
      if (issues.length) throw invalidWith('The calendar is not valid', issues);
      const rows: SchoolCalendarTable[] = [
        ...data.terms.map((t) => ({ id: randomUUID(), school_id: schoolId, kind: 'term' as const, label: t.label, start_date: t.start, end_date: t.end })),
        ...data.closures.map((c) => ({ id: randomUUID(), school_id: schoolId, kind: 'closure' as const, label: c.label, start_date: c.date, end_date: c.date })),
      ];
      return change(schoolId, async (trx) => {
        const before = presentCalendar(await store.calendar(trx, schoolId));
        await store.replaceCalendar(trx, schoolId, rows);
        const after = presentCalendar(await store.calendar(trx, schoolId));
        await audit.append(trx, actor, {
          schoolId, action: 'filter.calendar.update', targetType: 'school', targetId: schoolId,
          details: { reason: data.reason, from: before, to: after },
        });
        return after;
      });
    },

    // ---- exemptions ----
    async listExemptions(schoolId, options = {}) {
      const now = clock().toISOString();
      return (await store.exemptions(db, schoolId, options.activeOnly ? now : undefined)).map((r) => presentExemption(r, now));
    },

    async createExemption(actor, schoolId, input) {
      const data = parseOrThrow(exemptionInputSchema, input, 'exemption');
      const issues: Issue[] = [];
      if (data.domain && data.category) issues.push({ where: 'category', message: 'give a domain or a category, not both' });
      else if (!data.domain && !data.category) issues.push({ where: 'domain', message: 'give the domain or the category to unblock' });
      if (data.category === 'illegal') issues.push({ where: 'category', message: 'is illegal, which can never be exempted' });
      if (data.domain) issues.push(...illegalIssue('domain', data.domain, 'exempted'));
      issues.push(...untilIssues(data.until));
      issues.push(...(await targetIssues(schoolId, data, true)));
      if (issues.length) throw invalidWith('The exemption is not valid', issues);
      const now = new Date().toISOString();
      const row: FilterExemptionsTable = {
        id: randomUUID(), school_id: schoolId, domain: data.domain ?? null, category: data.category ?? null,
        group_id: data.groupId ?? null, person_id: data.personId ?? null, device_id: data.deviceId ?? null,
        until: data.until, reason: data.reason, approved_by: data.approvedBy?.trim() || actor.label, created_by: actor.label, created_at: now,
        revoked_at: null, revoked_by: null, revoke_reason: null,
      };
      return change(schoolId, async (trx) => {
        await store.insertExemption(trx, row);
        await audit.append(trx, actor, {
          schoolId, action: 'filter.exemption.create', targetType: 'filter_exemption', targetId: row.id,
          details: {
            domain: row.domain, category: row.category, groupId: row.group_id, personId: row.person_id, deviceId: row.device_id,
            until: row.until, approvedBy: row.approved_by, reason: row.reason,
          },
        });
        return presentExemption(row, clock().toISOString());
      });
    },

    async revokeExemption(actor, schoolId, exemptionId, reason) {
      const data = parseOrThrow(reasonOnlySchema, { reason }, 'revocation');
      return change(schoolId, async (trx) => {
        const row = await store.getExemption(trx, schoolId, exemptionId);
        if (!row) throw notFound('Exemption');
        if (row.revoked_at) throw conflict(`This exemption was already revoked on ${row.revoked_at.slice(0, 10)} by ${row.revoked_by}`);
        const now = clock().toISOString();
        if (row.until <= now) throw conflict(`This exemption already ended at ${row.until}`);
        const patch = { revoked_at: new Date().toISOString(), revoked_by: actor.label, revoke_reason: data.reason };
        await store.revokeExemption(trx, schoolId, exemptionId, patch);
        await audit.append(trx, actor, {
          schoolId, action: 'filter.exemption.revoke', targetType: 'filter_exemption', targetId: exemptionId,
          details: { domain: row.domain, category: row.category, reason: data.reason },
        });
        return presentExemption({ ...row, ...patch }, now);
      });
    },

    // ---- sanctions ----
    async listSanctions(actor, schoolId, options = {}) {
      const now = clock().toISOString();
      return audit.transaction(async (trx) => {
        const rows = await store.sanctions(trx, schoolId, options.activeOnly ? now : undefined);
        await audit.append(trx, actor, { schoolId, action: 'filter.sanction.read', targetType: 'school', targetId: schoolId, details: { count: rows.length, activeOnly: Boolean(options.activeOnly) } });
        return rows.map((r) => presentSanction(r, now));
      });
    },

    async createSanction(actor, schoolId, input) {
      const data = parseOrThrow(sanctionInputSchema, input, 'sanction');
      const issues: Issue[] = [
        ...untilIssues(data.until),
        ...data.allow.flatMap((entry, i) => illegalIssue(`allow.${i}`, entry, 'allowed')),
        ...(await targetIssues(schoolId, data, false)),
      ];
      if (issues.length) throw invalidWith('The sanction is not valid', issues);
      const row: FilterSanctionsTable = {
        id: randomUUID(), school_id: schoolId, person_id: data.personId ?? null, device_id: data.deviceId ?? null, until: data.until,
        allow: JSON.stringify([...new Set(data.allow)]), reason: data.reason, created_by: actor.label, created_at: new Date().toISOString(),
        lifted_at: null, lifted_by: null, lift_reason: null,
      };
      return change(schoolId, async (trx) => {
        await store.insertSanction(trx, row);
        await audit.append(trx, actor, {
          schoolId, action: 'filter.sanction.create', targetType: 'filter_sanction', targetId: row.id,
          details: { personId: row.person_id, deviceId: row.device_id, until: row.until, allow: json(row.allow), reason: row.reason },
        });
        return presentSanction(row, clock().toISOString());
      });
    },

    async liftSanction(actor, schoolId, sanctionId, reason) {
      const data = parseOrThrow(reasonOnlySchema, { reason }, 'lift');
      return change(schoolId, async (trx) => {
        const row = await store.getSanction(trx, schoolId, sanctionId);
        if (!row) throw notFound('Sanction');
        if (row.lifted_at) throw conflict(`This sanction was already lifted on ${row.lifted_at.slice(0, 10)} by ${row.lifted_by}`);
        const now = clock().toISOString();
        if (row.until <= now) throw conflict(`This sanction already ended at ${row.until}`);
        const patch = { lifted_at: new Date().toISOString(), lifted_by: actor.label, lift_reason: data.reason };
        await store.liftSanction(trx, schoolId, sanctionId, patch);
        await audit.append(trx, actor, {
          schoolId, action: 'filter.sanction.lift', targetType: 'filter_sanction', targetId: sanctionId,
          details: { personId: row.person_id, deviceId: row.device_id, reason: data.reason },
        });
        return presentSanction({ ...row, ...patch }, now);
      });
    },

    // ---- settings ----
    async getSettings(schoolId) {
      return presentSettings(await store.getSettings(db, schoolId));
    },

    async updateSettings(actor, schoolId, input) {
      const data = parseOrThrow(settingsInputSchema, input, 'settings');
      const issues: Issue[] = [];
      if (data.blockIpv4 && isIP(data.blockIpv4) !== 4) issues.push({ where: 'blockIpv4', message: 'must be an IPv4 address such as 10.0.0.10' });
      if (data.blockIpv6 && isIP(data.blockIpv6) !== 6) issues.push({ where: 'blockIpv6', message: 'must be an IPv6 address such as 2001:db8::10' });
      if (data.defaultGroupId && !(await groupsOf(schoolId)).has(data.defaultGroupId)) issues.push({ where: 'defaultGroupId', message: 'no such group' });
      const trusted: string[] = [];
      (data.trustedForwarders ?? []).forEach((text, i) => {
        const parsed = parseCidr(text);
        if (parsed.ok) trusted.push(parsed.cidr.text);
        else issues.push({ where: `trustedForwarders.${i}`, message: parsed.message });
      });
      const zones = new Set<string>();
      (data.conditionalForwarders ?? []).forEach((f, i) => {
        if (zones.has(f.zone)) issues.push({ where: `conditionalForwarders.${i}.zone`, message: 'is listed twice' });
        zones.add(f.zone);
      });
      const disabledSeen = new Set<string>();
      (data.neverBlockDisabled ?? []).forEach((d, i) => {
        if (!isBuiltInNeverBlock(d.entry)) issues.push({ where: `neverBlockDisabled.${i}.entry`, message: 'is not on the built-in list (only built-in entries are switched off; remove your own additions instead)' });
        if (disabledSeen.has(d.entry)) issues.push({ where: `neverBlockDisabled.${i}.entry`, message: 'is listed twice' });
        disabledSeen.add(d.entry);
      });
      const addedSeen = new Set<string>();
      (data.neverBlockAdded ?? []).forEach((a, i) => {
        if (isBuiltInNeverBlock(a.entry)) issues.push({ where: `neverBlockAdded.${i}.entry`, message: 'is on the built-in list already' });
        if (addedSeen.has(a.entry)) issues.push({ where: `neverBlockAdded.${i}.entry`, message: 'is listed twice' });
        addedSeen.add(a.entry);
        issues.push(...illegalIssue(`neverBlockAdded.${i}.entry`, a.entry, 'exempt from blocking'));
      });
      if (issues.length) throw invalidWith('The settings are not valid', issues);

      return change(schoolId, async (trx) => {
        const before = await store.getSettings(trx, schoolId);
        const old = presentSettings(before);
        const row: FilterSettingsTable = {
          school_id: schoolId,
          block_answer: data.blockAnswer ?? old.blockAnswer,
          block_ipv4: data.blockIpv4 !== undefined ? data.blockIpv4 || null : old.blockIpv4,
          block_ipv6: data.blockIpv6 !== undefined ? data.blockIpv6 || null : old.blockIpv6,
          blocked_ttl: data.blockedTtl ?? old.blockedTtl,
          default_group_id: data.defaultGroupId !== undefined ? data.defaultGroupId ?? null : old.defaultGroupId,
          never_block_added: JSON.stringify(data.neverBlockAdded ?? old.neverBlock.added),
          never_block_disabled: JSON.stringify(
            data.neverBlockDisabled ?? old.neverBlock.builtIn.filter((b) => !b.enabled).map((b) => ({ entry: b.entry, reason: b.disabledReason ?? '' })),
          ),
          chromeos_salt: data.chromeosSalt !== undefined ? data.chromeosSalt ?? null : before?.chromeos_salt ?? null,
          trusted_forwarders: JSON.stringify(data.trustedForwarders !== undefined ? trusted : old.trustedForwarders),
          conditional_forwarders: JSON.stringify(data.conditionalForwarders ?? old.conditionalForwarders),
          block_page_notice: data.blockPageNotice !== undefined ? data.blockPageNotice || null : old.blockPageNotice,
          block_page_contact: data.blockPageContact !== undefined ? data.blockPageContact || null : old.blockPageContact,
          updated_at: new Date().toISOString(),
          updated_by: actor.label,
        };
        if (row.block_answer === 'address' && !row.block_ipv4 && !row.block_ipv6) {
          throw invalidWith('The settings are not valid', [{ where: 'blockIpv4', message: 'is needed (or blockIpv6) when blocked names are answered with the block page address' }]);
        }
        await store.upsertSettings(trx, row, before !== undefined);
        const next = presentSettings(row);
        const changes: Record<string, unknown> = {};
        for (const field of ['blockAnswer', 'blockIpv4', 'blockIpv6', 'blockedTtl', 'defaultGroupId', 'blockPageNotice', 'blockPageContact'] as const) {
          if (old[field] !== next[field]) changes[field] = { from: old[field], to: next[field] };
        }
        for (const field of ['trustedForwarders', 'conditionalForwarders'] as const) {
          if (JSON.stringify(old[field]) !== JSON.stringify(next[field])) changes[field] = { from: old[field], to: next[field] };
        }
        if (JSON.stringify(old.neverBlock.added) !== JSON.stringify(next.neverBlock.added)) changes.neverBlockAdded = { from: old.neverBlock.added, to: next.neverBlock.added };
        const offBefore = old.neverBlock.builtIn.filter((b) => !b.enabled).map((b) => b.entry);
        const offAfter = next.neverBlock.builtIn.filter((b) => !b.enabled);
        if (JSON.stringify(offBefore) !== JSON.stringify(offAfter.map((b) => b.entry))) {
          changes.neverBlockDisabled = { switchedOff: offAfter.filter((b) => !offBefore.includes(b.entry)).map((b) => ({ entry: b.entry, reason: b.disabledReason })), switchedBackOn: offBefore.filter((e) => !offAfter.some((b) => b.entry === e)) };
        }
        // The salt guards the email hashes: the log says that it changed, never what it is.
        const saltBefore = before?.chromeos_salt ?? null;
        if (saltBefore !== row.chromeos_salt) changes.chromeosSalt = row.chromeos_salt === null ? 'removed' : saltBefore === null ? 'set' : 'changed';
        await audit.append(trx, actor, { schoolId, action: 'filter.settings.update', targetType: 'school', targetId: schoolId, details: { reason: data.reason, changes } });
        return next;
      });
    },

    // ---- the snapshot ----
    async snapshot(schoolId) {
      const at = clock();
      const now = at.toISOString();
      const school = await deps.schools.get(schoolId);
      if (!school) throw notFound('School');
      const today = localDate(school.timezone, at);
      const [groups, persons, networks, deviceRows, policyRows, entryRows, scheduleRows, calendarRows, exemptionRows, sanctionRows, settingsRow] = await Promise.all([
        people.listGroups(schoolId),
        people.currentPeopleWithGroups(schoolId, today),
        people.listNetworks(schoolId),
        devices.forFilter(schoolId),
        store.groupPolicies(db, schoolId),
        store.entries(db, schoolId),
        store.schedules(db, schoolId),
        store.calendar(db, schoolId),
        store.exemptions(db, schoolId, now),
        store.sanctions(db, schoolId, now),
        store.getSettings(db, schoolId),
      ]);
      const policyOf = new Map(policyRows.map((r) => [r.group_id, r]));
      const settings = presentSettings(settingsRow);
      const calendar = presentCalendar(calendarRows);
      const content = buildSnapshotContent({
        schoolId,
        timeZone: school.timezone,
        calendar: { terms: calendar.terms.map((t) => ({ start: t.start, end: t.end })), closures: calendar.closures },
        groups: groups.map((g) => {
          const p = presentPolicy(g, policyOf.get(g.id));
          return {
            id: g.id,
            parentId: g.parentId,
            policy: { groupId: g.id, name: g.name, priority: p.priority, blocked: p.blocked, scheduled: p.scheduled, safeSearch: p.safeSearch, youtube: p.youtube, filterOff: p.filterOff },
          };
        }),
        entries: entryRows.map((e) => ({ groupId: e.group_id, list: e.list, domain: e.domain })),
        schedules: scheduleRows.map((s): Schedule => ({ id: s.id, name: s.name, windows: json(s.windows), schoolDaysOnly: s.school_days_only === 1 })),
        defaultGroupId: settings.defaultGroupId,
        networks: networks.map((n) => ({ id: n.id, name: n.name, cidr: n.cidr, groupId: n.groupId })),
        people: persons,
        devices: deviceRows,
        chromeosSalt: settingsRow?.chromeos_salt ?? null,
        neverBlock: settings.neverBlock.effective,
        exemptions: exemptionRows.map((r): Exemption => ({
          id: r.id, domain: r.domain, category: r.category as CategoryKey | null, groupId: r.group_id, personId: r.person_id, deviceId: r.device_id, until: r.until, reason: r.reason,
        })),
        sanctions: sanctionRows.map((r): Sanction => ({ id: r.id, personId: r.person_id, deviceId: r.device_id, until: r.until, allow: json(r.allow), reason: r.reason })),
        blocking: { answer: settings.blockAnswer, ipv4: settings.blockIpv4, ipv6: settings.blockIpv6, ttl: settings.blockedTtl },
        trustedForwarders: settings.trustedForwarders,
        conditionalForwarders: settings.conditionalForwarders,
      });
      const version = await numberContent(schoolId, contentHash(content), now);
      return { version, ...content };
    },

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };

  /**
   * The version of this content: the stored one when the content is unchanged,
   * else one more, stored with the content's hash. A conditional update keeps
   * two builders (two processes, or two calls at once) from giving one version
   * to different content.
   */
  async function numberContent(schoolId: string, hash: string, now: string): Promise<number> {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const state = await store.getSnapshotState(db, schoolId);
      if (state?.content_hash === hash) return Number(state.version);
      await store.advanceSnapshotState(db, schoolId, state, hash, now);
    }
    throw conflict('The filter policy kept changing while its snapshot was being numbered; try again');
  }

  return service;
}
