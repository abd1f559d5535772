/**
 * The school's own known-good sites ("sites teachers rely on"): the
 * over-blocking report checks every group's policy against them, beside the
 * allow lists of the install's list sources. Who added or removed what, and
 * why, is in the audit log.
 */
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('known_good_sites')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('domain', t.text, (c) => c.notNull())
    .addColumn('note', t.text)
    .addColumn('created_by_account_id', t.id)
    .addColumn('created_by', t.text, (c) => c.notNull())
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('known_good_sites_school_domain', ['school_id', 'domain'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('known_good_sites').execute();
}
