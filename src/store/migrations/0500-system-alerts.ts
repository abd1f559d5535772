/**
 * System alerts: problems with Schoolgate itself that an admin must see (a
 * list that cannot be refreshed, a failed self-test). One open row per
 * source and key, bumped while the problem lasts and resolved when it ends
 * or an admin dismisses it; rows are kept as the record of what went wrong.
 */
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('system_alerts')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.references('schools.id'))
    .addColumn('source', t.text, (c) => c.notNull())
    .addColumn('key', t.text, (c) => c.notNull())
    .addColumn('severity', t.text, (c) => c.notNull())
    .addColumn('title', t.text, (c) => c.notNull())
    .addColumn('detail', t.text, (c) => c.notNull())
    .addColumn('first_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_at', t.timestamp, (c) => c.notNull())
    .addColumn('times', t.integer, (c) => c.notNull())
    .addColumn('resolved_at', t.timestamp)
    .addColumn('resolved_by', t.text)
    .execute();
  await db.schema.createIndex('system_alerts_open').on('system_alerts').columns(['source', 'key', 'resolved_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('system_alerts').execute();
}
