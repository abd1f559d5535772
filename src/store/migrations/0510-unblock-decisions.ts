/**
 * Deciding unblock requests (issue 5): what kind of request it is (a site, or
 * filter-off for a person or group), who asked from the app, the status
 * page's unguessable token, the approval waiting for the DSL's agreement, the
 * DSL's (or head's) answer, and every exemption an approval made. Statuses
 * are text, so the new ones (`awaiting_dsl`) need no change of column.
 */
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  const add = (name: string, type: string, build?: (c: any) => any) =>
    db.schema.alterTable('unblock_requests').addColumn(name, type as any, build ?? ((c) => c)).execute();
  await add('kind', t.text, (c) => c.notNull().defaultTo('site'));
  await add('status_token', t.text);
  await add('account_id', t.id);
  await add('target_group_id', t.id);
  await add('target_person_id', t.id);
  await add('safeguarding', t.flag, (c) => c.notNull().defaultTo(0));
  await add('approval', t.json);
  await add('dsl_by', t.text);
  await add('dsl_at', t.timestamp);
  await add('dsl_reason', t.text);
  await add('exemption_ids', t.json);
  await db.schema.createIndex('unblock_requests_status_token').on('unblock_requests').column('status_token').unique().execute();
  await db.schema.createIndex('unblock_requests_account').on('unblock_requests').columns(['account_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('unblock_requests_account').execute();
  await db.schema.dropIndex('unblock_requests_status_token').execute();
  for (const name of ['exemption_ids', 'dsl_reason', 'dsl_at', 'dsl_by', 'approval', 'safeguarding', 'target_person_id', 'target_group_id', 'account_id', 'status_token', 'kind']) {
    await db.schema.alterTable('unblock_requests').dropColumn(name).execute();
  }
}
