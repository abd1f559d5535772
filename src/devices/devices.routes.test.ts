import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import { Client, signedIn } from '../../test/support/client.ts';
import { DIALECTS, startTestApp, type TestApp } from '../../test/support/dialects.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

for (const d of DIALECTS) {
  describe(`device routes (${d.name})`, { skip: d.skip }, () => {
    let t: TestApp;
    let schoolId: string;
    let admin: Client;
    let head: Client;
    before(async () => {
      t = await startTestApp(d.name, { overrides: { 'auth.signInRatePerMinute': 1000 } });
      schoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Oakfield Academy' })).id;
      admin = await signedIn(t.app, schoolId, ['admin']);
      head = await signedIn(t.app, schoolId, ['head', 'dsl']);
    });
    after(() => t?.close());

    it('is for admins only', async () => {
      assert.equal((await head.call('GET', '/api/devices')).status, 403);
      assert.equal((await head.call('POST', '/api/devices', { name: 'x', platform: 'ios' })).status, 403);
      assert.equal((await new Client(t.app).call('GET', '/api/devices')).status, 401);
      assert.equal((await admin.call('GET', '/api/devices')).status, 200);
    });

    it('adds a device, then downloads a profile whose URL has a new token; the old token leaves the snapshot', async () => {
      const created = await admin.call('POST', '/api/devices', { name: 'Library iPad 3', platform: 'ipados', assetTag: 'OAK-IPAD-003' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const { device, token: oldToken, dohUrl } = created.body;
      assert.equal(dohUrl, `http://localhost:80/dns-query/${oldToken}`, 'the address comes from the request when no public URL is set');
      assert.ok((await t.app.policy.snapshot(schoolId)).tokens.some((x) => x.tokenHash === sha256(oldToken)));
      assert.ok(!JSON.stringify((await admin.call('GET', `/api/devices/${device.id}`)).body).includes(oldToken), 'the token is shown once');

      const response = await t.app.http.inject({
        method: 'POST',
        url: `/api/devices/${device.id}/mobileconfig`,
        headers: { 'x-csrf-token': admin.csrf!, host: 'filter.oakfield.example', 'x-forwarded-proto': 'https' },
        cookies: { sg_session: admin.cookie! },
      });
      assert.equal(response.statusCode, 200, response.body);
      assert.match(String(response.headers['content-type']), /^application\/x-apple-aspen-config/);
      assert.match(String(response.headers['content-disposition']), /^attachment; filename="schoolgate-doh-library-ipad-3\.mobileconfig"$/);
      assert.ok(response.body.startsWith('<?xml') && response.body.includes('<plist version="1.0">'));
      const [, newToken] = /<key>ServerURL<\/key><string>http:\/\/filter\.oakfield\.example\/dns-query\/([A-Za-z0-9_-]{43})<\/string>/.exec(response.body) ?? [];
      assert.ok(newToken, response.body);
      assert.notEqual(newToken, oldToken);
      assert.ok(!response.body.includes(oldToken));
      const tokens = (await t.app.policy.snapshot(schoolId)).tokens.map((x) => x.tokenHash);
      assert.ok(tokens.includes(sha256(newToken)), 'the new token is in the snapshot');
      assert.ok(!tokens.includes(sha256(oldToken)), 'the old token no longer is');
    });

    it('changes, rotates and retires over HTTP', async () => {
      const { body } = await admin.call('POST', '/api/devices', { name: 'Chromebook 1', platform: 'chromeos' });
      const patched = await admin.call('PATCH', `/api/devices/${body.device.id}`, { serial: 'SN-1' });
      assert.deepEqual([patched.status, patched.body.device.serial], [200, 'SN-1']);
      const bad = await admin.call('PATCH', `/api/devices/${body.device.id}`, { platform: 'toaster' });
      assert.deepEqual([bad.status, bad.body.issues[0].where], [400, 'body.platform']);
      const rotated = await admin.call('POST', `/api/devices/${body.device.id}/rotate-token`);
      assert.equal(rotated.status, 200);
      assert.notEqual(rotated.body.token, body.token);
      const profile = await admin.call('POST', `/api/devices/${body.device.id}/mobileconfig`);
      assert.deepEqual([profile.status, profile.body.issues[0].where], [400, 'platform']);
      assert.equal((await admin.call('DELETE', `/api/devices/${body.device.id}`, { reason: 'Lost' })).status, 200);
      assert.ok(!(await admin.call('GET', '/api/devices')).body.items.some((x: { id: string }) => x.id === body.device.id));
      assert.ok((await admin.call('GET', '/api/devices?includeRetired=true')).body.items.some((x: { id: string }) => x.id === body.device.id));
      assert.equal((await admin.call('GET', '/api/devices/nope')).status, 404);
    });
  });
}
