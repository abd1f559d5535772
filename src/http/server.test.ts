/** The HTTP shell every module sits in: health, metrics, docs, errors, headers, limits. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import { startTestApp, type TestApp } from '../../test/support/dialects.ts';

describe('http server', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp('sqlite', { overrides: { 'http.bodyLimit': 1024 } });
  });
  after(() => t.close());

  it('answers /healthz when the store is reachable', async () => {
    const res = await t.app.http.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  it('serves Prometheus metrics', async () => {
    await t.app.http.inject({ method: 'GET', url: '/healthz' });
    const res = await t.app.http.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /schoolgate_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\}/);
  });

  it('serves the OpenAPI document with the module routes', async () => {
    const res = await t.app.http.inject({ method: 'GET', url: '/api/docs/json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.equal(doc.info.title, 'Schoolgate API');
    assert.ok(doc.paths['/api/audit'], 'the audit route is documented');
  });

  it('sends security headers', async () => {
    const res = await t.app.http.inject({ method: 'GET', url: '/healthz' });
    assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.match(String(res.headers['x-frame-options']), /SAMEORIGIN|DENY/);
  });

  it('refuses an oversized body with 413 and a clear message', async () => {
    const res = await t.app.http.inject({
      method: 'POST',
      url: '/api/auth/sign-in',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ filler: 'x'.repeat(4096) }),
    });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error, 'payload_too_large');
    assert.match(res.json().message, /larger than the 1024 bytes/);
  });

  it('answers unknown API routes with a JSON 404', async () => {
    const res = await t.app.http.inject({ method: 'GET', url: '/api/no-such-thing?secret=1' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error, 'not_found');
    assert.doesNotMatch(res.json().message, /secret/);
  });

  it('asks for sign-in on a guarded route', async () => {
    const res = await t.app.http.inject({ method: 'GET', url: '/api/audit' });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error, 'unauthenticated');
  });
});

describe('guard messages for an unfinished sign-in', () => {
  it('asks for a new password, not two-factor, when a password change is due', async () => {
    const t = await startTestApp('sqlite');
    try {
      const school = await t.app.schools.create(CLI_ACTOR, { name: 'Guard School' });
      const admin = await t.app.auth.createFirstAdmin(school.id);
      const signIn = await t.app.http.inject({ method: 'POST', url: '/api/auth/sign-in', payload: { login: admin.login, password: admin.password } });
      assert.equal(signIn.json().next, 'change_password');
      const cookie = signIn.cookies.find((c) => c.name === 'sg_session')!.value;
      const res = await t.app.http.inject({ method: 'GET', url: '/api/audit', cookies: { sg_session: cookie } });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().error, 'mfa_required');
      assert.match(res.json().message, /Choose a new password first/);
    } finally {
      await t.close();
    }
  });
});
