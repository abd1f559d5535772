/**
 * Devices (issue 4, minimal): the school's devices with an owner and a group,
 * and the SHA-256 of each device's DNS-over-HTTPS path token (never the token).
 * Retiring sets `retired_at`; rows are kept for the asset history.
 */
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('devices')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('asset_tag', t.text)
    .addColumn('serial', t.text)
    .addColumn('platform', t.text, (c) => c.notNull())
    .addColumn('owner_id', t.id, (c) => c.references('people.id'))
    .addColumn('group_id', t.id, (c) => c.references('groups.id'))
    .addColumn('token_hash', t.text, (c) => c.notNull().unique())
    .addColumn('token_rotated_at', t.timestamp, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('retired_at', t.timestamp)
    .execute();
  await db.schema.createIndex('devices_school_name').on('devices').columns(['school_id', 'name']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('devices').execute();
}
