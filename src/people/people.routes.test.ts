import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import { Client, signedIn } from '../../test/support/client.ts';
import { DIALECTS, startTestApp, type TestApp } from '../../test/support/dialects.ts';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

for (const d of DIALECTS) {
  describe(`people routes (${d.name})`, { skip: d.skip }, () => {
    let t: TestApp;
    let schoolId: string;
    let otherSchoolId: string;
    let admin: Client;
    let dsl: Client;
    before(async () => {
      t = await startTestApp(d.name, { overrides: { 'auth.signInRatePerMinute': 1000 } });
      schoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Route School' })).id;
      otherSchoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Elsewhere' })).id;
      admin = await signedIn(t.app, schoolId, ['admin']);
      dsl = await signedIn(t.app, schoolId, ['dsl']);
    });
    after(() => t?.close());

    it('refuses callers without a session, without CSRF or without the permission', async () => {
      const anonymous = new Client(t.app);
      for (const url of ['/api/people', '/api/groups', '/api/networks', '/api/people/import/presets']) {
        assert.equal((await anonymous.call('GET', url)).status, 401, url);
      }
      assert.equal((await anonymous.call('POST', '/api/people', { kind: 'staff', givenName: 'A', familyName: 'B' })).status, 401);
      const noCsrf = await admin.call('POST', '/api/people', { kind: 'staff', givenName: 'A', familyName: 'B' }, { csrf: false });
      assert.equal(noCsrf.status, 403);
      assert.equal(noCsrf.body.error, 'csrf');
      assert.equal((await dsl.call('GET', '/api/people')).status, 200, 'a DSL may read people');
      assert.equal((await dsl.call('POST', '/api/people', { kind: 'staff', givenName: 'A', familyName: 'B' })).status, 403);
      assert.equal((await dsl.call('GET', '/api/networks')).status, 403);
      assert.equal((await dsl.call('GET', '/api/people/import/presets')).status, 403);
    });

    it('creates, finds, shows and changes people', async () => {
      const created = await admin.call('POST', '/api/people', { kind: 'pupil', givenName: 'Maya', familyName: 'Patel', yearGroup: '9', registrationGroup: '9C', misId: 'R1', leaveDate: '2020-07-20' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const maya = created.body.person;
      assert.deepEqual(Object.keys(maya).sort(), ['dateOfBirth', 'email', 'familyName', 'givenName', 'id', 'kind', 'leaveDate', 'left', 'misId', 'preferredName', 'registrationGroup', 'startDate', 'yearGroup'].sort());
      assert.equal(maya.left, true);
      const bad = await admin.call('POST', '/api/people', { kind: 'pupil', givenName: 'X', familyName: 'Y', email: 'not-an-email', dateOfBirth: '2012-02-30' });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body.issues.map((i: { where: string }) => i.where).sort(), ['body.dateOfBirth', 'body.email']);
      const rule = await admin.call('POST', '/api/people', { kind: 'staff', givenName: 'X', familyName: 'Y', yearGroup: '9' });
      assert.equal(rule.status, 400);
      assert.equal(rule.body.issues[0].where, 'yearGroup');
      const clash = await admin.call('POST', '/api/people', { kind: 'staff', givenName: 'X', familyName: 'Y', misId: 'R1' });
      assert.equal(clash.status, 409);

      const list = await dsl.call('GET', '/api/people?q=PATEL&kind=pupil&pageSize=10');
      assert.equal(list.status, 200);
      assert.deepEqual([list.body.total, list.body.page, list.body.pageSize, list.body.items[0].id], [1, 1, 10, maya.id]);
      assert.equal((await dsl.call('GET', '/api/people?kind=martian')).status, 400);

      const detail = await dsl.call('GET', `/api/people/${maya.id}`);
      assert.equal(detail.status, 200);
      assert.deepEqual(detail.body.groups.map((g: { name: string }) => g.name).sort(), ['9C', 'Year 9']);
      assert.deepEqual([detail.body.parents, detail.body.children], [[], []]);
      const elsewhere = await t.app.people.createPerson(CLI_ACTOR, otherSchoolId, { kind: 'staff', givenName: 'Hidden', familyName: 'Person' });
      assert.equal((await admin.call('GET', `/api/people/${elsewhere.id}`)).status, 404, "another school's person does not exist here");
      assert.equal((await admin.call('PATCH', `/api/people/${elsewhere.id}`, { givenName: 'x' })).status, 404);

      const patched = await admin.call('PATCH', `/api/people/${maya.id}`, { leaveDate: null, preferredName: 'May' });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual([patched.body.person.left, patched.body.person.preferredName], [false, 'May']);
    });

    it('keeps groups and members', async () => {
      const parent = await admin.call('POST', '/api/groups', { name: 'Clubs', kind: 'custom' });
      assert.equal(parent.status, 201);
      const child = await admin.call('POST', '/api/groups', { name: 'Chess', kind: 'custom', parentId: parent.body.group.id, description: 'Tuesdays' });
      assert.equal(child.status, 201);
      const cycle = await admin.call('PATCH', `/api/groups/${parent.body.group.id}`, { parentId: child.body.group.id });
      assert.equal(cycle.status, 400);
      assert.equal(cycle.body.issues[0].where, 'parentId');
      const maya = (await admin.call('GET', '/api/people?q=maya')).body.items[0];
      const added = await admin.call('POST', `/api/groups/${child.body.group.id}/members`, { personIds: [maya.id] });
      assert.deepEqual([added.status, added.body.added], [200, 1]);
      const detail = await dsl.call('GET', `/api/groups/${parent.body.group.id}`);
      assert.equal(detail.status, 200);
      assert.deepEqual([detail.body.members.total, detail.body.children[0].name, detail.body.children[0].memberCount], [0, 'Chess', 1]);
      assert.equal((await dsl.call('GET', `/api/people?groupId=${parent.body.group.id}`)).body.total, 1, 'nested members count in the filter');
      const listed = await dsl.call('GET', '/api/groups?kind=custom');
      assert.deepEqual(listed.body.items.map((g: { name: string }) => g.name), ['Chess', 'Clubs']);
      assert.equal((await admin.call('DELETE', `/api/groups/${child.body.group.id}/members/${maya.id}`)).status, 200);
      assert.equal((await admin.call('DELETE', `/api/groups/${child.body.group.id}/members/${maya.id}`)).status, 404);
    });

    it('keeps networks and reports a bad range on cidr', async () => {
      const group = (await admin.call('GET', '/api/groups?kind=custom')).body.items[0];
      const bad = await admin.call('POST', '/api/networks', { name: 'Lab', cidr: '10.1.2.3/16', groupId: group.id });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.issues[0].where, 'cidr');
      assert.match(bad.body.issues[0].message, /10\.1\.0\.0\/16/);
      const made = await admin.call('POST', '/api/networks', { name: 'Lab', cidr: '10.1.0.0/16', groupId: group.id });
      assert.equal(made.status, 201);
      assert.equal((await admin.call('POST', '/api/networks', { name: 'Lab 2', cidr: '10.1.0.0/16', groupId: null })).status, 409);
      const patched = await admin.call('PATCH', `/api/networks/${made.body.network.id}`, { cidr: 'FD00:1::/48', description: 'v6 now' });
      assert.equal(patched.body.network.cidr, 'fd00:1::/48');
      const list = await admin.call('GET', '/api/networks');
      assert.deepEqual(list.body.items.map((n: { cidr: string; groupName: string }) => [n.cidr, n.groupName]), [['fd00:1::/48', group.name]]);
      assert.equal((await admin.call('DELETE', `/api/networks/${made.body.network.id}`)).status, 200);
      assert.equal((await admin.call('GET', '/api/networks')).body.items.length, 0);
    });

    it('previews and applies an import', async () => {
      const presets = await admin.call('GET', '/api/people/import/presets');
      assert.deepEqual(presets.body.presets.map((p: { id: string }) => p.id), ['sims', 'arbor', 'bromcom', 'generic']);
      assert.equal(presets.body.presets[0].columns.misId, 'Adno');
      const csv = 'Arbor ID,Legal First Name,Legal Last Name,Year,Registration Form,Date of Birth\nA1,Ola,Nowak,10,10X,05/05/2010\nA2,Piotr,Nowak,10,10Y,31/04/2010\n';
      const preview = await admin.call('POST', '/api/people/import/preview', { fileName: 'arbor.csv', fileBase64: b64(csv), preset: 'arbor', fullExport: false });
      assert.equal(preview.status, 200, JSON.stringify(preview.body));
      assert.deepEqual(preview.body.errors, [{ line: 3, field: 'Date of Birth', message: '"31/04/2010" is not a real date: April 2010 has 30 days' }]);
      const refused = await admin.call('POST', '/api/people/import/apply', { runId: preview.body.runId, fileBase64: b64(csv), confirmLeavers: [] });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.issues[0].where, 'arbor.csv:3');

      const fixed = csv.replace('31/04/2010', '30/04/2010');
      const good = await admin.call('POST', '/api/people/import/preview', { fileName: 'arbor.csv', fileBase64: b64(fixed), preset: 'arbor', fullExport: false, mapping: { preferredName: '' } });
      assert.deepEqual([good.body.ok, good.body.create, good.body.encoding], [true, 2, 'utf-8']);
      const changedFile = await admin.call('POST', '/api/people/import/apply', { runId: good.body.runId, fileBase64: b64(`${fixed}A3,X,Y,10,10Y,01/01/2010\n`), confirmLeavers: [] });
      assert.equal(changedFile.status, 400);
      assert.equal(changedFile.body.issues[0].where, 'fileBase64');
      const applied = await admin.call('POST', '/api/people/import/apply', { runId: good.body.runId, fileBase64: b64(fixed), confirmLeavers: [] });
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      assert.deepEqual([applied.body.created, applied.body.updated, applied.body.unchanged, applied.body.leaversMarked], [2, 0, 0, 0]);
      assert.equal((await admin.call('GET', '/api/people?q=nowak')).body.total, 2);
      const audit = await admin.call('GET', '/api/audit?targetType=import_run');
      assert.equal(audit.body.entries[0].action, 'people.import');
      assert.equal(audit.body.entries[0].actor.includes('admin'), true, 'the signed-in admin is the actor');
    });
  });
}
