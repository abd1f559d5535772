/**
 * People: pupils, staff, governors, parents and the rest; the one place their
 * records change. Also the groups they belong to (nestable), the parent links
 * between them, the networks that map an address range to a default group,
 * and the MIS import (people.import.ts). Rules live here; queries live in
 * people.store.ts; every change writes its audit entry in its transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Actor, AuditLog } from '../audit/audit.service.ts';
import { conflict, type Issue, invalid, notFound } from '../shared/errors.ts';
import { parseOrThrow } from '../shared/schema.ts';
import { nowIso } from '../store/column-types.ts';
import type { Db, Store } from '../store/store.ts';
import { parseCidr } from '../shared/cidr.ts';
import {
  type ApplyInput,
  type ApplyResult,
  applyImport,
  IMPORT_PRESETS,
  type ImportPreset,
  type PreviewInput,
  type PreviewResult,
  previewImport,
} from './people.import.ts';
import {
  groupCreateSchema,
  groupPatchSchema,
  networkCreateSchema,
  networkPatchSchema,
  personCreateSchema,
  personPatchSchema,
} from './people.schema.ts';
import * as store from './people.store.ts';
import { createGroupRow, normaliseYearGroup, syncYearAndClassGroups } from './people.sync.ts';
import { type GroupKind, type GroupsTable, type NetworksTable, type PeopleTable, PERSON_FIELD_COLUMNS, type PersonKind } from './people.tables.ts';

/** A person as services and routes see them. Dates are `YYYY-MM-DD`. */
export interface Person {
  id: string;
  schoolId: string;
  kind: PersonKind;
  misId: string | null;
  givenName: string;
  familyName: string;
  preferredName: string | null;
  email: string | null;
  dateOfBirth: string | null;
  yearGroup: string | null;
  registrationGroup: string | null;
  startDate: string | null;
  leaveDate: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What is needed to create a person by hand. */
export interface PersonInput {
  kind: PersonKind;
  givenName: string;
  familyName: string;
  preferredName?: string | null;
  email?: string | null;
  misId?: string | null;
  dateOfBirth?: string | null;
  yearGroup?: string | null;
  registrationGroup?: string | null;
  startDate?: string | null;
  leaveDate?: string | null;
}

/** Maps a row to the Person shape. */
export function presentPerson(row: PeopleTable): Person {
  return {
    id: row.id,
    schoolId: row.school_id,
    kind: row.kind,
    misId: row.mis_id,
    givenName: row.given_name,
    familyName: row.family_name,
    preferredName: row.preferred_name,
    email: row.email,
    dateOfBirth: row.date_of_birth,
    yearGroup: row.year_group,
    registrationGroup: row.registration_group,
    startDate: row.start_date,
    leaveDate: row.leave_date,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Today's date in a time zone, as `YYYY-MM-DD` (UK schools: Europe/London). */
export function localDate(timeZone = 'Europe/London', at = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** A leaver is someone whose leave date has passed: access ends at the end of that day. */
export function hasLeft(person: Pick<Person, 'leaveDate'>, today: string): boolean {
  return person.leaveDate !== null && person.leaveDate < today;
}

/** A page of results. */
export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

/** A parent or child of a person, with the link's details. */
export interface PersonLink {
  person: Person;
  relationship: string;
  parentalResponsibility: boolean;
}

/** A person with their groups, parents and children. */
export interface PersonDetail {
  person: Person;
  groups: { id: string; name: string; kind: GroupKind }[];
  parents: PersonLink[];
  children: PersonLink[];
}

/** A group as services and routes see it. */
export interface Group {
  id: string;
  name: string;
  kind: GroupKind;
  parentId: string | null;
  description: string | null;
  memberCount: number;
}

/** A network: an address range and the group its devices default to. */
export interface Network {
  id: string;
  name: string;
  cidr: string;
  groupId: string | null;
  groupName: string | null;
  description: string | null;
}

/** Search and filters of the people list. */
export interface PeopleListQuery {
  q?: string;
  kind?: PersonKind;
  groupId?: string;
  page?: number;
  pageSize?: number;
}

/** The input of a parent link. */
export interface ParentLinkInput {
  parentId: string;
  childId: string;
  relationship?: string;
  parentalResponsibility: boolean;
}

export interface PeopleService {
  getPerson(schoolId: string, personId: string): Promise<Person | undefined>;
  /** Case-insensitive match on the email address. */
  findPersonByEmail(schoolId: string, email: string): Promise<Person | undefined>;
  createPerson(actor: Actor, schoolId: string, input: PersonInput): Promise<Person>;
  /** Changes some fields of a person; the same rules as create. */
  updatePerson(actor: Actor, schoolId: string, personId: string, patch: Partial<PersonInput>): Promise<Person>;
  /** Search (names, email, MIS id), filter by kind and group (nested groups included), one page. */
  listPeople(schoolId: string, query: PeopleListQuery): Promise<Page<Person>>;
  /** A person with groups, parents and children; not found for another school's person. */
  personDetail(schoolId: string, personId: string): Promise<PersonDetail>;
  /** Links a parent to a pupil, or updates the link's relationship and parental responsibility. */
  linkParent(actor: Actor, schoolId: string, input: ParentLinkInput): Promise<void>;
  unlinkParent(actor: Actor, schoolId: string, parentId: string, childId: string): Promise<void>;

  listGroups(schoolId: string, kind?: GroupKind): Promise<Group[]>;
  /** A group with one page of its direct members and its child groups. */
  groupDetail(schoolId: string, groupId: string, page?: number, pageSize?: number): Promise<{ group: Group; members: { items: Person[]; total: number }; children: Group[] }>;
  createGroup(actor: Actor, schoolId: string, input: { name: string; kind: GroupKind; parentId?: string | null; description?: string | null }): Promise<Group>;
  /** Renames, re-describes or moves a group; a move that would make a cycle is refused. */
  updateGroup(actor: Actor, schoolId: string, groupId: string, patch: { name?: string; parentId?: string | null; description?: string | null }): Promise<Group>;
  /** Adds people to a group by hand (source `manual`); returns how many were new. */
  addMembers(actor: Actor, schoolId: string, groupId: string, personIds: string[]): Promise<{ added: number }>;
  removeMember(actor: Actor, schoolId: string, groupId: string, personId: string): Promise<void>;
  /** The groups a person is in, directly or through nesting (for the filter's policies). */
  effectiveGroupIds(schoolId: string, personId: string): Promise<string[]>;
  /** Everyone who has not left by `today` (`YYYY-MM-DD`), with email and effective groups, in three queries (the filter's snapshot). */
  currentPeopleWithGroups(schoolId: string, today: string): Promise<{ id: string; email: string | null; groupIds: string[] }[]>;

  listNetworks(schoolId: string): Promise<Network[]>;
  createNetwork(actor: Actor, schoolId: string, input: { name: string; cidr: string; groupId: string | null; description?: string | null }): Promise<Network>;
  updateNetwork(actor: Actor, schoolId: string, networkId: string, patch: { name?: string; cidr?: string; groupId?: string | null; description?: string | null }): Promise<Network>;
  deleteNetwork(actor: Actor, schoolId: string, networkId: string): Promise<void>;

  /** The MIS presets and their column headers. */
  importPresets(): ImportPreset[];
  /** Dry run: reads the file and reports what would change; stores only the import run. */
  previewImport(actor: Actor, schoolId: string, input: PreviewInput): Promise<PreviewResult>;
  /** Applies a previewed run (same file) in one transaction; all or nothing. */
  applyImport(actor: Actor, schoolId: string, input: ApplyInput, options?: { onProgress?: (done: number, total: number) => void }): Promise<ApplyResult>;
}

/** Turns a zod failure into a validation error whose issues name the fields. */


/** Rules across fields, checked on the person as it would be stored. */
function personRuleIssues(row: PeopleTable, today: string): Issue[] {
  const issues: Issue[] = [];
  if (row.kind !== 'pupil') {
    if (row.year_group) issues.push({ where: 'yearGroup', message: 'only pupils have a year group' });
    if (row.registration_group) issues.push({ where: 'registrationGroup', message: 'only pupils have a registration class' });
  }
  if (row.start_date && row.leave_date && row.leave_date < row.start_date) {
    issues.push({ where: 'leaveDate', message: `must not be before the start date (${row.start_date})` });
  }
  if (row.date_of_birth && row.date_of_birth > today) issues.push({ where: 'dateOfBirth', message: 'is in the future' });
  return issues;
}


function presentGroup(row: GroupsTable, memberCount: number): Group {
  return { id: row.id, name: row.name, kind: row.kind, parentId: row.parent_id, description: row.description, memberCount };
}

function presentNetwork(row: NetworksTable, groupName: string | null): Network {
  return { id: row.id, name: row.name, cidr: row.cidr, groupId: row.group_id, groupName, description: row.description };
}

/** Ids of a group and every group nested under it. */
function withDescendants(groups: GroupsTable[], rootId: string): string[] {
  const children = new Map<string, string[]>();
  for (const g of groups) {
    if (!g.parent_id) continue;
    children.set(g.parent_id, [...(children.get(g.parent_id) ?? []), g.id]);
  }
  const seen = new Set<string>([rootId]);
  const queue = [rootId];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      if (!seen.has(child)) {
        seen.add(child);
        queue.push(child);
      }
    }
  }
  return [...seen];
}

/** Unique-constraint failures of either dialect. */
function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === '23505' || /UNIQUE constraint failed/i.test(e?.message ?? '');
}

export function createPeopleService(deps: { store: Store; audit: AuditLog }): PeopleService {
  const { audit } = deps;
  const db = deps.store.db;

  async function requirePerson(trx: Db, schoolId: string, id: string): Promise<PeopleTable> {
    const row = await store.getPersonRow(trx, schoolId, id);
    if (!row) throw notFound('Person');
    return row;
  }

  async function requireGroup(trx: Db, schoolId: string, id: string): Promise<GroupsTable> {
    const row = await store.getGroupRow(trx, schoolId, id);
    if (!row) throw notFound('Group');
    return row;
  }

  async function checkMisIdFree(trx: Db, schoolId: string, misId: string | null, selfId?: string) {
    if (!misId) return;
    const other = await store.getPersonByMisId(trx, schoolId, misId);
    if (other && other.id !== selfId) {
      throw conflict(`MIS id ${misId} already belongs to ${other.given_name} ${other.family_name}`);
    }
  }

  async function groupMemberCount(trx: Db, schoolId: string, groupId: string): Promise<number> {
    return (await store.groupMembersPage(trx, schoolId, groupId, 1, 1)).total;
  }

  const service: PeopleService = {
    async getPerson(schoolId, personId) {
      const row = await store.getPersonRow(db, schoolId, personId);
      return row && presentPerson(row);
    },

    async findPersonByEmail(schoolId, email) {
      const row = await db
        .selectFrom('people')
        .selectAll()
        .where('school_id', '=', schoolId)
        .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
        .executeTakeFirst();
      return row && presentPerson(row);
    },

    async createPerson(actor, schoolId, input) {
      const data = parseOrThrow(personCreateSchema, input, 'person');
      const now = nowIso();
      const row: PeopleTable = {
        id: randomUUID(),
        school_id: schoolId,
        kind: data.kind,
        mis_id: data.misId ?? null,
        given_name: data.givenName,
        family_name: data.familyName,
        preferred_name: data.preferredName ?? null,
        email: data.email ?? null,
        date_of_birth: data.dateOfBirth ?? null,
        year_group: normaliseYearGroup(data.yearGroup),
        registration_group: data.registrationGroup ?? null,
        start_date: data.startDate ?? null,
        leave_date: data.leaveDate ?? null,
        created_at: now,
        updated_at: now,
      };
      const issues = personRuleIssues(row, localDate());
      if (issues.length) throw invalid(`The person is not valid: ${issues.map((i) => `${i.where} ${i.message}`).join('; ')}`, issues);
      await audit.transaction(async (trx) => {
        await checkMisIdFree(trx, schoolId, row.mis_id);
        await store.insertPeople(trx, [row]);
        await audit.append(trx, actor, {
          schoolId,
          action: 'person.create',
          targetType: 'person',
          targetId: row.id,
          details: { kind: row.kind, name: `${row.given_name} ${row.family_name}`, misId: row.mis_id },
        });
        if (row.kind === 'pupil') {
          await syncYearAndClassGroups(trx, audit, actor, schoolId, [
            { personId: row.id, yearGroup: row.year_group, registrationGroup: row.registration_group },
          ]);
        }
      });
      return presentPerson(row);
    },

    async updatePerson(actor, schoolId, personId, patch) {
      const data = parseOrThrow(personPatchSchema, patch, 'change');
      return audit.transaction(async (trx) => {
        const before = await requirePerson(trx, schoolId, personId);
        const after: PeopleTable = { ...before };
        const changed: string[] = [];
        for (const [field, column] of Object.entries(PERSON_FIELD_COLUMNS) as [keyof PersonInput, keyof PeopleTable][]) {
          if (!(field in data) || data[field] === undefined) continue;
          let value = data[field] ?? null;
          if (field === 'yearGroup') value = normaliseYearGroup(value);
          if (after[column] !== value) {
            (after as any)[column] = value;
            changed.push(field);
          }
        }
        const issues = personRuleIssues(after, localDate());
        if (issues.length) throw invalid(`The change is not valid: ${issues.map((i) => `${i.where} ${i.message}`).join('; ')}`, issues);
        if (changed.length === 0) return presentPerson(before);
        if (changed.includes('misId')) await checkMisIdFree(trx, schoolId, after.mis_id, personId);
        after.updated_at = nowIso();
        const set: Partial<PeopleTable> = { updated_at: after.updated_at };
        for (const field of changed) (set as any)[PERSON_FIELD_COLUMNS[field as keyof PersonInput]] = after[PERSON_FIELD_COLUMNS[field as keyof PersonInput]];
        await store.updatePersonRow(trx, schoolId, personId, set);
        await audit.append(trx, actor, {
          schoolId,
          action: 'person.update',
          targetType: 'person',
          targetId: personId,
          // Field names only: the values are personal data and the log is append-only.
          details: { name: `${after.given_name} ${after.family_name}`, changed },
        });
        if (before.kind === 'pupil' || after.kind === 'pupil') {
          const pupil = after.kind === 'pupil';
          await syncYearAndClassGroups(trx, audit, actor, schoolId, [
            { personId, yearGroup: pupil ? after.year_group : null, registrationGroup: pupil ? after.registration_group : null },
          ]);
        }
        return presentPerson(after);
      });
    },

    async listPeople(schoolId, query) {
      const page = query.page ?? 1;
      const pageSize = query.pageSize ?? 50;
      let groupIds: string[] | undefined;
      if (query.groupId) {
        await requireGroup(db, schoolId, query.groupId);
        groupIds = withDescendants(await store.allGroups(db, schoolId), query.groupId);
      }
      const { rows, total } = await store.searchPeople(db, schoolId, { q: query.q, kind: query.kind, groupIds, page, pageSize });
      return { items: rows.map(presentPerson), total, page, pageSize };
    },

    async personDetail(schoolId, personId) {
      const row = await requirePerson(db, schoolId, personId);
      const [groups, parents, children] = await Promise.all([
        store.groupsOfPerson(db, schoolId, personId),
        store.linksOf(db, schoolId, 'parents', personId),
        store.linksOf(db, schoolId, 'children', personId),
      ]);
      const link = (l: store.LinkRow): PersonLink => ({
        person: presentPerson(l.person),
        relationship: l.link.relationship,
        parentalResponsibility: l.link.parental_responsibility === 1,
      });
      return {
        person: presentPerson(row),
        groups: groups.map((g) => ({ id: g.id, name: g.name, kind: g.kind })),
        parents: parents.map(link),
        children: children.map(link),
      };
    },

    async linkParent(actor, schoolId, input) {
      const relationship = (input.relationship ?? 'parent').trim() || 'parent';
      if (input.parentId === input.childId) throw invalid('A person cannot be their own parent', [{ where: 'parentId', message: 'is the child' }]);
      await audit.transaction(async (trx) => {
        const parent = await requirePerson(trx, schoolId, input.parentId);
        const child = await requirePerson(trx, schoolId, input.childId);
        if (child.kind !== 'pupil') throw invalid('Only pupils have parents linked', [{ where: 'childId', message: `is a ${child.kind}, not a pupil` }]);
        if (parent.kind === 'pupil') throw invalid('A pupil cannot be linked as a parent', [{ where: 'parentId', message: 'is a pupil' }]);
        const existing = await store.getParentLink(trx, schoolId, parent.id, child.id);
        const pr = input.parentalResponsibility ? 1 : 0;
        if (existing) {
          if (existing.relationship === relationship && existing.parental_responsibility === pr) return;
          await store.updateParentLink(trx, schoolId, existing.id, { relationship, parental_responsibility: pr });
        } else {
          await store.insertParentLinks(trx, [
            { id: randomUUID(), school_id: schoolId, parent_id: parent.id, child_id: child.id, relationship, parental_responsibility: pr, contact_priority: null, created_at: nowIso() },
          ]);
        }
        await audit.append(trx, actor, {
          schoolId,
          action: existing ? 'parent_link.update' : 'parent_link.create',
          targetType: 'person',
          targetId: child.id,
          details: { parentId: parent.id, relationship, parentalResponsibility: pr === 1 },
        });
      });
    },

    async unlinkParent(actor, schoolId, parentId, childId) {
      await audit.transaction(async (trx) => {
        const removed = await store.deleteParentLink(trx, schoolId, parentId, childId);
        if (removed === 0) throw notFound('Parent link');
        await audit.append(trx, actor, { schoolId, action: 'parent_link.delete', targetType: 'person', targetId: childId, details: { parentId } });
      });
    },

    async listGroups(schoolId, kind) {
      return (await store.listGroups(db, schoolId, kind)).map((g) => presentGroup(g, g.member_count));
    },

    async groupDetail(schoolId, groupId, page = 1, pageSize = 50) {
      const row = await requireGroup(db, schoolId, groupId);
      const members = await store.groupMembersPage(db, schoolId, groupId, page, pageSize);
      const all = await store.listGroups(db, schoolId);
      return {
        group: presentGroup(row, members.total),
        members: { items: members.rows.map(presentPerson), total: members.total },
        children: all.filter((g) => g.parent_id === groupId).map((g) => presentGroup(g, g.member_count)),
      };
    },

    async createGroup(actor, schoolId, input) {
      const data = parseOrThrow(groupCreateSchema, input, 'group');
      const parentId = data.parentId ?? null;
      const row = await audit.transaction(async (trx) => {
        if (parentId && !(await store.getGroupRow(trx, schoolId, parentId))) {
          throw invalid('The parent group does not exist', [{ where: 'parentId', message: 'no such group' }]);
        }
        if (await store.findGroup(trx, schoolId, data.kind, data.name)) throw conflict(`There is already a ${data.kind} group called "${data.name}"`);
        return createGroupRow(trx, audit, actor, { schoolId, kind: data.kind, name: data.name, description: data.description ?? null, parentId, now: nowIso() });
      });
      return presentGroup(row, 0);
    },

    async updateGroup(actor, schoolId, groupId, patch) {
      const data = parseOrThrow(groupPatchSchema, patch, 'change');
      return audit.transaction(async (trx) => {
        const before = await requireGroup(trx, schoolId, groupId);
        const after: GroupsTable = { ...before };
        if (data.name !== undefined) after.name = data.name;
        if (data.description !== undefined) after.description = data.description ?? null;
        if (data.parentId !== undefined) after.parent_id = data.parentId ?? null;
        if (after.parent_id && after.parent_id !== before.parent_id) {
          const groups = await store.allGroups(trx, schoolId);
          const byId = new Map(groups.map((g) => [g.id, g]));
          if (!byId.has(after.parent_id)) throw invalid('The parent group does not exist', [{ where: 'parentId', message: 'no such group' }]);
          // Walk up from the new parent: meeting this group again means a cycle.
          const path: string[] = [];
          for (let at: string | null = after.parent_id; at; at = byId.get(at)?.parent_id ?? null) {
            path.push(byId.get(at)?.name ?? at);
            if (at === groupId) {
              throw invalid(`"${before.name}" cannot be put inside "${byId.get(after.parent_id)!.name}": that group is already inside it`, [
                { where: 'parentId', message: `would make a cycle (${[before.name, ...path].join(' → ')})` },
              ]);
            }
            if (path.length > groups.length) break;
          }
        }
        const changed = (['name', 'description', 'parent_id'] as const).filter((c) => before[c] !== after[c]);
        if (changed.length === 0) return presentGroup(before, await groupMemberCount(trx, schoolId, groupId));
        if (after.name !== before.name) {
          const clash = await store.findGroup(trx, schoolId, before.kind, after.name);
          if (clash) throw conflict(`There is already a ${before.kind} group called "${after.name}"`);
        }
        after.updated_at = nowIso();
        await store.updateGroupRow(trx, schoolId, groupId, { name: after.name, description: after.description, parent_id: after.parent_id, updated_at: after.updated_at });
        await audit.append(trx, actor, {
          schoolId,
          action: 'group.update',
          targetType: 'group',
          targetId: groupId,
          details: Object.fromEntries(changed.map((c) => [c, { from: before[c], to: after[c] }])),
        });
        return presentGroup(after, await groupMemberCount(trx, schoolId, groupId));
      });
    },

    async addMembers(actor, schoolId, groupId, personIds) {
      const ids = [...new Set(personIds)];
      if (ids.length === 0) throw invalid('Say who to add', [{ where: 'personIds', message: 'must not be empty' }]);
      return audit.transaction(async (trx) => {
        await requireGroup(trx, schoolId, groupId);
        const found = new Set((await store.peopleByIds(trx, schoolId, ids)).map((p) => p.id));
        const missing = ids.filter((id) => !found.has(id));
        if (missing.length) {
          throw invalid(`${missing.length} of these people do not exist`, missing.map((id) => ({ where: 'personIds', message: `no person ${id}` })));
        }
        const existing = new Set((await store.membershipsOfGroups(trx, schoolId, [groupId])).map((m) => m.person_id));
        const now = nowIso();
        const added = ids.filter((id) => !existing.has(id));
        await store.insertMemberships(
          trx,
          added.map((id) => ({ group_id: groupId, person_id: id, school_id: schoolId, source: 'manual' as const, created_at: now })),
        );
        if (added.length) {
          await audit.append(trx, actor, { schoolId, action: 'group.members.add', targetType: 'group', targetId: groupId, details: { personIds: added } });
        }
        return { added: added.length };
      });
    },

    async removeMember(actor, schoolId, groupId, personId) {
      await audit.transaction(async (trx) => {
        await requireGroup(trx, schoolId, groupId);
        const membership = await store.getMembership(trx, schoolId, groupId, personId);
        if (!membership) throw notFound('Member');
        await store.deleteMemberships(trx, schoolId, [{ groupId, personId }]);
        await audit.append(trx, actor, {
          schoolId,
          action: 'group.members.remove',
          targetType: 'group',
          targetId: groupId,
          details: { personId, source: membership.source },
        });
      });
    },

    async effectiveGroupIds(schoolId, personId) {
      const direct = await store.groupsOfPerson(db, schoolId, personId);
      const byId = new Map((await store.allGroups(db, schoolId)).map((g) => [g.id, g]));
      const result = new Set<string>();
      for (const group of direct) {
        for (let at: string | null = group.id; at && !result.has(at); at = byId.get(at)?.parent_id ?? null) result.add(at);
      }
      return [...result];
    },

    async currentPeopleWithGroups(schoolId, today) {
      const [people, groups, memberships] = await Promise.all([
        db
          .selectFrom('people')
          .select(['id', 'email'])
          .where('school_id', '=', schoolId)
          .where((eb) => eb.or([eb('leave_date', 'is', null), eb('leave_date', '>=', today)]))
          .execute(),
        store.allGroups(db, schoolId),
        db.selectFrom('group_members').select(['group_id', 'person_id']).where('school_id', '=', schoolId).execute(),
      ]);
      const parentOf = new Map(groups.map((g) => [g.id, g.parent_id]));
      // Each group's chain up to the root, worked out once per group rather than once per member.
      const chains = new Map<string, string[]>();
      const chainOf = (groupId: string): string[] => {
        let chain = chains.get(groupId);
        if (!chain) {
          chain = [];
          for (let at: string | null | undefined = groupId; at && !chain.includes(at); at = parentOf.get(at)) chain.push(at);
          chains.set(groupId, chain);
        }
        return chain;
      };
      const byPerson = new Map<string, Set<string>>();
      for (const m of memberships) {
        let set = byPerson.get(m.person_id);
        if (!set) byPerson.set(m.person_id, (set = new Set()));
        for (const id of chainOf(m.group_id)) set.add(id);
      }
      return people.map((p) => ({ id: p.id, email: p.email, groupIds: [...(byPerson.get(p.id) ?? [])] }));
    },

    async listNetworks(schoolId) {
      return (await store.listNetworks(db, schoolId)).map((n) => presentNetwork(n, n.group_name));
    },

    async createNetwork(actor, schoolId, input) {
      const data = parseOrThrow(networkCreateSchema, input, 'network');
      const parsed = parseCidr(data.cidr);
      if (!parsed.ok) throw invalid(`The range is not valid: ${parsed.message}`, [{ where: 'cidr', message: parsed.message }]);
      const now = nowIso();
      const row: NetworksTable = {
        id: randomUUID(),
        school_id: schoolId,
        name: data.name,
        cidr: parsed.cidr.text,
        group_id: data.groupId,
        description: data.description ?? null,
        created_at: now,
        updated_at: now,
      };
      let groupName: string | null = null;
      await audit.transaction(async (trx) => {
        if (row.group_id) {
          const group = await store.getGroupRow(trx, schoolId, row.group_id);
          if (!group) throw invalid('The group does not exist', [{ where: 'groupId', message: 'no such group' }]);
          groupName = group.name;
        }
        const clash = await store.findNetworkByCidr(trx, schoolId, row.cidr);
        if (clash) throw conflict(`The range ${row.cidr} is already the network "${clash.name}"`);
        await store.insertNetwork(trx, row);
        await audit.append(trx, actor, {
          schoolId,
          action: 'network.create',
          targetType: 'network',
          targetId: row.id,
          details: { name: row.name, cidr: row.cidr, groupId: row.group_id },
        });
      });
      return presentNetwork(row, groupName);
    },

    async updateNetwork(actor, schoolId, networkId, patch) {
      const data = parseOrThrow(networkPatchSchema, patch, 'change');
      return audit.transaction(async (trx) => {
        const before = await store.getNetworkRow(trx, schoolId, networkId);
        if (!before) throw notFound('Network');
        const after: NetworksTable = { ...before };
        if (data.name !== undefined) after.name = data.name;
        if (data.description !== undefined) after.description = data.description ?? null;
        if (data.groupId !== undefined) after.group_id = data.groupId;
        if (data.cidr !== undefined) {
          const parsed = parseCidr(data.cidr);
          if (!parsed.ok) throw invalid(`The range is not valid: ${parsed.message}`, [{ where: 'cidr', message: parsed.message }]);
          after.cidr = parsed.cidr.text;
        }
        let groupName: string | null = null;
        if (after.group_id) {
          const group = await store.getGroupRow(trx, schoolId, after.group_id);
          if (!group) throw invalid('The group does not exist', [{ where: 'groupId', message: 'no such group' }]);
          groupName = group.name;
        }
        const changed = (['name', 'cidr', 'group_id', 'description'] as const).filter((c) => before[c] !== after[c]);
        if (changed.length === 0) return presentNetwork(before, groupName);
        if (after.cidr !== before.cidr) {
          const clash = await store.findNetworkByCidr(trx, schoolId, after.cidr);
          if (clash) throw conflict(`The range ${after.cidr} is already the network "${clash.name}"`);
        }
        after.updated_at = nowIso();
        await store.updateNetworkRow(trx, schoolId, networkId, { name: after.name, cidr: after.cidr, group_id: after.group_id, description: after.description, updated_at: after.updated_at });
        await audit.append(trx, actor, {
          schoolId,
          action: 'network.update',
          targetType: 'network',
          targetId: networkId,
          details: Object.fromEntries(changed.map((c) => [c, { from: before[c], to: after[c] }])),
        });
        return presentNetwork(after, groupName);
      });
    },

    async deleteNetwork(actor, schoolId, networkId) {
      await audit.transaction(async (trx) => {
        const row = await store.getNetworkRow(trx, schoolId, networkId);
        if (!row) throw notFound('Network');
        await store.deleteNetworkRow(trx, schoolId, networkId);
        await audit.append(trx, actor, {
          schoolId,
          action: 'network.delete',
          targetType: 'network',
          targetId: networkId,
          details: { name: row.name, cidr: row.cidr, groupId: row.group_id },
        });
      });
    },

    importPresets() {
      return IMPORT_PRESETS;
    },

    previewImport(actor, schoolId, input) {
      return previewImport({ store: deps.store, audit }, actor, schoolId, input);
    },

    applyImport(actor, schoolId, input, options) {
      return applyImport({ store: deps.store, audit }, actor, schoolId, input, options);
    },
  };

  // A unique index can still fire under a race between the check and the insert.
  const create = service.createPerson;
  service.createPerson = async (actor, schoolId, input) => {
    try {
      return await create(actor, schoolId, input);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`MIS id ${input.misId} already belongs to someone else`);
      throw error;
    }
  };
  return service;
}
