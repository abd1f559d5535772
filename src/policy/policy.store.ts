/**
 * The policy module's queries. Every function takes the school id and filters
 * on it, so another school's record behaves as if it did not exist; each takes
 * a `Db` (handle or transaction) so the service decides the transaction. The
 * snapshot reads each table once, whole, for a school.
 */
import type { Db } from '../store/store.ts';
import type {
  FilterEntriesTable,
  FilterExemptionsTable,
  FilterGroupPoliciesTable,
  FilterSanctionsTable,
  FilterSchedulesTable,
  FilterSettingsTable,
  FilterSnapshotStateTable,
  SchoolCalendarTable,
  UnblockRequestsTable,
} from './policy.tables.ts';

// ---- group policies ---------------------------------------------------------

/** Every stored group policy of a school. */
export async function groupPolicies(db: Db, schoolId: string): Promise<FilterGroupPoliciesTable[]> {
  return db.selectFrom('filter_group_policies').selectAll().where('school_id', '=', schoolId).execute();
}

/** One group's stored policy, if any. */
export async function getGroupPolicy(db: Db, schoolId: string, groupId: string): Promise<FilterGroupPoliciesTable | undefined> {
  return db.selectFrom('filter_group_policies').selectAll().where('school_id', '=', schoolId).where('group_id', '=', groupId).executeTakeFirst();
}

/** Stores a group's policy (insert the first time, update after). */
export async function upsertGroupPolicy(db: Db, row: FilterGroupPoliciesTable, exists: boolean): Promise<void> {
  if (!exists) {
    await db.insertInto('filter_group_policies').values(row).execute();
    return;
  }
  const { group_id, school_id, ...rest } = row;
  await db.updateTable('filter_group_policies').set(rest).where('school_id', '=', school_id).where('group_id', '=', group_id).execute();
}

// ---- entries ----------------------------------------------------------------

/** Allow and deny entries, optionally for one scope and list, in name order. */
export async function entries(db: Db, schoolId: string, filter: { groupId?: string | null; list?: 'allow' | 'deny' } = {}): Promise<FilterEntriesTable[]> {
  let query = db.selectFrom('filter_entries').selectAll().where('school_id', '=', schoolId);
  if (filter.groupId === null) query = query.where('group_id', 'is', null);
  else if (filter.groupId !== undefined) query = query.where('group_id', '=', filter.groupId);
  if (filter.list) query = query.where('list', '=', filter.list);
  return query.orderBy('domain').orderBy('id').execute();
}

/** One entry. */
export async function getEntry(db: Db, schoolId: string, id: string): Promise<FilterEntriesTable | undefined> {
  return db.selectFrom('filter_entries').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

/** Entries for the same name in the same scope (school-wide or one group), either list. */
export async function entriesForDomain(db: Db, schoolId: string, groupId: string | null, domain: string): Promise<FilterEntriesTable[]> {
  let query = db.selectFrom('filter_entries').selectAll().where('school_id', '=', schoolId).where('domain', '=', domain);
  query = groupId === null ? query.where('group_id', 'is', null) : query.where('group_id', '=', groupId);
  return query.execute();
}

/** Adds an entry. */
export async function insertEntry(db: Db, row: FilterEntriesTable): Promise<void> {
  await db.insertInto('filter_entries').values(row).execute();
}

/** Removes an entry (entries are configuration; the audit log keeps what it was). */
export async function deleteEntry(db: Db, schoolId: string, id: string): Promise<void> {
  await db.deleteFrom('filter_entries').where('school_id', '=', schoolId).where('id', '=', id).execute();
}

// ---- schedules --------------------------------------------------------------

/** A school's schedules in name order. */
export async function schedules(db: Db, schoolId: string): Promise<FilterSchedulesTable[]> {
  return db.selectFrom('filter_schedules').selectAll().where('school_id', '=', schoolId).orderBy('name').execute();
}

/** One schedule. */
export async function getSchedule(db: Db, schoolId: string, id: string): Promise<FilterSchedulesTable | undefined> {
  return db.selectFrom('filter_schedules').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

/** The schedule with this name, if any (names are unique per school). */
export async function findScheduleByName(db: Db, schoolId: string, name: string): Promise<FilterSchedulesTable | undefined> {
  return db.selectFrom('filter_schedules').selectAll().where('school_id', '=', schoolId).where('name', '=', name).executeTakeFirst();
}

/** Adds a schedule. */
export async function insertSchedule(db: Db, row: FilterSchedulesTable): Promise<void> {
  await db.insertInto('filter_schedules').values(row).execute();
}

/** Changes a schedule. */
export async function updateSchedule(db: Db, schoolId: string, id: string, patch: Partial<FilterSchedulesTable>): Promise<void> {
  await db.updateTable('filter_schedules').set(patch).where('school_id', '=', schoolId).where('id', '=', id).execute();
}

/** Removes a schedule. */
export async function deleteSchedule(db: Db, schoolId: string, id: string): Promise<void> {
  await db.deleteFrom('filter_schedules').where('school_id', '=', schoolId).where('id', '=', id).execute();
}

// ---- calendar ---------------------------------------------------------------

/** A school's terms and closures, by date. */
export async function calendar(db: Db, schoolId: string): Promise<SchoolCalendarTable[]> {
  return db.selectFrom('school_calendar').selectAll().where('school_id', '=', schoolId).orderBy('start_date').orderBy('label').execute();
}

/** Replaces a school's whole calendar (inside the caller's transaction). */
export async function replaceCalendar(db: Db, schoolId: string, rows: SchoolCalendarTable[]): Promise<void> {
  await db.deleteFrom('school_calendar').where('school_id', '=', schoolId).execute();
  for (let i = 0; i < rows.length; i += 200) await db.insertInto('school_calendar').values(rows.slice(i, i + 200)).execute();
}

// ---- exemptions and sanctions ---------------------------------------------------

/** Exemptions, newest first; `activeAt` keeps the ones neither revoked nor ended at that time. */
export async function exemptions(db: Db, schoolId: string, activeAt?: string): Promise<FilterExemptionsTable[]> {
  let query = db.selectFrom('filter_exemptions').selectAll().where('school_id', '=', schoolId);
  if (activeAt) query = query.where('revoked_at', 'is', null).where('until', '>', activeAt);
  return query.orderBy('created_at', 'desc').orderBy('id').execute();
}

/** One exemption. */
export async function getExemption(db: Db, schoolId: string, id: string): Promise<FilterExemptionsTable | undefined> {
  return db.selectFrom('filter_exemptions').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

/** Records an exemption. */
export async function insertExemption(db: Db, row: FilterExemptionsTable): Promise<void> {
  await db.insertInto('filter_exemptions').values(row).execute();
}

/** Marks an exemption revoked (the row stays). */
export async function revokeExemption(db: Db, schoolId: string, id: string, patch: Pick<FilterExemptionsTable, 'revoked_at' | 'revoked_by' | 'revoke_reason'>): Promise<void> {
  await db.updateTable('filter_exemptions').set(patch).where('school_id', '=', schoolId).where('id', '=', id).execute();
}

/** Sanctions, newest first; `activeAt` keeps the ones neither lifted nor ended at that time. */
export async function sanctions(db: Db, schoolId: string, activeAt?: string): Promise<FilterSanctionsTable[]> {
  let query = db.selectFrom('filter_sanctions').selectAll().where('school_id', '=', schoolId);
  if (activeAt) query = query.where('lifted_at', 'is', null).where('until', '>', activeAt);
  return query.orderBy('created_at', 'desc').orderBy('id').execute();
}

/** One sanction. */
export async function getSanction(db: Db, schoolId: string, id: string): Promise<FilterSanctionsTable | undefined> {
  return db.selectFrom('filter_sanctions').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

/** Records a sanction. */
export async function insertSanction(db: Db, row: FilterSanctionsTable): Promise<void> {
  await db.insertInto('filter_sanctions').values(row).execute();
}

/** Marks a sanction lifted (the row stays: sanctions are never deleted). */
export async function liftSanction(db: Db, schoolId: string, id: string, patch: Pick<FilterSanctionsTable, 'lifted_at' | 'lifted_by' | 'lift_reason'>): Promise<void> {
  await db.updateTable('filter_sanctions').set(patch).where('school_id', '=', schoolId).where('id', '=', id).execute();
}

// ---- settings and the snapshot version ----------------------------------------

/** A school's stored filter settings, if any. */
export async function getSettings(db: Db, schoolId: string): Promise<FilterSettingsTable | undefined> {
  return db.selectFrom('filter_settings').selectAll().where('school_id', '=', schoolId).executeTakeFirst();
}

/** Stores a school's filter settings (insert the first time, update after). */
export async function upsertSettings(db: Db, row: FilterSettingsTable, exists: boolean): Promise<void> {
  if (!exists) {
    await db.insertInto('filter_settings').values(row).execute();
    return;
  }
  const { school_id, ...rest } = row;
  await db.updateTable('filter_settings').set(rest).where('school_id', '=', school_id).execute();
}

/** The school's current snapshot version and content hash. */
export async function getSnapshotState(db: Db, schoolId: string): Promise<FilterSnapshotStateTable | undefined> {
  return db.selectFrom('filter_snapshot_state').selectAll().where('school_id', '=', schoolId).executeTakeFirst();
}

/** Numbers new content: version 1 for a first snapshot, else one more, only if nobody moved it on meanwhile. */
export async function advanceSnapshotState(db: Db, schoolId: string, previous: FilterSnapshotStateTable | undefined, contentHash: string, at: string): Promise<void> {
  if (!previous) {
    await db
      .insertInto('filter_snapshot_state')
      .values({ school_id: schoolId, version: 1, content_hash: contentHash, changed_at: at })
      .onConflict((oc) => oc.column('school_id').doNothing())
      .execute();
    return;
  }
  await db
    .updateTable('filter_snapshot_state')
    .set({ version: Number(previous.version) + 1, content_hash: contentHash, changed_at: at })
    .where('school_id', '=', schoolId)
    .where('version', '=', previous.version)
    .execute();
}

// ---- unblock requests ---------------------------------------------------------

export async function insertUnblockRequest(db: Db, row: UnblockRequestsTable): Promise<void> {
  await db.insertInto('unblock_requests').values(row).execute();
}

/** A school's requests, newest first. */
export async function unblockRequests(db: Db, schoolId: string, status: UnblockRequestsTable['status'] | null, limit: number): Promise<UnblockRequestsTable[]> {
  let query = db.selectFrom('unblock_requests').selectAll().where('school_id', '=', schoolId);
  if (status) query = query.where('status', '=', status);
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** The open request a client already sent for a site since a time, if any (a second click is not a second request). */
export async function openRequestFrom(db: Db, schoolId: string, clientAddress: string, site: string, since: string): Promise<UnblockRequestsTable | undefined> {
  return db
    .selectFrom('unblock_requests')
    .selectAll()
    .where('school_id', '=', schoolId)
    .where('client_address', '=', clientAddress)
    .where('site', '=', site)
    .where('status', '=', 'open')
    .where('created_at', '>=', since)
    .executeTakeFirst();
}

/** How many requests a client sent since a time. */
export async function countRequestsFrom(db: Db, schoolId: string, clientAddress: string, since: string): Promise<number> {
  const row = await db
    .selectFrom('unblock_requests')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('school_id', '=', schoolId)
    .where('client_address', '=', clientAddress)
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
