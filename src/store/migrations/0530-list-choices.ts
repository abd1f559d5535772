/**
 * Which category lists an install uses: the switches on the built-in lists
 * (a row only where the school chose differently from the default), and the
 * school's own lists (from a URL, or uploaded and kept here so every node of
 * a scaled-out install compiles the same catalog). Install-wide, like the
 * catalog they compile into; who changed what is in the audit log.
 */
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('list_choices')
    .addColumn('list_id', t.text, (c) => c.primaryKey())
    .addColumn('enabled', t.flag, (c) => c.notNull())
    .addColumn('reason', t.text, (c) => c.notNull())
    .addColumn('changed_at', t.timestamp, (c) => c.notNull())
    .addColumn('changed_by', t.text, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('own_lists')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('use', t.text, (c) => c.notNull())
    .addColumn('category', t.text)
    .addColumn('format', t.text, (c) => c.notNull())
    .addColumn('url', t.text)
    .addColumn('content', t.text)
    .addColumn('content_bytes', t.integer)
    .addColumn('content_sha256', t.text)
    .addColumn('uploaded_at', t.timestamp)
    .addColumn('note', t.text, (c) => c.notNull())
    .addColumn('enabled', t.flag, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('created_by', t.text, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addColumn('removed_at', t.timestamp)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('own_lists').execute();
  await db.schema.dropTable('list_choices').execute();
}
