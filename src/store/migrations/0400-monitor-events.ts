/**
 * The DNS filter's events: one row per answered query, kept for the retention
 * period (90 days by default) and read by the monitor's views and alerts.
 * No id column: rows are written in batches and read by school and time.
 */
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('filter_events')
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('time', t.timestamp, (c) => c.notNull())
    .addColumn('client', t.text, (c) => c.notNull())
    .addColumn('transport', t.text, (c) => c.notNull())
    .addColumn('network_id', t.id)
    .addColumn('device_id', t.id)
    .addColumn('person_id', t.id)
    .addColumn('group_id', t.id)
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('qtype', t.integer, (c) => c.notNull())
    .addColumn('kind', t.text, (c) => c.notNull())
    .addColumn('rule', t.text, (c) => c.notNull())
    .addColumn('category', t.text)
    .addColumn('reason', t.text, (c) => c.notNull())
    .addColumn('matched', t.text)
    .addColumn('rcode', t.integer, (c) => c.notNull())
    .addColumn('cached', t.flag, (c) => c.notNull())
    .addColumn('latency_us', t.integer, (c) => c.notNull())
    .addColumn('upstream', t.text)
    .addColumn('policy_version', t.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('filter_events_school_time').on('filter_events').columns(['school_id', 'time']).execute();
  await db.schema.createIndex('filter_events_person_time').on('filter_events').columns(['person_id', 'time']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('filter_events').execute();
}
