/**
 * The auth service: sign-in with a password or single sign-on, sessions,
 * two-factor, password changes, and (through accounts.service.ts) the admin's
 * account management. Routes and the CLI call this; only auth.store.ts queries
 * the auth tables.
 */
import type { FastifyRequest } from 'fastify';
import type { Actor, AuditLog } from '../audit/audit.service.ts';
import type { Config } from '../config/config.ts';
import { hasLeft, localDate, type Person, type PeopleService } from '../people/people.service.ts';
import type { SchoolsService } from '../schools/schools.service.ts';
import { DomainError, forbidden, invalid, unauthenticated } from '../shared/errors.ts';
import { nowIso } from '../store/column-types.ts';
import type { Store } from '../store/store.ts';
import { type AccountAdmin, createAccountAdmin } from './accounts.service.ts';
import { type AuthContext, CLI_ACTOR, SYSTEM_ACTOR } from './auth.context.ts';
import { createSecretBox, sha256Hex } from './auth.crypto.ts';
import { createRateLimiter } from './auth.limiter.ts';
import { hashPassword, needsRehash, oneTimePassword, verifyAgainstDummy, verifyPassword } from './auth.passwords.ts';
import { assertPasswordAllowed, createHashFileLookup, type PasswordPolicy, policyFromSettings } from './auth.policy.ts';
import { expiryOf, newSession, readSessionToken, type SessionLifetimes } from './auth.sessions.ts';
import { createSsoClients, type SsoPending, type SsoProvider, SsoRefused } from './auth.sso.ts';
import * as authStore from './auth.store.ts';
import type { AccountRow } from './auth.store.ts';
import type { SessionsTable } from './auth.tables.ts';
import {
  checkTotp,
  enrolment,
  hashRecoveryCode,
  looksLikeRecoveryCode,
  newRecoveryCodes,
  newTotpSecret,
} from './auth.totp.ts';
import { permissionsOf, requiresMfa, type Role } from './permissions.ts';

/** What the caller must do next to finish signing in. */
export type NextStep = 'mfa' | 'mfa_setup' | 'change_password' | 'done';

/** The caller as `/api/auth/me` shows them. */
export interface MeView {
  account: {
    id: string;
    login: string;
    name: string;
    personId: string;
    roles: Role[];
    permissions: string[];
    mustChangePassword: boolean;
    mfa: { enabled: boolean; required: boolean; satisfied: boolean };
  };
  school: { id: string; name: string };
  csrfToken: string;
}

/** Where a request came from (for rate limits, audit and the session row). */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
  /** The session token the browser already holds, deleted at sign-in (rotation). */
  previousToken?: string;
}

/** A fresh session's cookie token and CSRF token. */
export interface IssuedSession {
  token: string;
  csrfToken: string;
  next: NextStep;
}

export interface AuthService extends AccountAdmin {
  /** The configured public address (for OIDC redirect URIs), if any. */
  readonly publicUrl?: string;
  /** Finds the caller from the session cookie; null without one. Throws a clear 401 on a dead session for non-public routes. */
  authenticate(request: FastifyRequest): Promise<AuthContext | null>;
  /** Creates the first admin of a new school (a staff person and an account) with a one-time password. */
  createFirstAdmin(schoolId: string): Promise<{ login: string; password: string }>;
  /** The SSO providers configured. */
  providers(): { id: SsoProvider; name: string }[];
  signIn(login: string, password: string, client: ClientInfo): Promise<IssuedSession>;
  me(auth: AuthContext): Promise<MeView>;
  verifyMfa(auth: AuthContext, code: string, client: ClientInfo): Promise<{ next: NextStep; token?: string }>;
  setupMfa(auth: AuthContext, client: ClientInfo): Promise<{ secret: string; otpauthUrl: string; qrDataUrl: string }>;
  confirmMfa(auth: AuthContext, code: string, client: ClientInfo): Promise<{ next: NextStep; token: string; recoveryCodes: string[] }>;
  changePassword(auth: AuthContext, currentPassword: string, newPassword: string, client: ClientInfo): Promise<{ next: NextStep }>;
  signOut(auth: AuthContext, client: ClientInfo): Promise<void>;
  /** Starts an SSO sign-in: the provider URL and the sealed value for the state cookie. */
  ssoStart(provider: string, redirectUri: string): Promise<{ url: string; cookie: string }>;
  /** Finishes an SSO sign-in; throws SsoRefused with a message for the sign-in page. */
  ssoFinish(provider: string, callbackUrl: URL, cookie: string | undefined, client: ClientInfo): Promise<{ token: string }>;
  /** Password policy of a school. */
  passwordPolicy(schoolId: string): Promise<PasswordPolicy>;
  setPasswordPolicy(actor: Actor, schoolId: string, policy: PasswordPolicy): Promise<PasswordPolicy>;
  /** `schoolgate admin create`: finds or creates a staff person by email and gives them an account with a role and a one-time password. */
  createAdmin(input: { email: string; givenName: string; familyName: string; role: Role; schoolId: string }): Promise<{
    login: string;
    password: string;
    personCreated: boolean;
    accountCreated: boolean;
  }>;
}

/** What the composition root passes in. */
export interface AuthDeps {
  store: Store;
  audit: AuditLog;
  schools: SchoolsService;
  people: PeopleService;
  config: Config['auth'];
  publicUrl?: string;
  /** The AES key file for TOTP secrets and the SSO cookie (`dataPaths().totpKey`). */
  keyFile?: string;
}

/** The shared insides the account-admin half also uses. */
export interface AuthCore {
  deps: AuthDeps;
  schoolInfo(schoolId: string): Promise<SchoolInfo>;
  forgetSchool(schoolId: string): void;
  checkNewPassword(password: string, schoolId: string, person: Person | undefined, login: string, field?: string): Promise<void>;
  nameOf(person: Person | undefined): string;
}

interface SchoolInfo {
  name: string;
  timezone: string;
  policy: PasswordPolicy;
  at: number;
}

const WRONG_CREDENTIALS = 'Wrong sign-in name or password';
const SESSION_EXPIRED = 'Your session has expired; sign in again';
// How often a session's last-seen time is written (not on every request).
const TOUCH_EVERY_MS = 60_000;
const SCHOOL_CACHE_MS = 30_000;

/** Builds the auth service. */
export function createAuthService(deps: AuthDeps): AuthService {
  const { store, audit, schools, people, config } = deps;
  const db = store.db;
  const lifetimes: SessionLifetimes = { idleMinutes: config.sessionIdleMinutes, absoluteHours: config.sessionAbsoluteHours };
  const box = createSecretBox(deps.keyFile ?? missingKeyFile());
  const signInLimiter = createRateLimiter(config.signInRatePerMinute);
  const breachFile = config.breachListFile ? createHashFileLookup(config.breachListFile) : undefined;
  const sso = createSsoClients(config);
  const schoolCache = new Map<string, SchoolInfo>();

  async function schoolInfo(schoolId: string): Promise<SchoolInfo> {
    const cached = schoolCache.get(schoolId);
    if (cached && Date.now() - cached.at < SCHOOL_CACHE_MS) return cached;
    const school = await schools.get(schoolId);
    const info: SchoolInfo = {
      name: school?.name ?? '',
      timezone: school?.timezone ?? 'Europe/London',
      policy: policyFromSettings(await schools.settings(schoolId)),
      at: Date.now(),
    };
    schoolCache.set(schoolId, info);
    return info;
  }

  const nameOf = (person: Person | undefined) =>
    person ? `${person.preferredName || person.givenName} ${person.familyName}` : '(unknown person)';

  async function checkNewPassword(password: string, schoolId: string, person: Person | undefined, login: string, field = 'newPassword') {
    const info = await schoolInfo(schoolId);
    assertPasswordAllowed(password, info.policy, {
      field,
      breachFile,
      context: { schoolName: info.name, login, names: [person?.givenName, person?.familyName, person?.preferredName] },
    });
  }

  const core: AuthCore = { deps, schoolInfo, forgetSchool: (id) => schoolCache.delete(id), checkNewPassword, nameOf };

  function passwordExpired(account: AccountRow, policy: PasswordPolicy): boolean {
    if (!policy.expiryDays || !account.password_hash) return false;
    const changed = Date.parse(account.password_changed_at ?? account.created_at);
    return Date.now() > changed + policy.expiryDays * 86_400_000;
  }

  function stepOf(account: AccountRow, session: Pick<SessionsTable, 'mfa_passed' | 'method'>, policy: PasswordPolicy): NextStep {
    const enabled = account.totp_confirmed_at !== null;
    if (enabled && !session.mfa_passed) return 'mfa';
    // A password change is due only when the password was what signed in.
    if (session.method === 'password' && (account.must_change_password === 1 || passwordExpired(account, policy))) return 'change_password';
    if (!enabled && requiresMfa(account.roles)) return 'mfa_setup';
    return 'done';
  }

  const accountActor = (account: AccountRow, person: Person | undefined, ip: string | null): Actor => ({
    id: account.id,
    label: `${nameOf(person)} (${account.roles.join(', ') || 'no role'})`,
    ip,
  });
  const anonymous = (ip: string | null): Actor => ({ id: null, label: 'sign-in attempt', ip });

  /** Why an account may not sign in now (disabled, no person, or left), else its person. */
  async function refusal(account: AccountRow): Promise<{ reason: string; message: string } | { reason: null; person: Person }> {
    if (account.disabled_at) {
      return { reason: 'disabled', message: 'This account has been disabled; ask the school’s admin if you need access' };
    }
    const person = await people.getPerson(account.school_id, account.person_id);
    if (!person) return { reason: 'no_person', message: 'This account is not linked to anyone at the school; ask the school’s admin' };
    const info = await schoolInfo(account.school_id);
    if (hasLeft(person, localDate(info.timezone))) {
      return { reason: 'left', message: `This account ended when you left the school (${person.leaveDate}); ask the school if you still need access` };
    }
    return { reason: null, person };
  }

  function lockedMessage(until: string, timezone: string) {
    const when = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(until));
    return `This account is locked after too many wrong attempts until ${when} (${timezone} time). Try again then, or ask an admin to unlock it`;
  }

  function rateLimit(key: string) {
    const result = signInLimiter.hit(key);
    if (!result.allowed) {
      throw new DomainError('rate_limited', `Too many sign-in attempts from your address; wait ${result.retryAfterSeconds} seconds and try again`);
    }
  }

  /** Counts a wrong password or code; locks the account at the limit. Returns the lock end when it locked now. */
  async function recordFailure(account: AccountRow, client: ClientInfo, kind: 'password' | 'mfa_code'): Promise<string | null> {
    return audit.transaction(async (trx) => {
      const failures = await authStore.addFailedAttempt(trx, account.id);
      const entry = { schoolId: account.school_id, targetType: 'account', targetId: account.id };
      await audit.append(trx, anonymous(client.ip), { ...entry, action: 'auth.sign_in.failed', details: { login: account.login, reason: `wrong_${kind}`, failures } });
      if (failures < config.lockoutAttempts) return null;
      const until = new Date(Date.now() + config.lockoutMinutes * 60_000).toISOString();
      await authStore.updateAccount(trx, account.id, { locked_until: until, failed_attempts: 0 });
      await audit.append(trx, anonymous(client.ip), { ...entry, action: 'auth.lockout', details: { login: account.login, until, failures } });
      return until;
    });
  }

  /** Audits a sign-in refused for a reason other than a wrong password. */
  async function recordRefusal(account: AccountRow, client: ClientInfo, details: Record<string, unknown>) {
    await audit.transaction((trx) =>
      audit.append(trx, anonymous(client.ip), {
        schoolId: account.school_id,
        action: 'auth.sign_in.refused',
        targetType: 'account',
        targetId: account.id,
        details: { login: account.login, ...details },
      }),
    );
  }

  async function assertNotLocked(account: AccountRow, client: ClientInfo) {
    if (account.locked_until && Date.parse(account.locked_until) > Date.now()) {
      await recordRefusal(account, client, { reason: 'locked', until: account.locked_until });
      throw new DomainError('locked', lockedMessage(account.locked_until, (await schoolInfo(account.school_id)).timezone));
    }
  }

  async function loadAccount(auth: AuthContext): Promise<AccountRow> {
    const account = await authStore.accountById(db, auth.schoolId, auth.accountId);
    if (!account) throw unauthenticated(SESSION_EXPIRED);
    return account;
  }

  async function loadSession(auth: AuthContext): Promise<SessionsTable> {
    const session = await authStore.sessionById(db, auth.sessionId);
    if (!session) throw unauthenticated(SESSION_EXPIRED);
    return session;
  }

  /** Replaces a session by a new one with a new id (after two-factor), keeping its CSRF token and creation time. */
  async function rotate(trx: Parameters<typeof authStore.insertSession>[0], session: SessionsTable, mfaPassed: boolean, client: ClientInfo) {
    const fresh = newSession({
      accountId: session.account_id,
      schoolId: session.school_id,
      method: session.method,
      mfaPassed,
      ip: client.ip,
      userAgent: client.userAgent,
      lifetimes,
      csrfToken: session.csrf_token,
      createdAt: session.created_at,
    });
    await authStore.deleteSession(trx, session.id);
    await authStore.insertSession(trx, fresh.row);
    return fresh;
  }

  async function startSession(account: AccountRow, method: 'password' | 'sso', client: ClientInfo, details: Record<string, unknown>, person?: Person) {
    const fresh = newSession({ accountId: account.id, schoolId: account.school_id, method, mfaPassed: false, ip: client.ip, userAgent: client.userAgent, lifetimes });
    const next = stepOf(account, fresh.row, (await schoolInfo(account.school_id)).policy);
    await audit.transaction(async (trx) => {
      // Rotation: whatever session this browser had is gone; the new one has a new id.
      if (client.previousToken) await authStore.deleteSession(trx, sha256Hex(client.previousToken));
      await authStore.insertSession(trx, fresh.row);
      await authStore.updateAccount(trx, account.id, { last_sign_in_at: nowIso(), failed_attempts: 0, locked_until: null });
      await audit.append(trx, accountActor(account, person, client.ip), {
        schoolId: account.school_id,
        action: 'auth.sign_in',
        targetType: 'account',
        targetId: account.id,
        details: { login: account.login, method, next, ...details },
      });
    });
    return { token: fresh.token, csrfToken: fresh.row.csrf_token, next };
  }

  async function newPersonAccount(actor: Actor, schoolId: string, personId: string, login: string, roles: Role[]) {
    const password = oneTimePassword();
    const passwordHash = await hashPassword(password);
    const accountId = await audit.transaction(async (trx) => {
      const id = await authStore.insertAccount(trx, { schoolId, personId, login, passwordHash, mustChangePassword: true, roles });
      await audit.append(trx, actor, { schoolId, action: 'account.create', targetType: 'account', targetId: id, details: { login, roles, personId } });
      return id;
    });
    return { accountId, password };
  }

  const admin = createAccountAdmin(core);

  const service: AuthService = {
    ...admin,
    publicUrl: deps.publicUrl,

    async authenticate(request) {
      const token = readSessionToken(request);
      if (!token) return null;
      // Public routes (the sign-in page itself) must work with a dead cookie.
      const isPublic = request.routeOptions.config?.access === 'public';
      const dead = (message: string) => {
        if (isPublic) return null;
        throw unauthenticated(message);
      };
      const session = await authStore.sessionById(db, sha256Hex(token));
      if (!session) return dead(SESSION_EXPIRED);
      const now = new Date();
      if (Date.parse(session.expires_at) <= now.getTime()) {
        await authStore.deleteSession(db, session.id);
        return dead(SESSION_EXPIRED);
      }
      const account = await authStore.accountById(db, session.school_id, session.account_id);
      if (!account) return dead(SESSION_EXPIRED);
      const refused = await refusal(account);
      if (refused.reason !== null) {
        await authStore.deleteSessionsOf(db, account.id);
        return dead(refused.message);
      }
      const person = refused.person;
      if (now.getTime() - Date.parse(session.last_seen_at) > TOUCH_EVERY_MS) {
        await authStore.touchSession(db, session.id, now.toISOString(), expiryOf(session.created_at, now, lifetimes));
      }
      const info = await schoolInfo(account.school_id);
      const step = stepOf(account, session, info.policy);
      return {
        accountId: account.id,
        personId: account.person_id,
        schoolId: account.school_id,
        name: nameOf(person),
        roles: account.roles,
        permissions: permissionsOf(account.roles),
        mfaSatisfied: step === 'done',
        sessionId: session.id,
        csrfToken: session.csrf_token,
        step,
      };
    },

    async createFirstAdmin(schoolId) {
      const person = await people.createPerson(SYSTEM_ACTOR, schoolId, { kind: 'staff', givenName: 'School', familyName: 'Admin' });
      let login = 'admin';
      for (let n = 2; await authStore.accountByLogin(db, login); n += 1) login = `admin${n}`;
      const { password } = await newPersonAccount(SYSTEM_ACTOR, schoolId, person.id, login, ['admin']);
      return { login, password };
    },

    providers() {
      return [...sso.values()].map((c) => ({ id: c.id, name: c.name }));
    },

    async signIn(loginInput, password, client) {
      rateLimit(`sign-in:${client.ip ?? 'unknown'}`);
      const login = loginInput.trim().toLowerCase();
      const account = await authStore.accountByLogin(db, login);
      if (!account || !account.password_hash) {
        // Same work as a real check, so timing does not reveal which names exist.
        await verifyAgainstDummy(password);
        await audit.transaction((trx) =>
          // The typed name is not recorded: people sometimes type their password into it.
          audit.append(trx, anonymous(client.ip), {
            schoolId: account?.school_id ?? null,
            action: 'auth.sign_in.failed',
            ...(account ? { targetType: 'account', targetId: account.id } : {}),
            details: { reason: account ? 'no_password_set' : 'unknown_login' },
          }),
        );
        throw unauthenticated(WRONG_CREDENTIALS);
      }
      await assertNotLocked(account, client);
      if (!(await verifyPassword(password, account.password_hash))) {
        const lockedUntil = await recordFailure(account, client, 'password');
        if (lockedUntil) throw new DomainError('locked', lockedMessage(lockedUntil, (await schoolInfo(account.school_id)).timezone));
        throw unauthenticated(WRONG_CREDENTIALS);
      }
      // Only now, with the right password, say why an account cannot be used.
      const refused = await refusal(account);
      if (refused.reason !== null) {
        await recordRefusal(account, client, { reason: refused.reason });
        throw unauthenticated(refused.message);
      }
      if (needsRehash(account.password_hash)) {
        await authStore.updateAccount(db, account.id, { password_hash: await hashPassword(password) });
      }
      return startSession(account, 'password', client, {}, refused.person);
    },

    async me(auth) {
      const account = await loadAccount(auth);
      const session = await loadSession(auth);
      const school = await schools.get(auth.schoolId);
      const enabled = account.totp_confirmed_at !== null;
      const required = requiresMfa(account.roles);
      return {
        account: {
          id: account.id,
          login: account.login,
          name: auth.name,
          personId: account.person_id,
          roles: account.roles,
          permissions: [...auth.permissions].sort(),
          mustChangePassword: (auth.step ?? 'done') === 'change_password',
          mfa: { enabled, required, satisfied: enabled ? session.mfa_passed === 1 : !required },
        },
        school: { id: auth.schoolId, name: school?.name ?? '' },
        csrfToken: session.csrf_token,
      };
    },

    async verifyMfa(auth, code, client) {
      rateLimit(`mfa:${client.ip ?? 'unknown'}`);
      const account = await loadAccount(auth);
      const session = await loadSession(auth);
      const policy = (await schoolInfo(auth.schoolId)).policy;
      if (!account.totp_secret || !account.totp_confirmed_at) {
        throw new DomainError('conflict', 'Two-factor sign-in is not set up for this account yet: set it up first');
      }
      if (session.mfa_passed) return { next: stepOf(account, session, policy) };
      await assertNotLocked(account, client);
      let method: 'totp' | 'recovery_code' | null = null;
      const trimmed = code.trim().replace(/\s/g, '');
      if (/^\d{6}$/.test(trimmed)) {
        const secret = box.open(account.totp_secret, `totp:${account.id}`);
        const step = checkTotp(secret, trimmed, account.totp_last_step === null ? null : Number(account.totp_last_step));
        if (step !== null && (await authStore.claimTotpStep(db, account.id, step))) method = 'totp';
      } else if (looksLikeRecoveryCode(trimmed)) {
        if (await authStore.useRecoveryCode(db, account.id, hashRecoveryCode(trimmed))) method = 'recovery_code';
      }
      if (!method) {
        const lockedUntil = await recordFailure(account, client, 'mfa_code');
        if (lockedUntil) throw new DomainError('locked', lockedMessage(lockedUntil, (await schoolInfo(account.school_id)).timezone));
        throw invalid('That code is not right (or was used already)', [{ where: 'code', message: 'is wrong, expired or already used' }]);
      }
      const person = await people.getPerson(account.school_id, account.person_id);
      const fresh = await audit.transaction(async (trx) => {
        const rotated = await rotate(trx, session, true, client);
        await authStore.updateAccount(trx, account.id, { failed_attempts: 0 });
        const left = method === 'recovery_code' ? await authStore.recoveryCodesLeft(trx, account.id) : undefined;
        await audit.append(trx, accountActor(account, person, client.ip), {
          schoolId: account.school_id,
          action: 'auth.mfa.verified',
          targetType: 'account',
          targetId: account.id,
          details: { method, ...(left === undefined ? {} : { recoveryCodesLeft: left }) },
        });
        return rotated;
      });
      return { next: stepOf(account, fresh.row, policy), token: fresh.token };
    },

    async setupMfa(auth, client) {
      const account = await loadAccount(auth);
      const step = auth.step ?? 'done';
      if (step === 'mfa') throw forbidden('Enter a code from your current authenticator first');
      if (step === 'change_password') throw forbidden('Choose your new password first');
      const secret = newTotpSecret();
      const info = await schoolInfo(account.school_id);
      // Kept apart from the active secret until confirmed: a half-done re-enrolment changes nothing.
      await audit.transaction(async (trx) => {
        await authStore.updateAccount(trx, account.id, { totp_pending_secret: box.seal(secret, `totp:${account.id}`) });
        await audit.append(trx, { id: account.id, label: auth.name, ip: client.ip }, {
          schoolId: account.school_id,
          action: 'auth.mfa.setup_started',
          targetType: 'account',
          targetId: account.id,
        });
      });
      const { otpauthUrl, qrDataUrl } = await enrolment(secret, account.login, info.name ? `Schoolgate (${info.name})` : 'Schoolgate');
      return { secret, otpauthUrl, qrDataUrl };
    },

    async confirmMfa(auth, code, client) {
      rateLimit(`mfa:${client.ip ?? 'unknown'}`);
      const account = await loadAccount(auth);
      const session = await loadSession(auth);
      const step = auth.step ?? 'done';
      if (step === 'mfa' || step === 'change_password') throw forbidden('Finish the earlier sign-in step first');
      if (!account.totp_pending_secret) throw new DomainError('conflict', 'Start two-factor setup first');
      const secret = box.open(account.totp_pending_secret, `totp:${account.id}`);
      const totpStep = checkTotp(secret, code.trim(), null);
      if (totpStep === null) {
        throw invalid('That code is not right: check the time on your phone and try the newest code', [{ where: 'code', message: 'does not match the new secret' }]);
      }
      const recoveryCodes = newRecoveryCodes();
      const person = await people.getPerson(account.school_id, account.person_id);
      const fresh = await audit.transaction(async (trx) => {
        await authStore.updateAccount(trx, account.id, {
          totp_secret: account.totp_pending_secret,
          totp_pending_secret: null,
          totp_confirmed_at: nowIso(),
          totp_last_step: totpStep,
        });
        await authStore.replaceRecoveryCodes(trx, account.id, recoveryCodes.map(hashRecoveryCode));
        const rotated = await rotate(trx, session, true, client);
        await audit.append(trx, accountActor(account, person, client.ip), {
          schoolId: account.school_id,
          action: 'auth.mfa.enabled',
          targetType: 'account',
          targetId: account.id,
          details: { recoveryCodes: recoveryCodes.length, reenrolled: account.totp_confirmed_at !== null },
        });
        return rotated;
      });
      const updated = { ...account, totp_confirmed_at: nowIso() };
      return { next: stepOf(updated, fresh.row, (await schoolInfo(account.school_id)).policy), token: fresh.token, recoveryCodes };
    },

    async changePassword(auth, currentPassword, newPassword, client) {
      rateLimit(`password:${client.ip ?? 'unknown'}`);
      const account = await loadAccount(auth);
      const session = await loadSession(auth);
      if (auth.step === 'mfa') throw new DomainError('mfa_required', 'Finish two-factor sign-in first');
      await assertNotLocked(account, client);
      if (!account.password_hash || !(await verifyPassword(currentPassword, account.password_hash))) {
        const lockedUntil = await recordFailure(account, client, 'password');
        if (lockedUntil) throw new DomainError('locked', lockedMessage(lockedUntil, (await schoolInfo(account.school_id)).timezone));
        throw invalid('Your current password is not right', [{ where: 'currentPassword', message: 'is not your current password' }]);
      }
      const person = await people.getPerson(account.school_id, account.person_id);
      await checkNewPassword(newPassword, account.school_id, person, account.login);
      if (newPassword === currentPassword) {
        throw invalid('Choose a password different from the current one', [{ where: 'newPassword', message: 'is the same as the current password' }]);
      }
      const hash = await hashPassword(newPassword);
      const now = nowIso();
      await audit.transaction(async (trx) => {
        await authStore.updateAccount(trx, account.id, { password_hash: hash, password_changed_at: now, must_change_password: 0, failed_attempts: 0 });
        // Anyone else holding a session with the old password is signed out.
        await authStore.deleteSessionsOf(trx, account.id, session.id);
        await audit.append(trx, accountActor(account, person, client.ip), {
          schoolId: account.school_id,
          action: 'auth.password.changed',
          targetType: 'account',
          targetId: account.id,
          details: { wasOneTime: account.must_change_password === 1 },
        });
      });
      const updated = { ...account, must_change_password: 0, password_changed_at: now };
      return { next: stepOf(updated, session, (await schoolInfo(account.school_id)).policy) };
    },

    async signOut(auth, client) {
      await audit.transaction(async (trx) => {
        await authStore.deleteSession(trx, auth.sessionId);
        await audit.append(trx, { id: auth.accountId, label: auth.name, ip: client.ip }, {
          schoolId: auth.schoolId,
          action: 'auth.sign_out',
          targetType: 'account',
          targetId: auth.accountId,
        });
      });
    },

    async ssoStart(provider, redirectUri) {
      const client = sso.get(provider as SsoProvider);
      if (!client) throw new DomainError('not_found', `Sign-in with ${provider} is not set up on this server`);
      const { url, pending } = await client.start(redirectUri);
      return { url, cookie: box.seal(JSON.stringify(pending), 'sso') };
    },

    async ssoFinish(provider, callbackUrl, cookie, clientInfo) {
      const client = sso.get(provider as SsoProvider);
      if (!client) throw new SsoRefused(`Sign-in with ${provider} is not set up on this server`);
      let pending: SsoPending;
      try {
        pending = JSON.parse(box.open(cookie ?? '', 'sso')) as SsoPending;
      } catch {
        throw new SsoRefused('This sign-in did not start in this browser (or took too long); try again');
      }
      if (pending.provider !== client.id) throw new SsoRefused('This sign-in started with another provider; try again');
      const fail = async (reason: string, message: string, account?: AccountRow, extra: Record<string, unknown> = {}) => {
        await audit.transaction((trx) =>
          audit.append(trx, anonymous(clientInfo.ip), {
            schoolId: account?.school_id ?? null,
            action: 'auth.sign_in.failed',
            ...(account ? { targetType: 'account', targetId: account.id } : {}),
            details: { method: 'sso', provider: client.id, reason, ...extra },
          }),
        );
        return new SsoRefused(message);
      };
      let identity;
      try {
        identity = await client.finish(callbackUrl, pending);
      } catch (error) {
        if (error instanceof SsoRefused) throw await fail('provider_refused', error.message);
        throw error;
      }
      let account: AccountRow | undefined;
      let linkedNow = false;
      const linked = await authStore.ssoIdentity(db, identity.issuer, identity.subject);
      if (linked) {
        account = await authStore.accountById(db, linked.school_id, linked.account_id);
      } else {
        // First sign-in: link by verified email to an existing account of an existing person.
        if (!identity.email) throw await fail('no_email', 'Your account did not share a verified email address');
        const matches: AccountRow[] = [];
        for (const school of await schools.list()) {
          const person = await people.findPersonByEmail(school.id, identity.email);
          const found = person && (await authStore.accountByPerson(db, school.id, person.id));
          if (found) matches.push(found);
        }
        if (matches.length !== 1) {
          throw await fail(matches.length ? 'ambiguous_email' : 'unknown_email', `There is no Schoolgate account for ${identity.email}; ask the school’s admin`, undefined, { email: identity.email });
        }
        account = matches[0];
        // Once linked, only the subject counts: another subject with the same email is someone else.
        if (await authStore.hasSsoIdentityAt(db, account.id, identity.issuer)) {
          throw await fail('linked_to_other_subject', `The Schoolgate account for ${identity.email} is linked to a different ${client.name} account; ask the school’s admin`, account);
        }
        linkedNow = true;
      }
      if (!account) throw await fail('unknown_account', 'There is no Schoolgate account for you; ask the school’s admin');
      const refused = await refusal(account);
      if (refused.reason !== null) throw await fail(refused.reason, refused.message, account);
      if (linkedNow) {
        const target = account;
        await audit.transaction(async (trx) => {
          await authStore.insertSsoIdentity(trx, { schoolId: target.school_id, accountId: target.id, provider: client.id, issuer: identity.issuer, subject: identity.subject, email: identity.email });
          await audit.append(trx, anonymous(clientInfo.ip), {
            schoolId: target.school_id,
            action: 'account.sso.linked',
            targetType: 'account',
            targetId: target.id,
            details: { provider: client.id, issuer: identity.issuer, email: identity.email },
          });
        });
      }
      const issued = await startSession(account, 'sso', clientInfo, { provider: client.id }, refused.person);
      return { token: issued.token };
    },

    async passwordPolicy(schoolId) {
      return policyFromSettings(await schools.settings(schoolId));
    },

    async setPasswordPolicy(actor, schoolId, policy) {
      const saved = await schools.updateSettings(actor, schoolId, { passwordPolicy: policy });
      schoolCache.delete(schoolId);
      return policyFromSettings(saved);
    },

    async createAdmin(input) {
      const school = await schools.get(input.schoolId);
      if (!school) throw invalid(`There is no school with id ${input.schoolId}`, [{ where: '--school', message: 'no such school' }]);
      const email = input.email.trim().toLowerCase();
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw invalid('Not an email address', [{ where: '--email', message: 'must be an email address' }]);
      const actor = CLI_ACTOR;
      let person = await people.findPersonByEmail(school.id, email);
      const personCreated = !person;
      person ??= await people.createPerson(actor, school.id, { kind: 'staff', givenName: input.givenName, familyName: input.familyName, email });
      const existing = await authStore.accountByPerson(db, school.id, person.id);
      if (!existing) {
        if (await authStore.accountByLogin(db, email)) throw new DomainError('conflict', `The sign-in name ${email} is used by another account`);
        const { password } = await newPersonAccount(actor, school.id, person.id, email, [input.role]);
        return { login: email, password, personCreated, accountCreated: true };
      }
      // An existing account: add the role and issue a one-time password (how a locked-out admin gets back in).
      const password = oneTimePassword();
      const hash = await hashPassword(password);
      const roles = [...new Set([...existing.roles, input.role])];
      await audit.transaction(async (trx) => {
        await authStore.setRoles(trx, school.id, existing.id, roles);
        await authStore.updateAccount(trx, existing.id, {
          password_hash: hash,
          password_changed_at: nowIso(),
          must_change_password: 1,
          failed_attempts: 0,
          locked_until: null,
          disabled_at: null,
        });
        await authStore.deleteSessionsOf(trx, existing.id);
        await audit.append(trx, actor, {
          schoolId: school.id,
          action: 'account.password.reset',
          targetType: 'account',
          targetId: existing.id,
          details: { login: existing.login, rolesBefore: existing.roles, roles, enabled: true },
        });
      });
      return { login: existing.login, password, personCreated, accountCreated: false };
    },
  };
  return service;
}

function missingKeyFile(): never {
  throw new Error('createAuthService needs keyFile (dataPaths(config).totpKey)');
}
