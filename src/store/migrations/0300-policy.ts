/**
 * The DNS filter's policy (issue 4): per-group policies, allow and deny
 * entries, schedules, the school calendar, exemptions, sanctions, the school's
 * filter settings and the snapshot version counter. Lists and settings that
 * are small and always read whole are JSON text (column-types.ts).
 * Exemptions and sanctions are records: they are revoked or lifted, never deleted.
 */
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);

  await db.schema
    .createTable('filter_group_policies')
    .addColumn('group_id', t.id, (c) => c.primaryKey().references('groups.id'))
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('priority', t.integer, (c) => c.notNull())
    .addColumn('blocked', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('scheduled', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('safe_search', t.flag, (c) => c.notNull().defaultTo(1))
    .addColumn('youtube', t.text, (c) => c.notNull().defaultTo('moderate'))
    .addColumn('filter_off', t.flag, (c) => c.notNull().defaultTo(0))
    .addColumn('filter_off_approved_by', t.text)
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_by', t.text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('filter_group_policies_school').on('filter_group_policies').column('school_id').execute();

  await db.schema
    .createTable('filter_entries')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('group_id', t.id, (c) => c.references('groups.id')) // null: the whole school
    .addColumn('list', t.text, (c) => c.notNull()) // allow | deny
    .addColumn('domain', t.text, (c) => c.notNull())
    .addColumn('reason', t.text, (c) => c.notNull())
    .addColumn('created_by', t.text, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('filter_entries_school').on('filter_entries').columns(['school_id', 'domain']).execute();

  await db.schema
    .createTable('filter_schedules')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('windows', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('school_days_only', t.flag, (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_by', t.text, (c) => c.notNull())
    .addUniqueConstraint('filter_schedules_school_name', ['school_id', 'name'])
    .execute();

  await db.schema
    .createTable('school_calendar')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('kind', t.text, (c) => c.notNull()) // term | closure
    .addColumn('label', t.text, (c) => c.notNull())
    .addColumn('start_date', t.date, (c) => c.notNull())
    .addColumn('end_date', t.date, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('school_calendar_school').on('school_calendar').columns(['school_id', 'start_date']).execute();

  await db.schema
    .createTable('filter_exemptions')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('domain', t.text)
    .addColumn('category', t.text)
    .addColumn('group_id', t.id, (c) => c.references('groups.id'))
    .addColumn('person_id', t.id, (c) => c.references('people.id'))
    .addColumn('device_id', t.id) // devices come in 0310; the service checks the id
    .addColumn('until', t.timestamp, (c) => c.notNull())
    .addColumn('reason', t.text, (c) => c.notNull())
    .addColumn('approved_by', t.text, (c) => c.notNull())
    .addColumn('created_by', t.text, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('revoked_at', t.timestamp)
    .addColumn('revoked_by', t.text)
    .addColumn('revoke_reason', t.text)
    .execute();
  await db.schema.createIndex('filter_exemptions_school').on('filter_exemptions').columns(['school_id', 'until']).execute();

  await db.schema
    .createTable('filter_sanctions')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('person_id', t.id, (c) => c.references('people.id'))
    .addColumn('device_id', t.id)
    .addColumn('until', t.timestamp, (c) => c.notNull())
    .addColumn('allow', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('reason', t.text, (c) => c.notNull())
    .addColumn('created_by', t.text, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('lifted_at', t.timestamp)
    .addColumn('lifted_by', t.text)
    .addColumn('lift_reason', t.text)
    .execute();
  await db.schema.createIndex('filter_sanctions_school').on('filter_sanctions').columns(['school_id', 'until']).execute();

  await db.schema
    .createTable('filter_settings')
    .addColumn('school_id', t.id, (c) => c.primaryKey().references('schools.id'))
    .addColumn('block_answer', t.text, (c) => c.notNull())
    .addColumn('block_ipv4', t.text)
    .addColumn('block_ipv6', t.text)
    .addColumn('blocked_ttl', t.integer, (c) => c.notNull())
    .addColumn('default_group_id', t.id, (c) => c.references('groups.id'))
    .addColumn('never_block_added', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('never_block_disabled', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('chromeos_salt', t.text)
    .addColumn('trusted_forwarders', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('conditional_forwarders', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_by', t.text, (c) => c.notNull())
    .execute();

  // One row per school: the snapshot version and the hash of the content it numbers.
  await db.schema
    .createTable('filter_snapshot_state')
    .addColumn('school_id', t.id, (c) => c.primaryKey().references('schools.id'))
    .addColumn('version', t.bigint, (c) => c.notNull())
    .addColumn('content_hash', t.text, (c) => c.notNull())
    .addColumn('changed_at', t.timestamp, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'filter_snapshot_state', 'filter_settings', 'filter_sanctions', 'filter_exemptions',
    'school_calendar', 'filter_schedules', 'filter_entries', 'filter_group_policies',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
