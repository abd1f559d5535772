/**
 * The admin's side of accounts (the users & roles page): list, create for an
 * existing person with a one-time password, change roles, disable, unlock,
 * reset two-factor, reset password. Every change is audited in its own
 * transaction; the last enabled admin of a school cannot be removed.
 */
import type { Actor } from '../audit/audit.service.ts';
import { DomainError, conflict, forbidden, invalid, notFound } from '../shared/errors.ts';
import { nowIso } from '../store/column-types.ts';
import type { AuthContext } from './auth.context.ts';
import { hashPassword, oneTimePassword } from './auth.passwords.ts';
import type { AuthCore } from './auth.service.ts';
import * as authStore from './auth.store.ts';
import type { AccountRow } from './auth.store.ts';
import type { Role } from './permissions.ts';

/** An account as the users & roles page shows it. */
export interface AccountView {
  id: string;
  login: string;
  name: string;
  personId: string;
  roles: Role[];
  mfaEnabled: boolean;
  lockedUntil: string | null;
  lastSignInAt: string | null;
  disabled: boolean;
}

/** The account-management half of the auth service. */
export interface AccountAdmin {
  listAccounts(schoolId: string, options: { q?: string; page: number; pageSize: number }): Promise<{ items: AccountView[]; total: number }>;
  createAccount(actor: Actor, schoolId: string, input: { personId: string; login: string; roles: Role[] }): Promise<{ account: AccountView; oneTimePassword: string }>;
  updateAccount(caller: AuthContext, actor: Actor, id: string, patch: { roles?: Role[]; disabled?: boolean }): Promise<AccountView>;
  unlockAccount(actor: Actor, schoolId: string, id: string): Promise<AccountView>;
  resetMfa(actor: Actor, schoolId: string, id: string): Promise<AccountView>;
  resetPassword(actor: Actor, schoolId: string, id: string): Promise<{ account: AccountView; oneTimePassword: string }>;
}

/** Sign-in names: an email address or a simple name, lower case. */
const LOGIN_PATTERN = /^[a-z0-9][a-z0-9._@+-]{1,253}$/;

/** Builds the account-admin functions over the auth service's core. */
export function createAccountAdmin(core: AuthCore): AccountAdmin {
  const { store, audit, people } = core.deps;
  const db = store.db;

  async function view(account: AccountRow): Promise<AccountView> {
    const person = await people.getPerson(account.school_id, account.person_id);
    return present(account, core.nameOf(person));
  }

  function present(account: AccountRow, name: string): AccountView {
    return {
      id: account.id,
      login: account.login,
      name,
      personId: account.person_id,
      roles: account.roles,
      mfaEnabled: account.totp_confirmed_at !== null,
      lockedUntil: account.locked_until && Date.parse(account.locked_until) > Date.now() ? account.locked_until : null,
      lastSignInAt: account.last_sign_in_at,
      disabled: account.disabled_at !== null,
    };
  }

  async function mustFind(schoolId: string, id: string): Promise<AccountRow> {
    const account = await authStore.accountById(db, schoolId, id);
    if (!account) throw notFound('Account');
    return account;
  }

  async function reload(account: AccountRow) {
    return view(await mustFind(account.school_id, account.id));
  }

  return {
    async listAccounts(schoolId, options) {
      const { total, rows } = await authStore.listAccounts(db, schoolId, options);
      return {
        total,
        items: rows.map((r) => present(r, `${r.preferred_name || r.given_name} ${r.family_name}`)),
      };
    },

    async createAccount(actor, schoolId, input) {
      const login = input.login.trim().toLowerCase();
      if (!LOGIN_PATTERN.test(login)) {
        throw invalid('Not a usable sign-in name', [{ where: 'login', message: 'use letters, digits and . _ @ + - (an email address is best)' }]);
      }
      const person = await people.getPerson(schoolId, input.personId);
      if (!person) throw invalid('No such person at this school', [{ where: 'personId', message: 'no person with this id' }]);
      if (await authStore.accountByPerson(db, schoolId, person.id)) throw conflict(`${core.nameOf(person)} already has an account`);
      if (await authStore.accountByLogin(db, login)) throw conflict(`The sign-in name ${login} is already used`);
      const password = oneTimePassword();
      const passwordHash = await hashPassword(password);
      const id = await audit.transaction(async (trx) => {
        const accountId = await authStore.insertAccount(trx, { schoolId, personId: person.id, login, passwordHash, mustChangePassword: true, roles: input.roles });
        await audit.append(trx, actor, {
          schoolId,
          action: 'account.create',
          targetType: 'account',
          targetId: accountId,
          details: { login, roles: input.roles, personId: person.id, name: core.nameOf(person) },
        });
        return accountId;
      });
      return { account: await view(await mustFind(schoolId, id)), oneTimePassword: password };
    },

    async updateAccount(caller, actor, id, patch) {
      const account = await mustFind(caller.schoolId, id);
      const roles = patch.roles ? [...new Set(patch.roles)] : account.roles;
      const disable = patch.disabled ?? account.disabled_at !== null;
      if (patch.disabled === true && account.id === caller.accountId) throw forbidden('You cannot disable your own account');
      const losesAdmin = account.roles.includes('admin') && account.disabled_at === null && (!roles.includes('admin') || disable);
      await audit.transaction(async (trx) => {
        if (losesAdmin && (await authStore.countActiveWithRole(trx, caller.schoolId, 'admin')) <= 1) {
          throw new DomainError('conflict', 'This is the school’s last admin account: give another account the admin role first');
        }
        if (patch.roles && roles.join() !== account.roles.join()) {
          await authStore.setRoles(trx, caller.schoolId, account.id, roles);
          await audit.append(trx, actor, {
            schoolId: caller.schoolId,
            action: 'account.roles.update',
            targetType: 'account',
            targetId: account.id,
            details: { login: account.login, before: account.roles, after: roles },
          });
        }
        if (patch.disabled !== undefined && patch.disabled !== (account.disabled_at !== null)) {
          await authStore.updateAccount(trx, account.id, { disabled_at: patch.disabled ? nowIso() : null });
          // A disabled account's sessions end now, not at their expiry.
          if (patch.disabled) await authStore.deleteSessionsOf(trx, account.id);
          await audit.append(trx, actor, {
            schoolId: caller.schoolId,
            action: patch.disabled ? 'account.disable' : 'account.enable',
            targetType: 'account',
            targetId: account.id,
            details: { login: account.login },
          });
        }
      });
      return reload(account);
    },

    async unlockAccount(actor, schoolId, id) {
      const account = await mustFind(schoolId, id);
      await audit.transaction(async (trx) => {
        await authStore.updateAccount(trx, account.id, { locked_until: null, failed_attempts: 0 });
        await audit.append(trx, actor, { schoolId, action: 'account.unlock', targetType: 'account', targetId: account.id, details: { login: account.login } });
      });
      return reload(account);
    },

    async resetMfa(actor, schoolId, id) {
      const account = await mustFind(schoolId, id);
      await audit.transaction(async (trx) => {
        await authStore.updateAccount(trx, account.id, { totp_secret: null, totp_pending_secret: null, totp_confirmed_at: null, totp_last_step: null });
        await authStore.replaceRecoveryCodes(trx, account.id, []);
        // Sessions that passed the old second factor must not outlive it.
        await authStore.deleteSessionsOf(trx, account.id);
        await audit.append(trx, actor, { schoolId, action: 'account.mfa.reset', targetType: 'account', targetId: account.id, details: { login: account.login } });
      });
      return reload(account);
    },

    async resetPassword(actor, schoolId, id) {
      const account = await mustFind(schoolId, id);
      const password = oneTimePassword();
      const hash = await hashPassword(password);
      await audit.transaction(async (trx) => {
        await authStore.updateAccount(trx, account.id, {
          password_hash: hash,
          password_changed_at: nowIso(),
          must_change_password: 1,
          failed_attempts: 0,
          locked_until: null,
        });
        await authStore.deleteSessionsOf(trx, account.id);
        await audit.append(trx, actor, { schoolId, action: 'account.password.reset', targetType: 'account', targetId: account.id, details: { login: account.login } });
      });
      return { account: await reload(account), oneTimePassword: password };
    },
  };
}
