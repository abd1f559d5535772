/**
 * The auth module's queries: accounts, roles, sessions, recovery codes and
 * SSO identities. Functions take a `Db` so they run inside the caller's
 * transaction. The account list joins `people` read-only for names and search
 * (a read the people service does not offer yet); nothing here writes people.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { nowIso } from '../store/column-types.ts';
import type { Db } from '../store/store.ts';
import type { AccountsTable, SessionsTable } from './auth.tables.ts';
import { ROLES, type Role } from './permissions.ts';

/** An account row with its roles. */
export type AccountRow = AccountsTable & { roles: Role[] };

const isRole = (r: string): r is Role => (ROLES as readonly string[]).includes(r);

/** Roles of some accounts, by account id (sorted as in ROLES). */
export async function rolesOf(db: Db, accountIds: string[]): Promise<Map<string, Role[]>> {
  const map = new Map<string, Role[]>(accountIds.map((id) => [id, []]));
  if (accountIds.length === 0) return map;
  const rows = await db.selectFrom('account_roles').select(['account_id', 'role']).where('account_id', 'in', accountIds).execute();
  for (const row of rows) if (isRole(row.role)) map.get(row.account_id)?.push(row.role);
  for (const roles of map.values()) roles.sort((a, b) => ROLES.indexOf(a) - ROLES.indexOf(b));
  return map;
}

async function withRoles(db: Db, row: AccountsTable | undefined): Promise<AccountRow | undefined> {
  if (!row) return undefined;
  return { ...row, roles: (await rolesOf(db, [row.id])).get(row.id) ?? [] };
}

/** An account by its (lower-cased) sign-in name; logins are unique across the install. */
export async function accountByLogin(db: Db, login: string) {
  return withRoles(db, await db.selectFrom('accounts').selectAll().where('login', '=', login).executeTakeFirst());
}

/** An account by id within a school (another school's account does not exist). */
export async function accountById(db: Db, schoolId: string, id: string) {
  return withRoles(db, await db.selectFrom('accounts').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst());
}

/** The account of a person, if any. */
export async function accountByPerson(db: Db, schoolId: string, personId: string) {
  return withRoles(db, await db.selectFrom('accounts').selectAll().where('school_id', '=', schoolId).where('person_id', '=', personId).executeTakeFirst());
}

/** What a new account needs. */
export interface NewAccount {
  schoolId: string;
  personId: string;
  login: string;
  passwordHash: string | null;
  mustChangePassword: boolean;
  roles: Role[];
}

/** Inserts an account with its roles; returns its id. */
export async function insertAccount(db: Db, input: NewAccount): Promise<string> {
  const now = nowIso();
  const id = randomUUID();
  await db
    .insertInto('accounts')
    .values({
      id,
      school_id: input.schoolId,
      person_id: input.personId,
      login: input.login,
      password_hash: input.passwordHash,
      password_changed_at: input.passwordHash ? now : null,
      must_change_password: input.mustChangePassword ? 1 : 0,
      totp_secret: null,
      totp_confirmed_at: null,
      totp_pending_secret: null,
      totp_last_step: null,
      failed_attempts: 0,
      locked_until: null,
      last_sign_in_at: null,
      disabled_at: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  await setRoles(db, input.schoolId, id, input.roles);
  return id;
}

/** Replaces an account's roles. */
export async function setRoles(db: Db, schoolId: string, accountId: string, roles: Role[]) {
  await db.deleteFrom('account_roles').where('account_id', '=', accountId).execute();
  const now = nowIso();
  const unique = [...new Set(roles)];
  if (unique.length) {
    await db
      .insertInto('account_roles')
      .values(unique.map((role) => ({ account_id: accountId, role, school_id: schoolId, created_at: now })))
      .execute();
  }
}

/** Updates account columns (and `updated_at`). */
export async function updateAccount(db: Db, accountId: string, patch: Partial<Omit<AccountsTable, 'id' | 'school_id' | 'created_at'>>) {
  await db.updateTable('accounts').set({ ...patch, updated_at: nowIso() }).where('id', '=', accountId).execute();
}

/** Adds one to the wrong-password count and returns the new count. */
export async function addFailedAttempt(db: Db, accountId: string): Promise<number> {
  await db
    .updateTable('accounts')
    .set({ failed_attempts: sql`failed_attempts + 1`, updated_at: nowIso() })
    .where('id', '=', accountId)
    .execute();
  const row = await db.selectFrom('accounts').select('failed_attempts').where('id', '=', accountId).executeTakeFirstOrThrow();
  return Number(row.failed_attempts);
}

/** Records a TOTP step as used unless it (or a later one) was used already; false means a replay. */
export async function claimTotpStep(db: Db, accountId: string, step: number): Promise<boolean> {
  const result = await db
    .updateTable('accounts')
    .set({ totp_last_step: step })
    .where('id', '=', accountId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Enabled accounts of a school that hold a role. */
export async function countActiveWithRole(db: Db, schoolId: string, role: Role): Promise<number> {
  const row = await db
    .selectFrom('account_roles')
    .innerJoin('accounts', 'accounts.id', 'account_roles.account_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_roles.school_id', '=', schoolId)
    .where('account_roles.role', '=', role)
    .where('accounts.disabled_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A page of a school's accounts with the person's name, searched by login or name. */
export async function listAccounts(db: Db, schoolId: string, options: { q?: string; page: number; pageSize: number }) {
  let query = db
    .selectFrom('accounts')
    .innerJoin('people', 'people.id', 'accounts.person_id')
    .where('accounts.school_id', '=', schoolId);
  const q = options.q?.trim().toLowerCase();
  if (q) {
    const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([
        eb(sql`lower(accounts.login)`, 'like', sql`${like} escape '\\'`),
        eb(sql`lower(people.given_name || ' ' || people.family_name)`, 'like', sql`${like} escape '\\'`),
        eb(sql`lower(coalesce(people.preferred_name, ''))`, 'like', sql`${like} escape '\\'`),
      ]),
    );
  }
  const total = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await query
    .selectAll('accounts')
    .select(['people.given_name', 'people.family_name', 'people.preferred_name'])
    .orderBy('people.family_name')
    .orderBy('people.given_name')
    .orderBy('accounts.login')
    .limit(options.pageSize)
    .offset((options.page - 1) * options.pageSize)
    .execute();
  const roles = await rolesOf(db, rows.map((r) => r.id));
  return { total: Number(total.n), rows: rows.map((r) => ({ ...r, roles: roles.get(r.id) ?? [] })) };
}

/** A session by the SHA-256 of its token. */
export async function sessionById(db: Db, id: string): Promise<SessionsTable | undefined> {
  return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Stores a new session. */
export async function insertSession(db: Db, row: SessionsTable) {
  await db.insertInto('sessions').values(row).execute();
}

/** Deletes one session. */
export async function deleteSession(db: Db, id: string) {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

/** Deletes every session of an account, or all but one. */
export async function deleteSessionsOf(db: Db, accountId: string, except?: string) {
  let query = db.deleteFrom('sessions').where('account_id', '=', accountId);
  if (except) query = query.where('id', '!=', except);
  await query.execute();
}

/** Moves a session's activity forward (idle expiry). */
export async function touchSession(db: Db, id: string, lastSeenAt: string, expiresAt: string) {
  await db.updateTable('sessions').set({ last_seen_at: lastSeenAt, expires_at: expiresAt }).where('id', '=', id).execute();
}

/** Replaces an account's recovery codes with new hashes. */
export async function replaceRecoveryCodes(db: Db, accountId: string, hashes: string[]) {
  await db.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
  const now = nowIso();
  if (hashes.length) {
    await db
      .insertInto('recovery_codes')
      .values(hashes.map((code_hash) => ({ id: randomUUID(), account_id: accountId, code_hash, used_at: null, created_at: now })))
      .execute();
  }
}

/** Marks an unused recovery code used; false when there is none (wrong, or used already). */
export async function useRecoveryCode(db: Db, accountId: string, hash: string): Promise<boolean> {
  const result = await db
    .updateTable('recovery_codes')
    .set({ used_at: nowIso() })
    .where('account_id', '=', accountId)
    .where('code_hash', '=', hash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** How many unused recovery codes an account has left. */
export async function recoveryCodesLeft(db: Db, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The SSO identity for an issuer's subject. */
export async function ssoIdentity(db: Db, issuer: string, subject: string) {
  return db.selectFrom('sso_identities').selectAll().where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
}

/** Whether an account is already linked to some subject of an issuer. */
export async function hasSsoIdentityAt(db: Db, accountId: string, issuer: string): Promise<boolean> {
  const row = await db.selectFrom('sso_identities').select('id').where('account_id', '=', accountId).where('issuer', '=', issuer).executeTakeFirst();
  return row !== undefined;
}

/** Links an account to a provider's subject. */
export async function insertSsoIdentity(
  db: Db,
  row: { schoolId: string; accountId: string; provider: 'google' | 'microsoft'; issuer: string; subject: string; email: string | null },
) {
  await db
    .insertInto('sso_identities')
    .values({
      id: randomUUID(),
      school_id: row.schoolId,
      account_id: row.accountId,
      provider: row.provider,
      issuer: row.issuer,
      subject: row.subject,
      email: row.email,
      created_at: nowIso(),
    })
    .execute();
}
