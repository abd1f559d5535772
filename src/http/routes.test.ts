/**
 * Walks every registered route: each declares who may call it, anonymous
 * callers are refused on everything that is not public, and every role is
 * refused exactly where the permission matrix says it must be.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import { MATRIX, PERMISSIONS, type Permission, ROLES, type Role } from '../auth/permissions.ts';
import { Client, signedIn } from '../../test/support/client.ts';
import { startTestApp, type TestApp } from '../../test/support/dialects.ts';
import { routeTable } from './server.ts';

const SPECIAL = new Set(['public', 'open', 'session', 'authenticated']);
const concrete = (url: string) => url.replace(/:[A-Za-z]+/g, randomUUID());
/** Routes that end the caller's session: called last, or not at all, by this walk. */
const SIGN_OUT = '/api/auth/sign-out';

describe('every route declares and enforces its access', () => {
  let t: TestApp;
  let schoolId: string;
  const clients = new Map<Role, Client>();
  before(async () => {
    t = await startTestApp('sqlite', { overrides: { 'auth.signInRatePerMinute': 10_000 } });
    schoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Walk School' })).id;
    for (const role of ROLES) clients.set(role, await signedIn(t.app, schoolId, [role]));
  });
  after(() => t?.close());

  it('has a declared, known access on every route', () => {
    const routes = routeTable(t.app.http);
    assert.ok(routes.length > 30, `expected the module routes, found ${routes.length}`);
    for (const route of routes) {
      assert.ok(SPECIAL.has(route.access) || (PERMISSIONS as readonly string[]).includes(route.access), `${route.method} ${route.url}: ${route.access}`);
    }
    // Everything under /api but the sign-in steps and the docs needs more than "public".
    const publicApi = routes.filter((r) => r.access === 'public' && r.url.startsWith('/api/') && !r.url.startsWith('/api/docs'));
    assert.deepEqual(
      publicApi.map((r) => `${r.method} ${r.url}`).filter((r) => !/\/api\/auth\/(sign-in|providers|sso\/)/.test(r)),
      [],
      'only sign-in, the provider list and SSO are public',
    );
  });

  it('refuses anonymous callers on every route that is not public', async () => {
    const anonymous = new Client(t.app);
    for (const route of routeTable(t.app.http).filter((r) => r.access !== 'public' && r.access !== 'open')) {
      const { status } = await anonymous.call(route.method as 'GET', concrete(route.url), route.method === 'GET' ? undefined : {});
      assert.equal(status, 401, `${route.method} ${route.url} without a session`);
    }
  });

  it('refuses each role (403) exactly where the matrix says, and lets it through elsewhere', async () => {
    const guarded = routeTable(t.app.http).filter((r) => !SPECIAL.has(r.access));
    for (const role of ROLES) {
      const client = clients.get(role)!;
      const allowed = new Set<Permission>(MATRIX[role]);
      for (const route of guarded) {
        // Read-only calls only for allowed roles: a walk must not change what it is walking over.
        if (allowed.has(route.access as Permission) && route.method !== 'GET') continue;
        const { status } = await client.call(route.method as 'GET', concrete(route.url), route.method === 'GET' ? undefined : {});
        if (allowed.has(route.access as Permission)) {
          assert.ok(![401, 403].includes(status), `${role} may ${route.method} ${route.url} (got ${status})`);
        } else {
          assert.equal(status, 403, `${role} must be refused ${route.method} ${route.url}`);
        }
      }
    }
  });

  it('lets every signed-in role use the routes open to any signed-in account', async () => {
    const open = routeTable(t.app.http).filter((r) => r.access === 'authenticated' && r.method === 'GET');
    for (const role of ROLES) {
      for (const route of open) {
        const { status } = await clients.get(role)!.call('GET', concrete(route.url));
        assert.ok(![401, 403].includes(status), `${role} GET ${route.url} (got ${status})`);
      }
    }
    assert.ok(routeTable(t.app.http).some((r) => r.url === SIGN_OUT), 'sign-out exists');
  });

  it('hides another school’s records as not found', async () => {
    const other = (await t.app.schools.create(CLI_ACTOR, { name: 'Other School' })).id;
    const stranger = await t.app.people.createPerson(CLI_ACTOR, other, { kind: 'pupil', givenName: 'Not', familyName: 'Yours' });
    const { status } = await clients.get('admin')!.call('GET', `/api/people/${stranger.id}`);
    assert.equal(status, 404);
  });
});
