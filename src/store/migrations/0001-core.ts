/**
 * The first schema: schools, people, groups, networks, accounts, sessions and
 * the audit log. Every table that holds school data has `school_id` from here
 * on, so one install can serve a whole trust.
 */
import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(db);

  await db.schema
    .createTable('schools')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('urn', t.text)
    .addColumn('timezone', t.text, (c) => c.notNull().defaultTo('Europe/London'))
    .addColumn('settings', t.json, (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('people')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('kind', t.text, (c) => c.notNull())
    .addColumn('mis_id', t.text)
    .addColumn('given_name', t.text, (c) => c.notNull())
    .addColumn('family_name', t.text, (c) => c.notNull())
    .addColumn('preferred_name', t.text)
    .addColumn('email', t.text)
    .addColumn('date_of_birth', t.date)
    .addColumn('year_group', t.text)
    .addColumn('registration_group', t.text)
    .addColumn('start_date', t.date)
    .addColumn('leave_date', t.date)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('people_school_mis_id', ['school_id', 'mis_id'])
    .execute();
  await db.schema.createIndex('people_school_family_name').on('people').columns(['school_id', 'family_name']).execute();
  await db.schema.createIndex('people_school_email').on('people').columns(['school_id', 'email']).execute();

  await db.schema
    .createTable('parent_links')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('parent_id', t.id, (c) => c.notNull().references('people.id'))
    .addColumn('child_id', t.id, (c) => c.notNull().references('people.id'))
    .addColumn('relationship', t.text, (c) => c.notNull().defaultTo('parent'))
    .addColumn('parental_responsibility', t.flag, (c) => c.notNull().defaultTo(1))
    .addColumn('contact_priority', t.integer)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('parent_links_pair', ['parent_id', 'child_id'])
    .execute();
  await db.schema.createIndex('parent_links_child').on('parent_links').column('child_id').execute();

  await db.schema
    .createTable('groups')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('kind', t.text, (c) => c.notNull())
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('description', t.text)
    .addColumn('parent_id', t.id, (c) => c.references('groups.id'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('groups_school_kind_name', ['school_id', 'kind', 'name'])
    .execute();

  await db.schema
    .createTable('group_members')
    .addColumn('group_id', t.id, (c) => c.notNull().references('groups.id'))
    .addColumn('person_id', t.id, (c) => c.notNull().references('people.id'))
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('source', t.text, (c) => c.notNull().defaultTo('manual'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'person_id'])
    .execute();
  await db.schema.createIndex('group_members_person').on('group_members').column('person_id').execute();

  await db.schema
    .createTable('networks')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('cidr', t.text, (c) => c.notNull())
    .addColumn('group_id', t.id, (c) => c.references('groups.id'))
    .addColumn('description', t.text)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('networks_school_cidr', ['school_id', 'cidr'])
    .execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('person_id', t.id, (c) => c.notNull().unique().references('people.id'))
    .addColumn('login', t.text, (c) => c.notNull().unique())
    .addColumn('password_hash', t.text)
    .addColumn('password_changed_at', t.timestamp)
    .addColumn('must_change_password', t.flag, (c) => c.notNull().defaultTo(0))
    .addColumn('totp_secret', t.text)
    .addColumn('totp_confirmed_at', t.timestamp)
    .addColumn('failed_attempts', t.integer, (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', t.timestamp)
    .addColumn('last_sign_in_at', t.timestamp)
    .addColumn('disabled_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('updated_at', t.timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('account_roles')
    .addColumn('account_id', t.id, (c) => c.notNull().references('accounts.id'))
    .addColumn('role', t.text, (c) => c.notNull())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('account_roles_pk', ['account_id', 'role'])
    .execute();

  await db.schema
    .createTable('recovery_codes')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('account_id', t.id, (c) => c.notNull().references('accounts.id'))
    .addColumn('code_hash', t.text, (c) => c.notNull())
    .addColumn('used_at', t.timestamp)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('recovery_codes_account').on('recovery_codes').column('account_id').execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', t.id, (c) => c.primaryKey()) // SHA-256 of the cookie token, never the token itself
    .addColumn('account_id', t.id, (c) => c.notNull().references('accounts.id'))
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('csrf_token', t.text, (c) => c.notNull())
    .addColumn('mfa_passed', t.flag, (c) => c.notNull().defaultTo(0))
    .addColumn('ip', t.text)
    .addColumn('user_agent', t.text)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('last_seen_at', t.timestamp, (c) => c.notNull())
    .addColumn('expires_at', t.timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_account').on('sessions').column('account_id').execute();

  await db.schema
    .createTable('sso_identities')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('account_id', t.id, (c) => c.notNull().references('accounts.id'))
    .addColumn('provider', t.text, (c) => c.notNull())
    .addColumn('issuer', t.text, (c) => c.notNull())
    .addColumn('subject', t.text, (c) => c.notNull())
    .addColumn('email', t.text)
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addUniqueConstraint('sso_identities_subject', ['issuer', 'subject'])
    .execute();

  await db.schema
    .createTable('import_runs')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('school_id', t.id, (c) => c.notNull().references('schools.id'))
    .addColumn('created_by', t.id)
    .addColumn('file_name', t.text, (c) => c.notNull())
    .addColumn('file_sha256', t.text, (c) => c.notNull())
    .addColumn('preset', t.text, (c) => c.notNull())
    .addColumn('full_export', t.flag, (c) => c.notNull().defaultTo(0))
    .addColumn('status', t.text, (c) => c.notNull())
    .addColumn('summary', t.json, (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', t.timestamp, (c) => c.notNull())
    .addColumn('applied_at', t.timestamp)
    .execute();

  // Append-only and hash-chained: `seq` is assigned by the appender (not an
  // autoincrement) so a gap or a reorder is visible to `audit verify`.
  await db.schema
    .createTable('audit_log')
    .addColumn('seq', t.bigint, (c) => c.primaryKey())
    .addColumn('school_id', t.id)
    .addColumn('at', t.timestamp, (c) => c.notNull())
    .addColumn('actor_id', t.id)
    .addColumn('actor_label', t.text, (c) => c.notNull())
    .addColumn('action', t.text, (c) => c.notNull())
    .addColumn('target_type', t.text)
    .addColumn('target_id', t.text)
    .addColumn('details', t.json, (c) => c.notNull().defaultTo('{}'))
    .addColumn('ip', t.text)
    .addColumn('prev_hash', t.text, (c) => c.notNull())
    .addColumn('hash', t.text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_school_at').on('audit_log').columns(['school_id', 'at']).execute();
  await db.schema.createIndex('audit_log_target').on('audit_log').columns(['target_type', 'target_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'audit_log', 'import_runs', 'sso_identities', 'sessions', 'recovery_codes', 'account_roles',
    'accounts', 'networks', 'group_members', 'groups', 'parent_links', 'people', 'schools',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
