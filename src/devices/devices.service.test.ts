import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import { rejectsWith } from '../../test/support/assertions.ts';
import { DIALECTS, startTestApp, type TestApp } from '../../test/support/dialects.ts';
import { profileIdentifier, stableUuid } from './devices.mobileconfig.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

for (const d of DIALECTS) {
  describe(`devices service (${d.name})`, { skip: d.skip }, () => {
    let t: TestApp;
    let schoolId: string;
    let otherSchoolId: string;
    before(async () => {
      t = await startTestApp(d.name);
      schoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Device School' })).id;
      otherSchoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Other School' })).id;
    });
    after(() => t?.close());

    it('adds a device and shows its token once: only the hash is stored, nothing secret is logged', async () => {
      const group = await t.app.people.createGroup(CLI_ACTOR, schoolId, { name: 'Pupils', kind: 'custom' });
      const owner = await t.app.people.createPerson(CLI_ACTOR, schoolId, { kind: 'staff', givenName: 'Grace', familyName: 'Hopper' });
      const { device, token } = await t.app.devices.create(CLI_ACTOR, schoolId, { name: 'Library iPad 3', platform: 'ipados', assetTag: 'OAK-1', groupId: group.id, ownerId: owner.id });
      assert.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
      assert.ok(!('tokenHash' in device) && !('token' in device));
      const [row] = await t.app.devices.forFilter(schoolId);
      assert.equal(row.tokenHash, sha256(token));
      const stored = JSON.stringify(await t.app.store.db.selectFrom('devices').selectAll().execute());
      assert.ok(!stored.includes(token), 'the token itself is not stored');
      const log = JSON.stringify(await t.app.audit.list(schoolId, { limit: 100 }));
      assert.ok(!log.includes(token) && !log.includes(sha256(token)), 'neither the token nor its hash is logged');
      assert.deepEqual((await t.app.devices.list(schoolId)).map((x) => x.name), ['Library iPad 3']);
      await rejectsWith(t.app.devices.get(otherSchoolId, device.id), 'not_found');
    });

    it('validates with issues that name the field, and refuses a second live device with the same asset tag', async () => {
      let error = await rejectsWith(t.app.devices.create(CLI_ACTOR, schoolId, { name: ' ', platform: 'toaster' as never }), 'validation');
      assert.deepEqual(error.issues.map((i) => i.where).sort(), ['name', 'platform']);
      error = await rejectsWith(t.app.devices.create(CLI_ACTOR, schoolId, { name: 'X', platform: 'android', ownerId: 'nobody', groupId: 'nothing' }), 'validation');
      assert.deepEqual(error.issues.map((i) => i.where).sort(), ['groupId', 'ownerId']);
      await rejectsWith(t.app.devices.create(CLI_ACTOR, schoolId, { name: 'Y', platform: 'android', assetTag: 'OAK-1' }), 'conflict');
    });

    it('rotates tokens, changes and retires devices; retired ones leave the filter and refuse changes', async () => {
      const { device, token } = await t.app.devices.create(CLI_ACTOR, schoolId, { name: 'Chromebook 12', platform: 'chromeos' });
      const rotated = await t.app.devices.rotateToken(CLI_ACTOR, schoolId, device.id);
      assert.notEqual(rotated.token, token);
      const hashes = (await t.app.devices.forFilter(schoolId)).map((x) => x.tokenHash);
      assert.ok(hashes.includes(sha256(rotated.token)) && !hashes.includes(sha256(token)));
      const renamed = await t.app.devices.update(CLI_ACTOR, schoolId, device.id, { name: 'Chromebook 12 (trolley B)', serial: 'SN123' });
      assert.deepEqual([renamed.name, renamed.serial], ['Chromebook 12 (trolley B)', 'SN123']);
      const retired = await t.app.devices.retire(CLI_ACTOR, schoolId, device.id, 'Screen broken');
      assert.ok(retired.retiredAt);
      await rejectsWith(t.app.devices.retire(CLI_ACTOR, schoolId, device.id), 'conflict');
      await rejectsWith(t.app.devices.rotateToken(CLI_ACTOR, schoolId, device.id), 'conflict');
      await rejectsWith(t.app.devices.update(CLI_ACTOR, schoolId, device.id, { name: 'Back' }), 'conflict');
      assert.ok(!(await t.app.devices.forFilter(schoolId)).some((x) => x.id === device.id));
      assert.ok(!(await t.app.devices.list(schoolId)).some((x) => x.id === device.id));
      assert.ok((await t.app.devices.list(schoolId, { includeRetired: true })).some((x) => x.id === device.id), 'the record stays');
      const actions = (await t.app.audit.list(schoolId, { limit: 50, targetId: device.id })).map((e) => e.action).reverse();
      assert.deepEqual(actions, ['device.create', 'device.token.rotate', 'device.update', 'device.retire']);
    });

    it('makes an Apple profile with a new token, for Apple platforms only', async () => {
      const { device, token } = await t.app.devices.create(CLI_ACTOR, schoolId, { name: 'Head’s iPad & <Pencil>', platform: 'ios' });
      const first = await t.app.devices.appleProfile(CLI_ACTOR, schoolId, device.id, 'https://filter.oakfield.example/');
      const [, newToken] = /https:\/\/filter\.oakfield\.example\/dns-query\/([A-Za-z0-9_-]{43})</.exec(first.profile) ?? [];
      assert.ok(newToken, first.profile);
      assert.notEqual(newToken, token);
      assert.ok((await t.app.devices.forFilter(schoolId)).some((x) => x.tokenHash === sha256(newToken)));
      assert.match(first.profile, /<key>PayloadType<\/key><string>com\.apple\.dnsSettings\.managed<\/string>/);
      assert.match(first.profile, /<key>DNSProtocol<\/key><string>HTTPS<\/string>/);
      assert.match(first.profile, /Head’s iPad &amp; &lt;Pencil&gt;/, 'names are escaped');
      assert.ok(first.profile.includes(`<string>${profileIdentifier(device.id)}</string>`));
      assert.ok(first.fileName.endsWith('.mobileconfig'));
      const second = await t.app.devices.appleProfile(CLI_ACTOR, schoolId, device.id, 'https://filter.oakfield.example');
      const uuids = (text: string) => [...text.matchAll(/<key>PayloadUUID<\/key><string>([0-9A-F-]{36})<\/string>/g)].map((m) => m[1]);
      assert.deepEqual(uuids(second.profile), uuids(first.profile), 'the same identifiers: a reinstall replaces the profile');
      assert.equal(uuids(first.profile).length, 2);
      assert.match(stableUuid('x'), /^[0-9A-F]{8}-[0-9A-F]{4}-8[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
      const android = await t.app.devices.create(CLI_ACTOR, schoolId, { name: 'Tablet', platform: 'android' });
      const error = await rejectsWith(t.app.devices.appleProfile(CLI_ACTOR, schoolId, android.device.id, 'https://x.example'), 'validation');
      assert.equal(error.issues[0].where, 'platform');
    });
  });
}
