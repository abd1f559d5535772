/** System alerts on both dialects: one open alert per source and key, resolved by the module or dismissed by an admin (audited), shown to the right school. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import { signedIn } from '../../test/support/client.ts';
import { DIALECTS, startTestApp, type TestApp } from '../../test/support/dialects.ts';

for (const d of DIALECTS) {
  describe(`system alerts (${d.name})`, { skip: d.skip }, () => {
    let t: TestApp;
    let schoolId: string;
    let otherId: string;
    before(async () => {
      t = await startTestApp(d.name);
      schoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Alert School', timezone: 'Europe/London' })).id;
      otherId = (await t.app.schools.create(CLI_ACTOR, { name: 'Other School', timezone: 'Europe/London' })).id;
    });
    after(() => t?.close());

    it('keeps one open alert per source and key, bumping it while the problem lasts, until resolved', async () => {
      const alerts = t.app.alerts;
      const first = await alerts.raise({ schoolId: null, source: 'lists', key: 'list:ut1:gambling', severity: 'warning', title: 'A list could not be refreshed', detail: 'HTTP 500' });
      const again = await alerts.raise({ schoolId: null, source: 'lists', key: 'list:ut1:gambling', severity: 'warning', title: 'A list could not be refreshed', detail: 'HTTP 502' });
      assert.equal(again.id, first.id);
      assert.equal(again.times, 2);
      assert.equal(again.detail, 'HTTP 502');
      const open = await alerts.list(schoolId, { open: true });
      assert.deepEqual(open.map((a) => [a.key, a.times]), [['list:ut1:gambling', 2]]);
      assert.equal(await alerts.resolve('lists', 'list:ut1:gambling'), true);
      assert.equal(await alerts.resolve('lists', 'list:ut1:gambling'), false, 'nothing open any more');
      assert.deepEqual(await alerts.list(schoolId, { open: true }), []);
      const all = await alerts.list(schoolId);
      assert.equal(all[0].resolvedBy, 'system', 'kept as the record');
      const reopened = await alerts.raise({ schoolId: null, source: 'lists', key: 'list:ut1:gambling', severity: 'warning', title: 'A list could not be refreshed', detail: 'HTTP 500' });
      assert.notEqual(reopened.id, first.id, 'a new problem is a new alert');
      await alerts.resolve('lists', 'list:ut1:gambling');
    });

    it('shows a school its own alerts and the install’s, never another school’s; an admin dismisses with a reason, audited', async () => {
      const own = await t.app.alerts.raise({ schoolId, source: 'checks', key: 'self-test:pupils', severity: 'critical', title: 'Illegal content is not blocked for Pupils', detail: 'x' });
      await t.app.alerts.raise({ schoolId: otherId, source: 'checks', key: 'self-test:other', severity: 'critical', title: 'Other', detail: 'y' });
      const admin = await signedIn(t.app, schoolId, ['admin']);
      const listed = await admin.call('GET', '/api/alerts');
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body.items.map((a: { key: string }) => a.key), ['self-test:pupils']);
      const foreign = (await t.app.alerts.list(otherId, { open: true }))[0];
      assert.equal((await admin.call('POST', `/api/alerts/${foreign.id}/dismiss`, { reason: 'not ours' })).status, 404);
      assert.equal((await admin.call('POST', `/api/alerts/${own.id}/dismiss`, {})).status, 400, 'a reason is needed');
      const dismissed = await admin.call('POST', `/api/alerts/${own.id}/dismiss`, { reason: 'fixed the pupil network mapping' });
      assert.equal(dismissed.status, 200, JSON.stringify(dismissed.body));
      assert.match(dismissed.body.resolvedBy, /Route Tester/);
      const audit = await t.app.audit.list(schoolId, { targetType: 'system_alert', limit: 10 });
      assert.equal(audit[0].action, 'alert.dismiss');
      assert.match(audit[0].details, /fixed the pupil network mapping/);
      const staff = await signedIn(t.app, schoolId, ['staff']);
      assert.equal((await staff.call('GET', '/api/alerts')).status, 403);
    });
  });
}
