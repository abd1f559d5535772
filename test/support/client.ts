/** An HTTP caller for route tests: keeps the session cookie and CSRF token as the web app does. */
import assert from 'node:assert/strict';
import type { Schoolgate } from '../../src/app.ts';
import { CLI_ACTOR } from '../../src/auth/auth.context.ts';
import { currentTotp } from '../../src/auth/auth.totp.ts';
import type { Role } from '../../src/auth/permissions.ts';

/** A caller that keeps the session cookie and CSRF token the way the web app does. */
export class Client {
  cookie?: string;
  csrf?: string;
  readonly app: Schoolgate;
  constructor(app: Schoolgate) {
    this.app = app;
  }
  async call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, options: { csrf?: boolean } = {}) {
    const headers: Record<string, string> = {};
    if (this.csrf && method !== 'GET' && options.csrf !== false) headers['x-csrf-token'] = this.csrf;
    const response = await this.app.http.inject({
      method,
      url,
      headers,
      ...(body === undefined ? {} : { payload: body as object }),
      ...(this.cookie ? { cookies: { sg_session: this.cookie } } : {}),
    });
    const set = response.cookies.find((c) => c.name === 'sg_session');
    if (set) this.cookie = set.value || undefined;
    const json = response.body ? response.json() : undefined;
    if (json && typeof json.csrfToken === 'string') this.csrf = json.csrfToken;
    return { status: response.statusCode, body: json };
  }
}

/** Signs a new account with these roles all the way in (new password, and two-factor where the role needs it). */
export async function signedIn(app: Schoolgate, schoolId: string, roles: Role[]): Promise<Client> {
  const n = Math.random().toString(36).slice(2, 8);
  const person = await app.people.createPerson(CLI_ACTOR, schoolId, { kind: 'staff', givenName: 'Route', familyName: `Tester${n}`, email: `route.${n}@example.org` });
  const { account, oneTimePassword } = await app.auth.createAccount(CLI_ACTOR, schoolId, { personId: person.id, login: `route.${n}@example.org`, roles });
  const client = new Client(app);
  const first = await client.call('POST', '/api/auth/sign-in', { login: account.login, password: oneTimePassword });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const changed = await client.call('POST', '/api/auth/password', { currentPassword: oneTimePassword, newPassword: 'copper-lantern-meadow-47' });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  if (changed.body.next === 'mfa_setup') {
    const setup = await client.call('POST', '/api/auth/mfa/setup');
    const confirm = await client.call('POST', '/api/auth/mfa/confirm', { code: currentTotp(setup.body.secret) });
    assert.equal(confirm.body.next, 'done', JSON.stringify(confirm.body));
  }
  return client;
}
