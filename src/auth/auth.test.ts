/**
 * The sign-in journey over HTTP on both store dialects: password, rotation,
 * lockout, rate limit, expiry, CSRF, leavers, two-factor (TOTP and recovery
 * codes), password rules, the accounts API, and secrets kept out of the log.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createSchoolgate, type Schoolgate } from '../app.ts';
import { createLogger } from '../shared/logger.ts';
import { createTestDatabase, DIALECTS, type TestDatabase, testConfig } from '../../test/support/dialects.ts';
import { CLI_ACTOR } from './auth.context.ts';
import { sha256Hex } from './auth.crypto.ts';
import { currentTotp } from './auth.totp.ts';
import type { Role } from './permissions.ts';

const GOOD_PASSWORD = 'violet-harbour-teapot-91';

interface Http {
  status: number;
  body: any;
  cookie?: string;
  headers: Record<string, unknown>;
}

/** A tiny browser: keeps the session cookie and the CSRF token like the web app does. */
class Browser {
  cookie?: string;
  csrf?: string;
  readonly app: Schoolgate;
  readonly ip: string;
  constructor(app: Schoolgate, ip = '10.0.0.1') {
    this.app = app;
    this.ip = ip;
  }
  async call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, options: { csrf?: string | null } = {}): Promise<Http> {
    const headers: Record<string, string> = {};
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
    const response = await this.app.http.inject({
      method,
      url,
      headers,
      remoteAddress: this.ip,
      ...(body === undefined ? {} : { payload: body as object }),
      ...(this.cookie ? { cookies: { sg_session: this.cookie } } : {}),
    });
    const set = response.cookies.find((c) => c.name === 'sg_session');
    if (set) this.cookie = set.value || undefined;
    const parsed = response.headers['content-type']?.toString().includes('json') ? response.json() : response.body;
    if (parsed && typeof parsed === 'object' && typeof parsed.csrfToken === 'string') this.csrf = parsed.csrfToken;
    return { status: response.statusCode, body: parsed, cookie: set?.value, headers: response.headers };
  }
  signIn(login: string, password: string) {
    return this.call('POST', '/api/auth/sign-in', { login, password });
  }
}

/** A school with a person and an account holding `roles`; returns the login and one-time password. */
async function makeAccount(app: Schoolgate, schoolId: string, roles: Role[], extra: { leaveDate?: string } = {}) {
  const n = Math.random().toString(36).slice(2, 8);
  const person = await app.people.createPerson(CLI_ACTOR, schoolId, {
    kind: 'staff',
    givenName: 'Ada',
    familyName: `Tester${n}`,
    email: `ada.${n}@oakfield.sch.uk`,
    leaveDate: extra.leaveDate ?? null,
  });
  const { account, oneTimePassword } = await app.auth.createAccount(CLI_ACTOR, schoolId, { personId: person.id, login: `ada.${n}@oakfield.sch.uk`, roles });
  return { person, account, login: account.login, oneTimePassword };
}

/** Signs in with a one-time password, chooses a real one, and (for MFA roles) sets up TOTP. */
async function onboard(app: Schoolgate, schoolId: string, roles: Role[]) {
  const made = await makeAccount(app, schoolId, roles);
  const browser = new Browser(app);
  const first = await browser.signIn(made.login, made.oneTimePassword);
  assert.equal(first.status, 200);
  assert.equal(first.body.next, 'change_password');
  const changed = await browser.call('POST', '/api/auth/password', { currentPassword: made.oneTimePassword, newPassword: GOOD_PASSWORD });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  let secret: string | undefined;
  if (changed.body.next === 'mfa_setup') {
    const setup = await browser.call('POST', '/api/auth/mfa/setup');
    assert.equal(setup.status, 200);
    secret = setup.body.secret as string;
    const confirmAt = Date.now();
    const confirm = await browser.call('POST', '/api/auth/mfa/confirm', { code: currentTotp(secret, confirmAt) });
    assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
    assert.equal(confirm.body.next, 'done');
    return { ...made, browser, secret, confirmAt, recoveryCodes: confirm.body.recoveryCodes as string[] };
  }
  return { ...made, browser, secret, confirmAt: 0, recoveryCodes: [] as string[] };
}

for (const d of DIALECTS) {
  describe(`auth over HTTP (${d.name})`, { skip: d.skip }, () => {
    let db: TestDatabase;
    let app: Schoolgate;
    let schoolId: string;
    const logLines: string[] = [];

    before(async () => {
      db = await createTestDatabase(d.name);
      const capture = new Writable({
        write(chunk, _enc, done) {
          logLines.push(String(chunk));
          done();
        },
      });
      app = await createSchoolgate(testConfig(db, { 'auth.lockoutAttempts': 3, 'auth.signInRatePerMinute': 1000, 'log.level': 'trace' }), {
        logger: createLogger('trace', capture),
      });
      schoolId = (await app.schools.create(CLI_ACTOR, { name: 'Oakfield Primary' })).id;
    });
    after(async () => {
      await app?.close();
      await db?.drop();
    });

    it('signs an admin in through password change, TOTP setup and TOTP sign-in; rotates the session each time', async () => {
      const admin = await onboard(app, schoolId, ['admin']);
      assert.ok(admin.secret);
      assert.equal(admin.recoveryCodes.length, 10);
      const me = await admin.browser.call('GET', '/api/auth/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.account.login, admin.login);
      assert.deepEqual(me.body.account.mfa, { enabled: true, required: true, satisfied: true });
      assert.ok(me.body.account.permissions.includes('audit.read'));

      // A fresh sign-in: new session id, the old cookie no longer works.
      const browser = new Browser(app);
      browser.cookie = admin.browser.cookie;
      const oldCookie = admin.browser.cookie;
      const signIn = await browser.signIn(admin.login, GOOD_PASSWORD);
      assert.equal(signIn.status, 200);
      assert.equal(signIn.body.next, 'mfa');
      assert.notEqual(browser.cookie, oldCookie);
      const stale = new Browser(app);
      stale.cookie = oldCookie;
      assert.equal((await stale.call('GET', '/api/auth/me')).status, 401);
      const cookieHeader = String(signIn.headers['set-cookie']);
      assert.match(cookieHeader, /HttpOnly/i);
      assert.match(cookieHeader, /SameSite=Lax/i);
      assert.match(cookieHeader, /Path=\//);

      // Until the code is entered, the admin may use only the sign-in steps.
      const blocked = await browser.call('GET', '/api/audit');
      assert.equal(blocked.status, 401);
      assert.equal(blocked.body.error, 'mfa_required');

      // The code used at setup is a replay now; the next one works.
      const replay = await browser.call('POST', '/api/auth/mfa/verify', { code: currentTotp(admin.secret!, admin.confirmAt) });
      assert.equal(replay.status, 400);
      assert.equal(replay.body.issues[0].where, 'code');
      const beforeVerify = browser.cookie;
      const verified = await browser.call('POST', '/api/auth/mfa/verify', { code: currentTotp(admin.secret!, Date.now() + 30_000) });
      assert.equal(verified.status, 200, JSON.stringify(verified.body));
      assert.equal(verified.body.next, 'done');
      assert.notEqual(browser.cookie, beforeVerify, 'session id rotates when two-factor completes');
      assert.equal((await browser.call('GET', '/api/audit')).status, 200);

      const audit = await browser.call('GET', '/api/audit?limit=500');
      const actions = audit.body.entries.map((e: any) => e.action);
      for (const action of ['auth.sign_in', 'auth.mfa.enabled', 'auth.mfa.verified', 'auth.password.changed']) assert.ok(actions.includes(action), action);

      const out = await browser.call('POST', '/api/auth/sign-out');
      assert.equal(out.status, 200);
      const afterOut = new Browser(app);
      afterOut.cookie = beforeVerify;
      assert.equal((await browser.call('GET', '/api/auth/me')).status, 401);
    });

    it('blocks a role that needs two-factor until it is set up', async () => {
      const made = await makeAccount(app, schoolId, ['head']);
      const browser = new Browser(app);
      await browser.signIn(made.login, made.oneTimePassword);
      const pw = await browser.call('POST', '/api/auth/password', { currentPassword: made.oneTimePassword, newPassword: GOOD_PASSWORD });
      assert.equal(pw.body.next, 'mfa_setup');
      const blocked = await browser.call('GET', '/api/audit');
      assert.equal(blocked.status, 401);
      assert.equal(blocked.body.error, 'mfa_required');
      const me = await browser.call('GET', '/api/auth/me');
      assert.deepEqual(me.body.account.mfa, { enabled: false, required: true, satisfied: false });
    });

    it('keeps a one-time-password holder to the sign-in steps until the password is changed', async () => {
      const made = await makeAccount(app, schoolId, ['staff']);
      const browser = new Browser(app);
      const first = await browser.signIn(made.login, made.oneTimePassword);
      assert.equal(first.body.next, 'change_password');
      assert.equal((await browser.call('GET', '/api/auth/me')).body.account.mustChangePassword, true);
      const people = await browser.call('GET', '/api/audit');
      assert.equal(people.status, 401);
    });

    it('refuses a wrong password with 401, then locks the account with 423 saying until when; an admin unlocks it', async () => {
      const admin = await onboard(app, schoolId, ['admin']);
      await admin.browser.signIn(admin.login, GOOD_PASSWORD);
      await admin.browser.call('POST', '/api/auth/mfa/verify', { code: currentTotp(admin.secret!, Date.now() + 30_000) });
      const user = await onboard(app, schoolId, ['staff']);
      const browser = new Browser(app);
      const wrong = await browser.signIn(user.login, 'not-the-password');
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.message, 'Wrong sign-in name or password');
      const unknown = await browser.signIn('nobody@oakfield.sch.uk', 'not-the-password');
      assert.equal(unknown.status, 401);
      assert.equal(unknown.body.message, wrong.body.message);
      await browser.signIn(user.login, 'not-the-password');
      const locked = await browser.signIn(user.login, 'not-the-password');
      assert.equal(locked.status, 423);
      assert.equal(locked.body.error, 'locked');
      assert.match(locked.body.message, /locked .* until .*\d{2}:\d{2}/);
      // Even the right password is refused while locked.
      assert.equal((await browser.signIn(user.login, GOOD_PASSWORD)).status, 423);
      const list = await admin.browser.call('GET', `/api/accounts?q=${encodeURIComponent(user.login)}`);
      assert.equal(list.status, 200);
      assert.equal(list.body.total, 1);
      assert.ok(list.body.items[0].lockedUntil);
      const unlock = await admin.browser.call('POST', `/api/accounts/${user.account.id}/unlock`);
      assert.equal(unlock.status, 200, JSON.stringify(unlock.body));
      assert.equal(unlock.body.account.lockedUntil, null);
      assert.equal((await browser.signIn(user.login, GOOD_PASSWORD)).status, 200);
      const audit = await admin.browser.call('GET', '/api/audit?limit=500');
      const actions = audit.body.entries.map((e: any) => e.action);
      for (const a of ['auth.sign_in.failed', 'auth.lockout', 'auth.sign_in.refused', 'account.unlock']) assert.ok(actions.includes(a), a);
      assert.ok(!JSON.stringify(audit.body).includes('not-the-password'));
    });

    it('ends an expired session with a clear 401', async () => {
      const user = await onboard(app, schoolId, ['staff']);
      assert.equal((await user.browser.call('GET', '/api/auth/me')).status, 200);
      await app.store.db
        .updateTable('sessions')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where('id', '=', sha256Hex(user.browser.cookie!))
        .execute();
      const expired = await user.browser.call('GET', '/api/auth/me');
      assert.equal(expired.status, 401);
      assert.equal(expired.body.message, 'Your session has expired; sign in again');
      // A public route still works with the dead cookie (the sign-in page must load).
      assert.equal((await user.browser.call('GET', '/api/auth/providers')).status, 200);
    });

    it('refuses a state-changing request without, or with a forged, CSRF token', async () => {
      const user = await onboard(app, schoolId, ['staff']);
      const missing = await user.browser.call('POST', '/api/auth/sign-out', undefined, { csrf: null });
      assert.equal(missing.status, 403);
      assert.equal(missing.body.error, 'csrf');
      const forged = await user.browser.call('POST', '/api/auth/sign-out', undefined, { csrf: 'forged-token' });
      assert.equal(forged.status, 403);
      assert.equal((await user.browser.call('GET', '/api/auth/me')).status, 200);
    });

    it('refuses a leaver at sign-in and ends their existing sessions', async () => {
      const user = await onboard(app, schoolId, ['staff']);
      assert.equal((await user.browser.call('GET', '/api/auth/me')).status, 200);
      // Mark them as having left (the people module's import does this in real life).
      await app.store.db.updateTable('people').set({ leave_date: '2020-07-31' }).where('id', '=', user.person.id).execute();
      const existing = await user.browser.call('GET', '/api/auth/me');
      assert.equal(existing.status, 401);
      assert.match(existing.body.message, /left the school/);
      const again = await new Browser(app).signIn(user.login, GOOD_PASSWORD);
      assert.equal(again.status, 401);
      assert.match(again.body.message, /left the school \(2020-07-31\)/);
      // Someone leaving in the future can still sign in today.
      const future = await makeAccount(app, schoolId, ['staff'], { leaveDate: '2999-07-31' });
      assert.equal((await new Browser(app).signIn(future.login, future.oneTimePassword)).status, 200);
    });

    it('refuses a disabled account and ends its sessions', async () => {
      const admin = await onboard(app, schoolId, ['admin']);
      await admin.browser.signIn(admin.login, GOOD_PASSWORD);
      await admin.browser.call('POST', '/api/auth/mfa/verify', { code: currentTotp(admin.secret!, Date.now() + 30_000) });
      const user = await onboard(app, schoolId, ['staff']);
      const disabled = await admin.browser.call('PATCH', `/api/accounts/${user.account.id}`, { disabled: true });
      assert.equal(disabled.status, 200);
      assert.equal(disabled.body.account.disabled, true);
      assert.equal((await user.browser.call('GET', '/api/auth/me')).status, 401);
      const again = await new Browser(app).signIn(user.login, GOOD_PASSWORD);
      assert.equal(again.status, 401);
      assert.match(again.body.message, /disabled/);
    });

    it('accepts a recovery code once', async () => {
      const admin = await onboard(app, schoolId, ['dsl']);
      const code = admin.recoveryCodes[0];
      const browser = new Browser(app);
      assert.equal((await browser.signIn(admin.login, GOOD_PASSWORD)).body.next, 'mfa');
      const used = await browser.call('POST', '/api/auth/mfa/verify', { code: code.toUpperCase() });
      assert.equal(used.status, 200);
      assert.equal(used.body.next, 'done');
      const second = new Browser(app);
      await second.signIn(admin.login, GOOD_PASSWORD);
      const reused = await second.call('POST', '/api/auth/mfa/verify', { code });
      assert.equal(reused.status, 400);
      assert.equal(reused.body.issues[0].where, 'code');
      assert.equal((await second.call('POST', '/api/auth/mfa/verify', { code: admin.recoveryCodes[1] })).status, 200);
    });

    it('does not let a half-signed-in session replace an enrolled authenticator', async () => {
      const admin = await onboard(app, schoolId, ['admin']);
      const browser = new Browser(app);
      await browser.signIn(admin.login, GOOD_PASSWORD);
      const setup = await browser.call('POST', '/api/auth/mfa/setup');
      assert.equal(setup.status, 403);
      const pw = await browser.call('POST', '/api/auth/password', { currentPassword: GOOD_PASSWORD, newPassword: 'another-long-phrase-77' });
      assert.equal(pw.status, 401);
      assert.equal(pw.body.error, 'mfa_required');
    });

    it('applies the school’s password rules with issues on newPassword', async () => {
      const admin = await onboard(app, schoolId, ['admin']);
      await admin.browser.signIn(admin.login, GOOD_PASSWORD);
      await admin.browser.call('POST', '/api/auth/mfa/verify', { code: currentTotp(admin.secret!, Date.now() + 30_000) });
      const policy = await admin.browser.call('GET', '/api/settings/password-policy');
      assert.deepEqual(policy.body, { minLength: 12, checkBreached: true, expiryDays: null });

      const made = await makeAccount(app, schoolId, ['staff']);
      const browser = new Browser(app);
      await browser.signIn(made.login, made.oneTimePassword);
      for (const bad of ['short1!', 'Password2024!', 'qwertyuiop123', 'Oakfield2024!!']) {
        const r = await browser.call('POST', '/api/auth/password', { currentPassword: made.oneTimePassword, newPassword: bad });
        assert.equal(r.status, 400, bad);
        assert.equal(r.body.error, 'validation');
        assert.equal(r.body.issues[0].where, 'newPassword', bad);
      }
      const put = await admin.browser.call('PUT', '/api/settings/password-policy', { minLength: 16, checkBreached: false, expiryDays: 90 });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.deepEqual(put.body, { minLength: 16, checkBreached: false, expiryDays: 90 });
      const tooShort = await browser.call('POST', '/api/auth/password', { currentPassword: made.oneTimePassword, newPassword: 'fifteen-chars-x' });
      assert.match(tooShort.body.issues[0].message, /at least 16/);
      const bad = await admin.browser.call('PUT', '/api/settings/password-policy', { minLength: 3, checkBreached: true, expiryDays: null });
      assert.equal(bad.status, 400);
      await admin.browser.call('PUT', '/api/settings/password-policy', { minLength: 12, checkBreached: true, expiryDays: null });
    });

    it('asks for a new password once it is older than the policy’s expiry', async () => {
      const user = await onboard(app, schoolId, ['staff']);
      assert.equal((await new Browser(app).signIn(user.login, GOOD_PASSWORD)).body.next, 'done');
      await app.auth.setPasswordPolicy(CLI_ACTOR, schoolId, { minLength: 12, checkBreached: true, expiryDays: 30 });
      try {
        await app.store.db.updateTable('accounts').set({ password_changed_at: new Date(Date.now() - 31 * 86_400_000).toISOString() }).where('id', '=', user.account.id).execute();
        const browser = new Browser(app);
        assert.equal((await browser.signIn(user.login, GOOD_PASSWORD)).body.next, 'change_password');
        const changed = await browser.call('POST', '/api/auth/password', { currentPassword: GOOD_PASSWORD, newPassword: 'marble-otter-lantern-58' });
        assert.equal(changed.body.next, 'done');
      } finally {
        await app.auth.setPasswordPolicy(CLI_ACTOR, schoolId, { minLength: 12, checkBreached: true, expiryDays: null });
      }
    });

    it('manages accounts: create with a one-time password, roles, last admin kept, resets', async () => {
      const admin = await onboard(app, schoolId, ['admin']);
      await admin.browser.signIn(admin.login, GOOD_PASSWORD);
      await admin.browser.call('POST', '/api/auth/mfa/verify', { code: currentTotp(admin.secret!, Date.now() + 30_000) });
      const person = await app.people.createPerson(CLI_ACTOR, schoolId, { kind: 'staff', givenName: 'Bea', familyName: 'Newcomer', email: 'bea@oakfield.sch.uk' });
      const created = await admin.browser.call('POST', '/api/accounts', { personId: person.id, login: 'Bea@Oakfield.sch.uk', roles: ['staff'] });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.account.login, 'bea@oakfield.sch.uk');
      assert.equal(created.body.account.name, 'Bea Newcomer');
      assert.match(created.body.oneTimePassword, /^\S{23}$/);
      const dup = await admin.browser.call('POST', '/api/accounts', { personId: person.id, login: 'bea2@oakfield.sch.uk', roles: ['staff'] });
      assert.equal(dup.status, 409);
      const noPerson = await admin.browser.call('POST', '/api/accounts', { personId: 'nope', login: 'x@oakfield.sch.uk', roles: [] });
      assert.equal(noPerson.status, 400);
      const bea = new Browser(app);
      assert.equal((await bea.signIn('bea@oakfield.sch.uk', created.body.oneTimePassword)).body.next, 'change_password');

      const roles = await admin.browser.call('PATCH', `/api/accounts/${created.body.account.id}`, { roles: ['staff', 'dsl'] });
      assert.deepEqual(roles.body.account.roles, ['dsl', 'staff']);
      const reset = await admin.browser.call('POST', `/api/accounts/${created.body.account.id}/reset-password`);
      assert.equal(reset.status, 200);
      assert.ok(reset.body.oneTimePassword);
      assert.equal((await bea.call('GET', '/api/auth/me')).status, 401, 'reset password ends sessions');
      const resetMfa = await admin.browser.call('POST', `/api/accounts/${admin.account.id}/reset-mfa`);
      assert.equal(resetMfa.body.account.mfaEnabled, false);

      // Another school's account looks like one that does not exist.
      const other = (await app.schools.create(CLI_ACTOR, { name: 'Elsewhere' })).id;
      const foreign = await makeAccount(app, other, ['staff']);
      const admin2 = await onboard(app, schoolId, ['admin']);
      assert.equal((await admin2.browser.call('PATCH', `/api/accounts/${foreign.account.id}`, { disabled: true })).status, 404);
      const page = await admin2.browser.call('GET', '/api/accounts?pageSize=200');
      assert.ok(!page.body.items.some((a: any) => a.id === foreign.account.id));
      assert.equal((await admin2.browser.call('PATCH', `/api/accounts/${admin2.account.id}`, { disabled: true })).status, 403);

      // The school's last enabled admin keeps the role.
      const admins = (await admin2.browser.call('GET', '/api/accounts?pageSize=200')).body.items.filter((a: any) => a.roles.includes('admin') && !a.disabled);
      for (const a of admins) {
        if (a.id !== admin2.account.id) await admin2.browser.call('PATCH', `/api/accounts/${a.id}`, { roles: ['staff'] });
      }
      const last = await admin2.browser.call('PATCH', `/api/accounts/${admin2.account.id}`, { roles: ['staff'] });
      assert.equal(last.status, 409);
      assert.match(last.body.message, /last admin/);

      const staffOnly = new Browser(app);
      const staff = await onboard(app, schoolId, ['staff']);
      staffOnly.cookie = staff.browser.cookie;
      staffOnly.csrf = staff.browser.csrf;
      assert.equal((await staffOnly.call('GET', '/api/accounts')).status, 403);
    });

    it('creates the first admin with a one-time password that must be changed', async () => {
      const school = await app.schools.create(CLI_ACTOR, { name: 'Brand New' });
      const first = await app.auth.createFirstAdmin(school.id);
      assert.match(first.login, /^admin\d*$/);
      const browser = new Browser(app);
      assert.equal((await browser.signIn(first.login, first.password)).body.next, 'change_password');
    });

    it('never writes the password, TOTP secret or session token to the log', async () => {
      const user = await onboard(app, schoolId, ['admin']);
      const text = logLines.join('');
      assert.ok(text.includes('/api/auth/sign-in'), 'the log did capture the requests');
      for (const secret of [GOOD_PASSWORD, user.oneTimePassword, user.secret!, user.browser.cookie!, user.recoveryCodes[0]]) {
        assert.ok(!text.includes(secret), `a secret reached the log: ${secret.slice(0, 4)}…`);
      }
    });
  });
}

describe('sign-in rate limit', () => {
  it('answers 429 after too many tries from one address, while another address is unaffected', async () => {
    const db = await createTestDatabase('sqlite');
    const app = await createSchoolgate(testConfig(db, { 'auth.signInRatePerMinute': 3 }), { logger: pino({ level: 'silent' }) });
    try {
      const browser = new Browser(app, '10.9.9.9');
      for (let i = 0; i < 3; i += 1) assert.equal((await browser.signIn('someone', 'wrong-password')).status, 401);
      const limited = await browser.signIn('someone', 'wrong-password');
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error, 'rate_limited');
      assert.equal((await new Browser(app, '10.9.9.10').signIn('someone', 'wrong-password')).status, 401);
    } finally {
      await app.close();
      await db.drop();
    }
  });
});
