/**
 * Keeps year and class groups in step with pupils' year group and
 * registration class: the import, and hand edits of a pupil, both call this
 * inside their own transaction. A class nests under its year group. Only
 * memberships with source `mis` are added or removed here; a membership an
 * admin added by hand (`manual`) is left alone.
 */
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Actor, AuditLog } from '../audit/audit.service.ts';
import { nowIso } from '../store/column-types.ts';
import type { Database } from '../store/store.ts';
import * as store from './people.store.ts';
import type { GroupMembersTable, GroupsTable } from './people.tables.ts';

/**
 * A year group as stored: `Year 7`, `Yr 7`, `Y7` and `7` become `7`;
 * `Reception`/`Rec` become `R`; anything else is kept as written.
 */
export function normaliseYearGroup(value: string | null | undefined): string | null {
  const text = (value ?? '').trim();
  if (!text) return null;
  const numbered = /^(?:year|yr|y)?\s*(\d{1,2})$/i.exec(text);
  if (numbered) return String(Number(numbered[1]));
  if (/^(?:r|rec|reception)$/i.test(text)) return 'R';
  return text;
}

/** The name of the group for a year: `Year 7`, `Reception`, or the value itself. */
export function yearGroupName(year: string): string {
  if (/^\d+$/.test(year)) return `Year ${year}`;
  if (year === 'R') return 'Reception';
  return year;
}

/** One person whose year and class memberships should match these values (null: none). */
export interface SyncEntry {
  personId: string;
  yearGroup: string | null;
  registrationGroup: string | null;
}

/** What a sync changed. */
export interface SyncResult {
  groupsCreated: number;
  membershipsAdded: number;
  membershipsRemoved: number;
}

/** Inserts a group and its `group.create` audit entry in the caller's transaction (by hand or from the MIS). */
export async function createGroupRow(
  trx: Transaction<Database>,
  audit: AuditLog,
  actor: Actor,
  group: { schoolId: string; kind: GroupsTable['kind']; name: string; description: string | null; parentId: string | null; now: string },
  extraDetails: Record<string, unknown> = {},
): Promise<GroupsTable> {
  const row: GroupsTable = {
    id: randomUUID(),
    school_id: group.schoolId,
    kind: group.kind,
    name: group.name,
    description: group.description,
    parent_id: group.parentId,
    created_at: group.now,
    updated_at: group.now,
  };
  await store.insertGroup(trx, row);
  await audit.append(trx, actor, {
    schoolId: group.schoolId,
    action: 'group.create',
    targetType: 'group',
    targetId: row.id,
    details: { name: row.name, kind: row.kind, parentId: row.parent_id, ...extraDetails },
  });
  return row;
}

/** Brings year/class groups and `mis` memberships in line with the entries. */
export async function syncYearAndClassGroups(
  trx: Transaction<Database>,
  audit: AuditLog,
  actor: Actor,
  schoolId: string,
  entries: SyncEntry[],
): Promise<SyncResult> {
  const result: SyncResult = { groupsCreated: 0, membershipsAdded: 0, membershipsRemoved: 0 };
  if (entries.length === 0) return result;
  const now = nowIso();
  const groups = (await store.allGroups(trx, schoolId)).filter((g) => g.kind === 'year' || g.kind === 'class');
  const years = new Map(groups.filter((g) => g.kind === 'year').map((g) => [g.name, g]));
  const classes = new Map(groups.filter((g) => g.kind === 'class').map((g) => [g.name, g]));

  async function ensure(kind: 'year' | 'class', name: string, parentId: string | null): Promise<GroupsTable> {
    const map = kind === 'year' ? years : classes;
    const existing = map.get(name);
    if (existing) {
      // A class made before its year was known is tucked under it now.
      if (kind === 'class' && existing.parent_id === null && parentId) {
        await store.updateGroupRow(trx, schoolId, existing.id, { parent_id: parentId, updated_at: now });
        existing.parent_id = parentId;
      }
      return existing;
    }
    const row = await createGroupRow(trx, audit, actor, { schoolId, kind, name, description: null, parentId, now }, { source: 'mis' });
    map.set(name, row);
    result.groupsCreated += 1;
    return row;
  }

  const desired = new Map<string, Set<string>>();
  for (const entry of entries) {
    const want = new Set<string>();
    const year = entry.yearGroup ? await ensure('year', yearGroupName(entry.yearGroup), null) : undefined;
    if (year) want.add(year.id);
    if (entry.registrationGroup) want.add((await ensure('class', entry.registrationGroup, year?.id ?? null)).id);
    desired.set(entry.personId, want);
  }

  const syncedGroupIds = new Set([...years.values(), ...classes.values()].map((g) => g.id));
  const current = await store.membershipsOfGroups(trx, schoolId, [...syncedGroupIds]);
  const held = new Map<string, GroupMembersTable[]>();
  for (const m of current) {
    if (!desired.has(m.person_id)) continue;
    const list = held.get(m.person_id) ?? [];
    list.push(m);
    held.set(m.person_id, list);
  }
  const toAdd: GroupMembersTable[] = [];
  const toRemove: { groupId: string; personId: string }[] = [];
  for (const [personId, want] of desired) {
    const have = held.get(personId) ?? [];
    const haveIds = new Set(have.map((m) => m.group_id));
    for (const m of have) {
      if (m.source === 'mis' && !want.has(m.group_id)) toRemove.push({ groupId: m.group_id, personId });
    }
    for (const groupId of want) {
      if (!haveIds.has(groupId)) toAdd.push({ group_id: groupId, person_id: personId, school_id: schoolId, source: 'mis', created_at: now });
    }
  }
  await store.deleteMemberships(trx, schoolId, toRemove);
  await store.insertMemberships(trx, toAdd);
  result.membershipsAdded = toAdd.length;
  result.membershipsRemoved = toRemove.length;
  return result;
}
