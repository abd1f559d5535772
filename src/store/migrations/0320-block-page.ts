/**
 * The block page (issue 4): the school's monitoring notice and contact line
 * in the filter settings, and requests to review a block sent from the page.
 * Requests are kept with their outcome; none is deleted.
 */
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('filter_settings').addColumn('block_page_notice', t.text).execute();
  await db.schema.alterTable('filter_settings').addColumn('block_page_contact', t.text).execute();
  await db.schema
    .createTable('unblock_requests')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('site', t.text, (c) => c.notNull())
    .addColumn('categories', t.json, (c) => c.notNull())
    .addColumn('rule', t.text, (c) => c.notNull())
    .addColumn('reason', t.text, (c) => c.notNull())
    .addColumn('client_address', t.text, (c) => c.notNull())
    .addColumn('network_id', t.id)
    .addColumn('device_id', t.id)
    .addColumn('person_id', t.id)
    .addColumn('group_id', t.id)
    .addColumn('requester_name', t.text)
    .addColumn('message', t.text, (c) => c.notNull())
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('decided_at', t.timestamp)
    .addColumn('decided_by', t.text)
    .addColumn('decision_reason', t.text)
    .addColumn('exemption_id', t.id)
    .execute();
  await db.schema.createIndex('unblock_requests_school_status').on('unblock_requests').columns(['school_id', 'status', 'created_at']).execute();
  await db.schema.createIndex('unblock_requests_client').on('unblock_requests').columns(['client_address', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('unblock_requests').execute();
  await db.schema.alterTable('filter_settings').dropColumn('block_page_contact').execute();
  await db.schema.alterTable('filter_settings').dropColumn('block_page_notice').execute();
}
