/**
 * The people module's queries: people, parent links, groups, members,
 * networks and import runs. Every function takes the school id and filters on
 * it, so a record of another school behaves as if it did not exist. Functions
 * take a `Db` (handle or transaction) so the service decides the transaction.
 */
import { type Expression, type SqlBool, sql } from 'kysely';
import type { Db } from '../store/store.ts';
import type {
  GroupKind,
  GroupMembersTable,
  GroupsTable,
  ImportRunsTable,
  NetworksTable,
  ParentLinksTable,
  PeopleTable,
  PersonKind,
} from './people.tables.ts';

/** Rows per multi-row INSERT: well inside SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 400;

async function insertChunked<T extends 'people' | 'group_members' | 'parent_links'>(db: Db, table: T, rows: any[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    await db.insertInto(table).values(rows.slice(i, i + CHUNK)).execute();
  }
}

/** `%word%` for LIKE with the wildcards in the word escaped (the `escape '\'` clause below). */
function containsPattern(word: string): string {
  return `%${word.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

// ---- people ---------------------------------------------------------------

export async function getPersonRow(db: Db, schoolId: string, id: string): Promise<PeopleTable | undefined> {
  return db.selectFrom('people').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

/** People by id (for links and member lists), in one query. */
export async function peopleByIds(db: Db, schoolId: string, ids: string[]): Promise<PeopleTable[]> {
  if (ids.length === 0) return [];
  const rows: PeopleTable[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    rows.push(...(await db.selectFrom('people').selectAll().where('school_id', '=', schoolId).where('id', 'in', ids.slice(i, i + CHUNK)).execute()));
  }
  return rows;
}

export async function getPersonByMisId(db: Db, schoolId: string, misId: string): Promise<PeopleTable | undefined> {
  return db.selectFrom('people').selectAll().where('school_id', '=', schoolId).where('mis_id', '=', misId).executeTakeFirst();
}

/** Every person of a school who has a MIS id (the import compares against these). */
export async function peopleWithMisIds(db: Db, schoolId: string): Promise<PeopleTable[]> {
  return db.selectFrom('people').selectAll().where('school_id', '=', schoolId).where('mis_id', 'is not', null).execute();
}

/** What a search asks for. `groupIds` already includes the nested groups. */
export interface PeopleQuery {
  q?: string;
  kind?: PersonKind;
  groupIds?: string[];
  page: number;
  pageSize: number;
}

/**
 * One page of people, sorted by family then given name. Each word of `q` must
 * match a name, the email or the MIS id, case-insensitively: `lower(...) LIKE`
 * behaves the same on SQLite and PostgreSQL (SQLite's `lower` folds ASCII only).
 */
export async function searchPeople(db: Db, schoolId: string, query: PeopleQuery): Promise<{ rows: PeopleTable[]; total: number }> {
  let base = db.selectFrom('people').where('people.school_id', '=', schoolId);
  const words = (query.q ?? '').trim().split(/\s+/).filter(Boolean).slice(0, 8);
  for (const word of words) {
    const pattern = containsPattern(word);
    base = base.where((eb) =>
      eb.or(
        (['given_name', 'family_name', 'preferred_name', 'email', 'mis_id'] as const).map(
          (column) => sql<SqlBool>`lower(${sql.ref(`people.${column}`)}) like ${pattern} escape '\\'` as Expression<SqlBool>,
        ),
      ),
    );
  }
  if (query.kind) base = base.where('people.kind', '=', query.kind);
  if (query.groupIds) {
    const groupIds = query.groupIds.length ? query.groupIds : ['(none)'];
    base = base.where((eb) =>
      eb.exists(
        eb
          .selectFrom('group_members')
          .select('group_members.person_id')
          .whereRef('group_members.person_id', '=', 'people.id')
          .where('group_members.group_id', 'in', groupIds),
      ),
    );
  }
  const counted = await base.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
  const rows = await base
    .selectAll('people')
    .orderBy(sql`lower(people.family_name)`)
    .orderBy(sql`lower(people.given_name)`)
    .orderBy('people.id')
    .limit(query.pageSize)
    .offset((query.page - 1) * query.pageSize)
    .execute();
  return { rows, total: Number(counted.n) };
}

export async function insertPeople(db: Db, rows: PeopleTable[]): Promise<void> {
  await insertChunked(db, 'people', rows);
}

export async function updatePersonRow(db: Db, schoolId: string, id: string, patch: Partial<PeopleTable>): Promise<void> {
  await db.updateTable('people').set(patch).where('school_id', '=', schoolId).where('id', '=', id).execute();
}

// ---- parent links ---------------------------------------------------------

/** A link with the person on the other side. */
export interface LinkRow {
  link: ParentLinksTable;
  person: PeopleTable;
}

/** The parents of a child, or the children of a parent, with the other person. */
export async function linksOf(db: Db, schoolId: string, side: 'parents' | 'children', personId: string): Promise<LinkRow[]> {
  const links = await db
    .selectFrom('parent_links')
    .selectAll()
    .where('school_id', '=', schoolId)
    .where(side === 'parents' ? 'child_id' : 'parent_id', '=', personId)
    .orderBy('contact_priority')
    .orderBy('created_at')
    .execute();
  const others = await peopleByIds(db, schoolId, links.map((l) => (side === 'parents' ? l.parent_id : l.child_id)));
  const byId = new Map(others.map((p) => [p.id, p]));
  return links.flatMap((link) => {
    const person = byId.get(side === 'parents' ? link.parent_id : link.child_id);
    return person ? [{ link, person }] : [];
  });
}

/** Every parent link of a school (the import compares against these). */
export async function allParentLinks(db: Db, schoolId: string): Promise<ParentLinksTable[]> {
  return db.selectFrom('parent_links').selectAll().where('school_id', '=', schoolId).execute();
}

export async function getParentLink(db: Db, schoolId: string, parentId: string, childId: string): Promise<ParentLinksTable | undefined> {
  return db
    .selectFrom('parent_links')
    .selectAll()
    .where('school_id', '=', schoolId)
    .where('parent_id', '=', parentId)
    .where('child_id', '=', childId)
    .executeTakeFirst();
}

export async function insertParentLinks(db: Db, rows: ParentLinksTable[]): Promise<void> {
  await insertChunked(db, 'parent_links', rows);
}

export async function updateParentLink(
  db: Db,
  schoolId: string,
  id: string,
  patch: Pick<ParentLinksTable, 'relationship' | 'parental_responsibility'>,
): Promise<void> {
  await db.updateTable('parent_links').set(patch).where('school_id', '=', schoolId).where('id', '=', id).execute();
}

export async function deleteParentLink(db: Db, schoolId: string, parentId: string, childId: string): Promise<number> {
  const result = await db
    .deleteFrom('parent_links')
    .where('school_id', '=', schoolId)
    .where('parent_id', '=', parentId)
    .where('child_id', '=', childId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

// ---- groups ---------------------------------------------------------------

/** A group with how many people are in it directly. */
export type GroupWithCount = GroupsTable & { member_count: number };

export async function listGroups(db: Db, schoolId: string, kind?: GroupKind): Promise<GroupWithCount[]> {
  let query = db
    .selectFrom('groups')
    .leftJoin('group_members', 'group_members.group_id', 'groups.id')
    .selectAll('groups')
    .select((eb) => eb.fn.count<number | string>('group_members.person_id').as('member_count'))
    .where('groups.school_id', '=', schoolId)
    .groupBy(['groups.id', 'groups.school_id', 'groups.kind', 'groups.name', 'groups.description', 'groups.parent_id', 'groups.created_at', 'groups.updated_at']);
  if (kind) query = query.where('groups.kind', '=', kind);
  const rows = await query.orderBy('groups.kind').orderBy(sql`lower(groups.name)`).execute();
  return rows.map((r) => ({ ...r, member_count: Number(r.member_count) }));
}

/** Every group of a school (small: tens to a few hundred), for walking the tree. */
export async function allGroups(db: Db, schoolId: string): Promise<GroupsTable[]> {
  return db.selectFrom('groups').selectAll().where('school_id', '=', schoolId).execute();
}

export async function getGroupRow(db: Db, schoolId: string, id: string): Promise<GroupsTable | undefined> {
  return db.selectFrom('groups').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

export async function findGroup(db: Db, schoolId: string, kind: GroupKind, name: string): Promise<GroupsTable | undefined> {
  return db
    .selectFrom('groups')
    .selectAll()
    .where('school_id', '=', schoolId)
    .where('kind', '=', kind)
    .where('name', '=', name)
    .executeTakeFirst();
}

export async function insertGroup(db: Db, row: GroupsTable): Promise<void> {
  await db.insertInto('groups').values(row).execute();
}

export async function updateGroupRow(db: Db, schoolId: string, id: string, patch: Partial<GroupsTable>): Promise<void> {
  await db.updateTable('groups').set(patch).where('school_id', '=', schoolId).where('id', '=', id).execute();
}

/** The groups a person is directly in. */
export async function groupsOfPerson(db: Db, schoolId: string, personId: string): Promise<GroupsTable[]> {
  return db
    .selectFrom('group_members')
    .innerJoin('groups', 'groups.id', 'group_members.group_id')
    .selectAll('groups')
    .where('group_members.school_id', '=', schoolId)
    .where('group_members.person_id', '=', personId)
    .orderBy('groups.kind')
    .orderBy('groups.name')
    .execute();
}

/** One page of a group's direct members, sorted like the people list. */
export async function groupMembersPage(
  db: Db,
  schoolId: string,
  groupId: string,
  page: number,
  pageSize: number,
): Promise<{ rows: PeopleTable[]; total: number }> {
  return searchPeople(db, schoolId, { groupIds: [groupId], page, pageSize });
}

/** Memberships of some groups (the import syncs year and class groups with these). */
export async function membershipsOfGroups(db: Db, schoolId: string, groupIds: string[]): Promise<GroupMembersTable[]> {
  if (groupIds.length === 0) return [];
  return db.selectFrom('group_members').selectAll().where('school_id', '=', schoolId).where('group_id', 'in', groupIds).execute();
}

export async function getMembership(db: Db, schoolId: string, groupId: string, personId: string): Promise<GroupMembersTable | undefined> {
  return db
    .selectFrom('group_members')
    .selectAll()
    .where('school_id', '=', schoolId)
    .where('group_id', '=', groupId)
    .where('person_id', '=', personId)
    .executeTakeFirst();
}

export async function insertMemberships(db: Db, rows: GroupMembersTable[]): Promise<void> {
  await insertChunked(db, 'group_members', rows);
}

export async function deleteMemberships(db: Db, schoolId: string, pairs: { groupId: string; personId: string }[]): Promise<void> {
  for (const pair of pairs) {
    await db
      .deleteFrom('group_members')
      .where('school_id', '=', schoolId)
      .where('group_id', '=', pair.groupId)
      .where('person_id', '=', pair.personId)
      .execute();
  }
}

// ---- networks -------------------------------------------------------------

/** A network with its group's name. */
export type NetworkWithGroup = NetworksTable & { group_name: string | null };

export async function listNetworks(db: Db, schoolId: string): Promise<NetworkWithGroup[]> {
  return db
    .selectFrom('networks')
    .leftJoin('groups', 'groups.id', 'networks.group_id')
    .selectAll('networks')
    .select('groups.name as group_name')
    .where('networks.school_id', '=', schoolId)
    .orderBy(sql`lower(networks.name)`)
    .execute();
}

export async function getNetworkRow(db: Db, schoolId: string, id: string): Promise<NetworksTable | undefined> {
  return db.selectFrom('networks').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

export async function findNetworkByCidr(db: Db, schoolId: string, cidr: string): Promise<NetworksTable | undefined> {
  return db.selectFrom('networks').selectAll().where('school_id', '=', schoolId).where('cidr', '=', cidr).executeTakeFirst();
}

export async function insertNetwork(db: Db, row: NetworksTable): Promise<void> {
  await db.insertInto('networks').values(row).execute();
}

export async function updateNetworkRow(db: Db, schoolId: string, id: string, patch: Partial<NetworksTable>): Promise<void> {
  await db.updateTable('networks').set(patch).where('school_id', '=', schoolId).where('id', '=', id).execute();
}

export async function deleteNetworkRow(db: Db, schoolId: string, id: string): Promise<void> {
  await db.deleteFrom('networks').where('school_id', '=', schoolId).where('id', '=', id).execute();
}

// ---- import runs ----------------------------------------------------------

export async function insertImportRun(db: Db, row: ImportRunsTable): Promise<void> {
  await db.insertInto('import_runs').values(row).execute();
}

export async function getImportRun(db: Db, schoolId: string, id: string): Promise<ImportRunsTable | undefined> {
  return db.selectFrom('import_runs').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

export async function updateImportRun(db: Db, schoolId: string, id: string, patch: Partial<ImportRunsTable>): Promise<void> {
  await db.updateTable('import_runs').set(patch).where('school_id', '=', schoolId).where('id', '=', id).execute();
}
