/**
 * Single sign-on against a real OpenID provider (oidc-provider) on loopback,
 * driven like a browser: start → provider → (auto-approved) interaction →
 * callback → session. Checks the domain/tenant restriction, email linking to
 * existing accounts only, subject-based sign-in afterwards, and two-factor.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Provider from 'oidc-provider';
import pino from 'pino';
import { createSchoolgate, type Schoolgate } from '../app.ts';
import { createTestDatabase, DIALECTS, type TestDatabase, testConfig } from '../../test/support/dialects.ts';
import { CLI_ACTOR } from './auth.context.ts';
import type { Role } from './permissions.ts';

/** What the test IdP says about each of its users. */
type Claims = { sub: string; email?: string; email_verified?: boolean; hd?: string; tid?: string; name?: string };

/** A loopback OpenID provider whose interactions sign in `nextUser` without a form. */
async function startIdp() {
  const users = new Map<string, Claims>();
  const state = { nextUser: '' };
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    users,
    state,
    /** Starts the provider once the app's callback addresses are known. */
    configure(redirectUris: string[]) {
      const provider = new Provider(issuer, {
        clients: ['google-client', 'microsoft-client'].map((id) => ({
          client_id: id,
          client_secret: `${id}-secret`,
          redirect_uris: redirectUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
        })),
        claims: { openid: ['sub', 'hd', 'tid'], email: ['email', 'email_verified'], profile: ['name'] },
        // Google and Entra put these claims in the ID token itself.
        conformIdTokenClaims: false,
        features: { devInteractions: { enabled: false } },
        interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
        cookies: { keys: ['test-cookie-key'] },
        pkce: { required: () => true },
        findAccount: async (_ctx, sub) => {
          const claims = users.get(sub);
          return claims ? { accountId: sub, claims: async () => claims } : undefined;
        },
      });
      const callback = provider.callback();
      handler = (req, res) => {
        if (req.url?.startsWith('/interaction/')) {
          void (async () => {
            const details = await provider.interactionDetails(req, res);
            const grant = new provider.Grant({ accountId: state.nextUser, clientId: String(details.params.client_id) });
            grant.addOIDCScope('openid email profile');
            const grantId = await grant.save();
            await provider.interactionFinished(req, res, { login: { accountId: state.nextUser }, consent: { grantId } }, { mergeWithLastSubmission: false });
          })().catch((error) => {
            res.statusCode = 500;
            res.end(String(error));
          });
          return;
        }
        callback(req, res);
      };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Follows redirects like a browser, with a cookie jar per host:port; stops when leaving both servers or at the app's pages. */
async function browse(startUrl: string, jar: Map<string, Map<string, string>>) {
  let url = new URL(startUrl);
  for (let hop = 0; hop < 20; hop += 1) {
    const cookies = jar.get(url.host) ?? new Map<string, string>();
    jar.set(url.host, cookies);
    const response = await fetch(url, {
      redirect: 'manual',
      headers: cookies.size ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {},
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0/i.test(a.trim()) || /expires=Thu, 01 Jan 1970/i.test(a.trim()));
      if (expired || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      return { url, status: response.status, body: await response.text() };
    }
    await response.body?.cancel();
    url = new URL(location, url);
    // The app's own pages (/ and /sign-in) are where the journey ends.
    if (!url.pathname.startsWith('/api/') && !url.pathname.startsWith('/auth') && !url.pathname.startsWith('/interaction')) {
      return { url, status: response.status, body: '' };
    }
  }
  throw new Error('too many redirects');
}

for (const d of DIALECTS) {
  describe(`single sign-on with a real OpenID provider (${d.name})`, { skip: d.skip }, () => {
    let idp: Awaited<ReturnType<typeof startIdp>>;
    let db: TestDatabase;
    let app: Schoolgate;
    let base: string;
    let schoolId: string;

    before(async () => {
      idp = await startIdp();
      db = await createTestDatabase(d.name);
      app = await createSchoolgate(
        testConfig(db, {
          'auth.google': { issuer: idp.issuer, clientId: 'google-client', clientSecret: 'google-client-secret', hostedDomain: 'oakfield.sch.uk' },
          'auth.microsoft': { issuer: idp.issuer, tenantId: 'tenant-oakfield', clientId: 'microsoft-client', clientSecret: 'microsoft-client-secret' },
        }),
        { logger: pino({ level: 'silent' }) },
      );
      base = (await app.listen()).replace('[::1]', '127.0.0.1');
      idp.configure(['google', 'microsoft'].map((p) => `${base}/api/auth/sso/${p}/callback`));
      schoolId = (await app.schools.create(CLI_ACTOR, { name: 'Oakfield' })).id;
    });
    after(async () => {
      await app?.close();
      await db?.drop();
      await idp?.close();
    });

    async function person(email: string, roles: Role[] | null) {
      const p = await app.people.createPerson(CLI_ACTOR, schoolId, { kind: 'staff', givenName: 'Sam', familyName: 'Single', email });
      const account = roles ? (await app.auth.createAccount(CLI_ACTOR, schoolId, { personId: p.id, login: email, roles })).account : undefined;
      return { person: p, account };
    }

    async function signInAs(provider: 'google' | 'microsoft', sub: string) {
      idp.state.nextUser = sub;
      const jar = new Map<string, Map<string, string>>();
      const end = await browse(`${base}/api/auth/sso/${provider}/start`, jar);
      const session = jar.get(new URL(base).host)?.get('sg_session');
      return { end, session, error: end.url.searchParams.get('error') };
    }

    async function me(session: string) {
      const res = await fetch(`${base}/api/auth/me`, { headers: { cookie: `sg_session=${session}` } });
      return { status: res.status, body: (await res.json()) as any };
    }

    it('lists the configured providers', async () => {
      const res = await fetch(`${base}/api/auth/providers`);
      assert.deepEqual(await res.json(), { providers: [{ id: 'google', name: 'Google' }, { id: 'microsoft', name: 'Microsoft' }] });
    });

    it('signs in with Google by verified email to an existing account, then by subject only', async () => {
      const { account } = await person('sam.google@oakfield.sch.uk', ['staff']);
      idp.users.set('g-sub-1', { sub: 'g-sub-1', email: 'sam.google@oakfield.sch.uk', email_verified: true, hd: 'oakfield.sch.uk' });
      const first = await signInAs('google', 'g-sub-1');
      assert.equal(first.error, null, first.error ?? '');
      assert.equal(first.end.url.pathname, '/');
      assert.ok(first.session);
      const who = await me(first.session!);
      assert.equal(who.status, 200);
      assert.equal(who.body.account.id, account!.id);
      assert.equal(who.body.account.mfa.satisfied, true);

      // The provider's email changes: the subject still finds the account.
      idp.users.set('g-sub-1', { sub: 'g-sub-1', email: 'renamed@oakfield.sch.uk', email_verified: true, hd: 'oakfield.sch.uk' });
      const second = await signInAs('google', 'g-sub-1');
      assert.equal(second.error, null);
      assert.equal((await me(second.session!)).body.account.id, account!.id);

      // Another subject claiming the same email is someone else: refused.
      idp.users.set('g-sub-2', { sub: 'g-sub-2', email: 'sam.google@oakfield.sch.uk', email_verified: true, hd: 'oakfield.sch.uk' });
      const impostor = await signInAs('google', 'g-sub-2');
      assert.equal(impostor.session, undefined);
      assert.match(impostor.error ?? '', /linked to a different Google account/);
    });

    it('refuses a Google account from another domain (hd) or without one', async () => {
      await person('sam.other@oakfield.sch.uk', ['staff']);
      idp.users.set('g-sub-3', { sub: 'g-sub-3', email: 'sam.other@oakfield.sch.uk', email_verified: true, hd: 'elsewhere.sch.uk' });
      const wrong = await signInAs('google', 'g-sub-3');
      assert.equal(wrong.end.url.pathname, '/sign-in');
      assert.match(wrong.error ?? '', /oakfield\.sch\.uk/);
      assert.equal(wrong.session, undefined);
      idp.users.set('g-sub-4', { sub: 'g-sub-4', email: 'sam.other@oakfield.sch.uk', email_verified: true });
      assert.match((await signInAs('google', 'g-sub-4')).error ?? '', /oakfield\.sch\.uk/);
    });

    it('refuses an unknown email and never creates a person or account', async () => {
      const countPeople = async () => Number((await app.store.db.selectFrom('people').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      const countAccounts = async () => Number((await app.store.db.selectFrom('accounts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      const [people, accounts] = [await countPeople(), await countAccounts()];
      idp.users.set('g-sub-5', { sub: 'g-sub-5', email: 'stranger@oakfield.sch.uk', email_verified: true, hd: 'oakfield.sch.uk' });
      const result = await signInAs('google', 'g-sub-5');
      assert.match(result.error ?? '', /no Schoolgate account for stranger@oakfield\.sch\.uk/);
      // A person without an account is not enough either.
      await person('noaccount@oakfield.sch.uk', null);
      idp.users.set('g-sub-6', { sub: 'g-sub-6', email: 'noaccount@oakfield.sch.uk', email_verified: true, hd: 'oakfield.sch.uk' });
      assert.match((await signInAs('google', 'g-sub-6')).error ?? '', /no Schoolgate account/);
      assert.equal(await countPeople(), people + 1);
      assert.equal(await countAccounts(), accounts);
      // An unverified email does not link.
      idp.users.set('g-sub-7', { sub: 'g-sub-7', email: 'sam.google@oakfield.sch.uk', email_verified: false, hd: 'oakfield.sch.uk' });
      assert.match((await signInAs('google', 'g-sub-7')).error ?? '', /verified email/);
    });

    it('accepts only the school’s Entra tenant (tid) and still requires two-factor for admins', async () => {
      const { account } = await person('head@oakfield.sch.uk', ['admin']);
      idp.users.set('m-sub-1', { sub: 'm-sub-1', email: 'head@oakfield.sch.uk', tid: 'another-tenant' });
      const wrong = await signInAs('microsoft', 'm-sub-1');
      assert.equal(wrong.session, undefined);
      assert.match(wrong.error ?? '', /school Microsoft account/);
      idp.users.set('m-sub-2', { sub: 'm-sub-2', email: 'head@oakfield.sch.uk', tid: 'tenant-oakfield' });
      const ok = await signInAs('microsoft', 'm-sub-2');
      assert.equal(ok.error, null, ok.error ?? '');
      const who = await me(ok.session!);
      assert.equal(who.body.account.id, account!.id);
      assert.deepEqual(who.body.account.mfa, { enabled: false, required: true, satisfied: false });
      assert.equal(who.body.account.mustChangePassword, false, 'a one-time password is not asked for after SSO');
      const audit = await fetch(`${base}/api/audit`, { headers: { cookie: `sg_session=${ok.session}` } });
      assert.equal(audit.status, 401);
      assert.equal(((await audit.json()) as any).error, 'mfa_required');
    });

    it('refuses a callback that did not start in this browser', async () => {
      const res = await fetch(`${base}/api/auth/sso/google/callback?code=abc&state=xyz`, { redirect: 'manual' });
      assert.equal(res.status, 302);
      assert.match(res.headers.get('location') ?? '', /^\/sign-in\?error=/);
      const unknown = await fetch(`${base}/api/auth/sso/facebook/start`, { redirect: 'manual' });
      assert.match(unknown.headers.get('location') ?? '', /^\/sign-in\?error=.*not%20set%20up/);
    });
  });
}
