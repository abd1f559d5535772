import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import { Client, signedIn } from '../../test/support/client.ts';
import { DIALECTS, startTestApp, type TestApp } from '../../test/support/dialects.ts';
import { routeTable } from '../http/server.ts';

for (const d of DIALECTS) {
  describe(`filter policy routes (${d.name})`, { skip: d.skip }, () => {
    let t: TestApp;
    let schoolId: string;
    let groupId: string;
    let admin: Client;
    let dsl: Client;
    let head: Client;
    let staff: Client;
    before(async () => {
      t = await startTestApp(d.name, { overrides: { 'auth.signInRatePerMinute': 1000 } });
      schoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Route School' })).id;
      groupId = (await t.app.people.createGroup(CLI_ACTOR, schoolId, { name: 'Pupils', kind: 'custom' })).id;
      admin = await signedIn(t.app, schoolId, ['admin']);
      dsl = await signedIn(t.app, schoolId, ['dsl']);
      head = await signedIn(t.app, schoolId, ['head']);
      staff = await signedIn(t.app, schoolId, ['staff']);
    });
    after(() => t?.close());

    const body = (reason = 'Agreed at the online-safety meeting') => ({
      priority: 10,
      blocked: ['illegal', 'pornography', 'gambling', 'social_networks'],
      scheduled: [],
      safeSearch: true,
      youtube: 'strict',
      filterOff: false,
      reason,
    });

    it('lets admins change, admins, DSLs and heads read, and refuses everyone else', async () => {
      const url = `/api/filter/groups/${groupId}/policy`;
      for (const reader of [admin, dsl, head]) assert.equal((await reader.call('GET', url)).status, 200);
      assert.equal((await staff.call('GET', url)).status, 403);
      assert.equal((await new Client(t.app).call('GET', url)).status, 401);
      for (const writer of [dsl, head, staff]) assert.equal((await writer.call('PUT', url, body())).status, 403);
      assert.equal((await dsl.call('POST', '/api/filter/entries', { list: 'allow', domain: 'example.org', reason: 'x' })).status, 403);
      assert.equal((await head.call('POST', '/api/filter/sanctions', {})).status, 403);
      assert.equal((await staff.call('GET', '/api/filter/settings')).status, 403);
      assert.equal((await admin.call('PUT', url, body(), { csrf: false })).status, 403, 'CSRF is checked');
    });

    it('round-trips a group policy: PUT then GET', async () => {
      const url = `/api/filter/groups/${groupId}/policy`;
      const before = await admin.call('GET', url);
      assert.equal(before.body.policy.isDefault, true);
      const put = await admin.call('PUT', url, body());
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const got = await dsl.call('GET', url);
      assert.deepEqual(got.body, put.body);
      assert.deepEqual(got.body.policy.blocked, ['illegal', 'pornography', 'gambling', 'social_networks']);
      assert.equal(got.body.policy.isDefault, false);
      assert.match(got.body.policy.updatedBy, /Route Tester/);
      const list = await head.call('GET', '/api/filter/groups');
      assert.deepEqual(list.body.items.find((g: { groupId: string }) => g.groupId === groupId), got.body.policy);
      assert.equal((await admin.call('GET', '/api/filter/groups/nope/policy')).status, 404);
    });

    it('answers bad input with 400 and the field, illegal with a clear refusal', async () => {
      const url = `/api/filter/groups/${groupId}/policy`;
      const noReason = await admin.call('PUT', url, { ...body(), reason: '' });
      assert.equal(noReason.status, 400);
      assert.deepEqual(noReason.body.issues.map((i: { where: string }) => i.where), ['body.reason']);
      const illegal = await admin.call('PUT', url, { ...body(), blocked: ['pornography'] });
      assert.equal(illegal.status, 400);
      assert.match(illegal.body.message, /illegal category can never be unblocked/);
      assert.equal(illegal.body.issues[0].where, 'blocked');
      const category = await admin.call('PUT', url, { ...body(), blocked: ['illegal', 'tiktok'] });
      assert.equal(category.status, 400);
      assert.equal(category.body.issues[0].where, 'body.blocked.1');
      const domain = await admin.call('POST', '/api/filter/entries', { list: 'deny', domain: 'http://tiktok.com', reason: 'x' });
      assert.deepEqual([domain.status, domain.body.issues[0].where], [400, 'body.domain']);
      const exemption = await admin.call('POST', '/api/filter/exemptions', { category: 'illegal', groupId, until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'x' });
      assert.deepEqual([exemption.status, exemption.body.issues[0].where], [400, 'category']);
    });

    it('serves entries, schedules, calendar, exemptions, sanctions and settings', async () => {
      const entry = await admin.call('POST', '/api/filter/entries', { list: 'deny', domain: 'TikTok.com', groupId, reason: 'Distraction in lessons' });
      assert.equal(entry.status, 201, JSON.stringify(entry.body));
      assert.equal(entry.body.entry.domain, 'tiktok.com');
      assert.deepEqual((await dsl.call('GET', `/api/filter/entries?groupId=${groupId}`)).body.items.map((e: { id: string }) => e.id), [entry.body.entry.id]);
      assert.deepEqual((await dsl.call('GET', '/api/filter/entries?groupId=school')).body.items, []);
      assert.equal((await admin.call('DELETE', `/api/filter/entries/${entry.body.entry.id}`, { reason: 'Lessons changed' })).status, 200);

      const schedule = await admin.call('POST', '/api/filter/schedules', { name: 'School day', windows: [{ days: [1, 2, 3, 4, 5], start: '08:30', end: '15:30' }], schoolDaysOnly: true, reason: 'x' });
      assert.equal(schedule.status, 201, JSON.stringify(schedule.body));
      const badTime = await admin.call('POST', '/api/filter/schedules', { name: 'Late', windows: [{ days: [1], start: '24:00', end: '24:00' }], schoolDaysOnly: true, reason: 'x' });
      assert.deepEqual([badTime.status, badTime.body.issues[0].where], [400, 'body.windows.0.start']);
      const calendar = await admin.call('PUT', '/api/filter/calendar', { terms: [{ label: 'Autumn 1', start: '2025-09-02', end: '2025-10-24' }], closures: [{ date: '2025-09-02', label: 'INSET day' }], reason: 'Term dates' });
      assert.equal(calendar.status, 200, JSON.stringify(calendar.body));
      assert.deepEqual((await head.call('GET', '/api/filter/calendar')).body, calendar.body);

      const until = new Date(Date.now() + 3_600_000).toISOString();
      const exemption = await admin.call('POST', '/api/filter/exemptions', { domain: 'youtube.com', groupId, until, reason: 'Assembly video' });
      assert.equal(exemption.status, 201, JSON.stringify(exemption.body));
      const revoked = await admin.call('POST', `/api/filter/exemptions/${exemption.body.exemption.id}/revoke`, { reason: 'Assembly over' });
      assert.deepEqual([revoked.status, revoked.body.exemption.active], [200, false]);
      assert.deepEqual((await dsl.call('GET', '/api/filter/exemptions')).body.items, []);
      assert.equal((await dsl.call('GET', '/api/filter/exemptions?include=all')).body.items.length, 1);

      const person = await t.app.people.createPerson(CLI_ACTOR, schoolId, { kind: 'pupil', givenName: 'Sam', familyName: 'Sanctioned' });
      const sanction = await admin.call('POST', '/api/filter/sanctions', { personId: person.id, until, allow: ['classroom.google.com'], reason: 'Behaviour panel' });
      assert.equal(sanction.status, 201, JSON.stringify(sanction.body));
      const lifted = await admin.call('POST', `/api/filter/sanctions/${sanction.body.sanction.id}/lift`, { reason: 'Review' });
      assert.deepEqual([lifted.status, lifted.body.sanction.active], [200, false]);
      assert.equal((await dsl.call('GET', '/api/filter/sanctions?include=all')).body.items.length, 1);
      assert.ok(!routeTable(t.app.http).some((r) => r.method === 'DELETE' && /sanctions|exemptions/.test(r.url)), 'no route deletes a sanction or exemption');

      const settings = await admin.call('PUT', '/api/filter/settings', { blockedTtl: 3, chromeosSalt: 'a-secret-salt-1', reason: 'Set-up' });
      assert.equal(settings.status, 200, JSON.stringify(settings.body));
      const read = await head.call('GET', '/api/filter/settings');
      assert.deepEqual(read.body, settings.body);
      assert.equal(read.body.settings.chromeosSaltSet, true);
      assert.ok(!JSON.stringify(read.body).includes('a-secret-salt-1'), 'the salt is not shown again');
      const ttl = await admin.call('PUT', '/api/filter/settings', { blockedTtl: 60, reason: 'x' });
      assert.deepEqual([ttl.status, ttl.body.issues[0].where], [400, 'body.blockedTtl']);
    });
  });
}
