/** HTTPS served by Schoolgate itself: HSTS, and session cookies marked Secure. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import { startTestApp, type TestApp } from '../../test/support/dialects.ts';

const OPENSSL = ['/usr/bin/openssl', '/bin/openssl'].find((p) => existsSync(p));

function fetchTls(url: string, body?: object): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body ? JSON.stringify(body) : undefined;
    const req = request(
      url,
      {
        method: body ? 'POST' : 'GET',
        rejectUnauthorized: false, // the test's own self-signed certificate
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('TLS', { skip: OPENSSL ? false : 'openssl is not installed (needed to make a test certificate)' }, () => {
  let t: TestApp;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'schoolgate-tls-'));
    const certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    execFileSync(OPENSSL!, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    t = await startTestApp('sqlite', { listen: true, overrides: { 'http.tls.certFile': certFile, 'http.tls.keyFile': keyFile } });
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS with HSTS', async () => {
    assert.match(t.url, /^https:\/\//);
    const res = await fetchTls(`${t.url}/healthz`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/);
  });

  it('marks the session cookie Secure, httpOnly and SameSite', async () => {
    const school = await t.app.schools.create(CLI_ACTOR, { name: 'TLS School' });
    const admin = await t.app.auth.createFirstAdmin(school.id);
    const res = await fetchTls(`${t.url}/api/auth/sign-in`, { login: admin.login, password: admin.password });
    assert.equal(res.status, 200, res.text);
    const cookie = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('sg_session='));
    assert.ok(cookie, 'a session cookie is set');
    assert.match(cookie, /; Secure/i);
    assert.match(cookie, /; HttpOnly/i);
    assert.match(cookie, /; SameSite=Lax/i);
  });
});
