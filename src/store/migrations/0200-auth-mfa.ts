/**
 * Auth additions: a TOTP enrolment kept apart from the active secret (so a
 * half-finished re-enrolment never disables the working one), the last TOTP
 * time step used (replay protection), and how a session was signed in.
 */
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('accounts').addColumn('totp_pending_secret', t.text).execute();
  await db.schema.alterTable('accounts').addColumn('totp_last_step', t.bigint).execute();
  await db.schema.alterTable('sessions').addColumn('method', t.text, (c) => c.notNull().defaultTo('password')).execute();
  await db.schema.createIndex('recovery_codes_hash').on('recovery_codes').column('code_hash').execute();
  await db.schema.createIndex('sso_identities_account').on('sso_identities').column('account_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sso_identities_account').execute();
  await db.schema.dropIndex('recovery_codes_hash').execute();
  await db.schema.alterTable('sessions').dropColumn('method').execute();
  await db.schema.alterTable('accounts').dropColumn('totp_last_step').execute();
  await db.schema.alterTable('accounts').dropColumn('totp_pending_secret').execute();
}
