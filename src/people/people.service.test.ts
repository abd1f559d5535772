import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import { rejectsWith } from '../../test/support/assertions.ts';
import { DIALECTS, startTestApp, type TestApp } from '../../test/support/dialects.ts';


for (const d of DIALECTS) {
  describe(`people service (${d.name})`, { skip: d.skip }, () => {
    let t: TestApp;
    let schoolId: string;
    let otherSchoolId: string;
    before(async () => {
      t = await startTestApp(d.name);
      schoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Test School' })).id;
      otherSchoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Other School' })).id;
    });
    after(() => t?.close());

    it('creates a pupil, normalises the year and files them in year and class groups', async () => {
      const p = t.app.people;
      const pupil = await p.createPerson(CLI_ACTOR, schoolId, {
        kind: 'pupil', givenName: 'Zoë', familyName: 'Ashworth', yearGroup: 'Year 7', registrationGroup: '7A', misId: 'A001', email: 'zoe@example.org',
      });
      assert.equal(pupil.yearGroup, '7');
      const detail = await p.personDetail(schoolId, pupil.id);
      assert.deepEqual(detail.groups.map((g) => `${g.kind}:${g.name}`).sort(), ['class:7A', 'year:Year 7']);
      const groups = await p.listGroups(schoolId);
      const year7 = groups.find((g) => g.name === 'Year 7')!;
      assert.equal(groups.find((g) => g.name === '7A')!.parentId, year7.id, 'a class nests under its year');
      const entries = await t.app.audit.list(schoolId, { limit: 20, targetId: pupil.id });
      assert.deepEqual(entries.map((e) => e.action), ['person.create']);

      // Moving class moves the membership; the old class keeps no mis member.
      await p.updatePerson(CLI_ACTOR, schoolId, pupil.id, { registrationGroup: '7B' });
      const after = await p.personDetail(schoolId, pupil.id);
      assert.deepEqual(after.groups.map((g) => g.name).sort(), ['7B', 'Year 7']);
      assert.equal((await p.listGroups(schoolId, 'class')).find((g) => g.name === '7A')!.memberCount, 0);
    });

    it('refuses rule breaks with issues that name the field', async () => {
      const p = t.app.people;
      let error = await rejectsWith(p.createPerson(CLI_ACTOR, schoolId, { kind: 'staff', givenName: 'A', familyName: 'B', yearGroup: '7' }), 'validation');
      assert.equal(error.issues[0].where, 'yearGroup');
      error = await rejectsWith(p.createPerson(CLI_ACTOR, schoolId, { kind: 'staff', givenName: 'A', familyName: 'B', startDate: '2024-09-01', leaveDate: '2024-08-01' }), 'validation');
      assert.equal(error.issues[0].where, 'leaveDate');
      error = await rejectsWith(p.createPerson(CLI_ACTOR, schoolId, { kind: 'staff', givenName: 'A', familyName: 'B', dateOfBirth: '2024-02-30' }), 'validation');
      assert.equal(error.issues[0].where, 'dateOfBirth');
      error = await rejectsWith(p.createPerson(CLI_ACTOR, schoolId, { kind: 'staff', givenName: ' ', familyName: 'B', email: 'nope' }), 'validation');
      assert.deepEqual(error.issues.map((i) => i.where).sort(), ['email', 'givenName']);
      await rejectsWith(p.createPerson(CLI_ACTOR, schoolId, { kind: 'staff', givenName: 'Dup', familyName: 'Licate', misId: 'A001' }), 'conflict');
      const staff = await p.createPerson(CLI_ACTOR, schoolId, { kind: 'staff', givenName: 'Sam', familyName: 'Staff', misId: 'S1' });
      await rejectsWith(p.updatePerson(CLI_ACTOR, schoolId, staff.id, { misId: 'A001' }), 'conflict');
      await rejectsWith(p.updatePerson(CLI_ACTOR, otherSchoolId, staff.id, { givenName: 'X' }), 'not_found');
      const unchanged = await p.updatePerson(CLI_ACTOR, schoolId, staff.id, { givenName: 'Sam' });
      assert.equal(unchanged.updatedAt, staff.updatedAt, 'no change, no write');
    });

    it('searches names, email and MIS id case-insensitively, with paging', async () => {
      const p = t.app.people;
      const names = ['Aaron', 'Beth', 'Cara', 'Dev', 'Esme', 'Finn', 'Gita'];
      for (const [i, given] of names.entries()) {
        await p.createPerson(CLI_ACTOR, schoolId, { kind: 'pupil', givenName: given, familyName: i % 2 ? "O'Brien" : 'Smith_Jones', misId: `P${100 + i}`, email: `${given.toLowerCase()}@pupils.example.org` });
      }
      await p.createPerson(CLI_ACTOR, otherSchoolId, { kind: 'pupil', givenName: 'Aaron', familyName: 'Elsewhere' });
      assert.equal((await p.listPeople(schoolId, { q: 'aaron' })).total, 1, 'other school not seen');
      assert.equal((await p.listPeople(schoolId, { q: 'O\'BRIEN' })).total, 3);
      assert.equal((await p.listPeople(schoolId, { q: 'p10' })).total, 7, 'MIS id');
      assert.equal((await p.listPeople(schoolId, { q: 'BETH@PUPILS' })).total, 1, 'email');
      assert.equal((await p.listPeople(schoolId, { q: 'cara smith' })).total, 1, 'every word must match');
      assert.equal((await p.listPeople(schoolId, { q: 'h_j' })).total, 4, 'underscore is literal');
      assert.equal((await p.listPeople(schoolId, { q: 'h%j' })).total, 0, 'percent is literal');
      assert.equal((await p.listPeople(schoolId, { q: 'zoë' })).total, 1, 'non-ASCII as typed');

      const page1 = await p.listPeople(schoolId, { kind: 'pupil', pageSize: 3, page: 1 });
      const page3 = await p.listPeople(schoolId, { kind: 'pupil', pageSize: 3, page: 3 });
      assert.equal(page1.total, 8);
      assert.deepEqual(page1.items.map((x) => x.familyName), ['Ashworth', "O'Brien", "O'Brien"]);
      assert.equal(page3.items.length, 2);
      assert.deepEqual(page3.items.map((x) => `${x.givenName} ${x.familyName}`), ['Esme Smith_Jones', 'Gita Smith_Jones']);
      assert.equal((await p.listPeople(schoolId, { kind: 'staff' })).total, 1);
    });

    it('nests groups, refuses cycles and filters people by group including nested ones', async () => {
      const p = t.app.people;
      const pupils = await p.createGroup(CLI_ACTOR, schoolId, { name: 'Pupils', kind: 'custom' });
      const groups = await p.listGroups(schoolId);
      const year7 = groups.find((g) => g.name === 'Year 7')!;
      const class7b = groups.find((g) => g.name === '7B')!;
      await p.updateGroup(CLI_ACTOR, schoolId, year7.id, { parentId: pupils.id });
      const cycle = await rejectsWith(p.updateGroup(CLI_ACTOR, schoolId, pupils.id, { parentId: class7b.id }), 'validation');
      assert.equal(cycle.issues[0].where, 'parentId');
      assert.match(cycle.issues[0].message, /cycle/);
      await rejectsWith(p.updateGroup(CLI_ACTOR, schoolId, pupils.id, { parentId: pupils.id }), 'validation');
      await rejectsWith(p.createGroup(CLI_ACTOR, schoolId, { name: 'Pupils', kind: 'custom' }), 'conflict');
      await rejectsWith(p.createGroup(CLI_ACTOR, schoolId, { name: 'X', kind: 'custom', parentId: 'nope' }), 'validation');

      assert.equal((await p.listPeople(schoolId, { groupId: pupils.id })).total, 1, 'Zoë is in 7B, inside Year 7, inside Pupils');
      const detail = await p.groupDetail(schoolId, year7.id);
      assert.deepEqual(detail.children.map((g) => g.name).sort(), ['7A', '7B']);
      const zoe = (await p.listPeople(schoolId, { q: 'zoë' })).items[0];
      assert.deepEqual((await p.effectiveGroupIds(schoolId, zoe.id)).sort(), [pupils.id, year7.id, class7b.id].sort());

      const added = await p.addMembers(CLI_ACTOR, schoolId, pupils.id, [zoe.id, zoe.id]);
      assert.equal(added.added, 1);
      assert.equal((await p.addMembers(CLI_ACTOR, schoolId, pupils.id, [zoe.id])).added, 0);
      await rejectsWith(p.addMembers(CLI_ACTOR, schoolId, pupils.id, ['missing']), 'validation');
      assert.equal((await p.groupDetail(schoolId, pupils.id)).members.total, 1);
      await p.removeMember(CLI_ACTOR, schoolId, pupils.id, zoe.id);
      await rejectsWith(p.removeMember(CLI_ACTOR, schoolId, pupils.id, zoe.id), 'not_found');
      await rejectsWith(p.groupDetail(otherSchoolId, pupils.id), 'not_found');
    });

    it('lists everyone still here with their effective groups in bulk, leavers left out', async () => {
      const p = t.app.people;
      const club = await p.createGroup(CLI_ACTOR, schoolId, { name: 'Chess club', kind: 'custom' });
      const juniors = await p.createGroup(CLI_ACTOR, schoolId, { name: 'Chess juniors', kind: 'custom', parentId: club.id });
      const here = await p.createPerson(CLI_ACTOR, schoolId, { kind: 'staff', givenName: 'Still', familyName: 'Here', email: 'still@example.org', leaveDate: '2031-07-20' });
      const gone = await p.createPerson(CLI_ACTOR, schoolId, { kind: 'staff', givenName: 'Long', familyName: 'Gone', leaveDate: '2020-07-20' });
      await p.addMembers(CLI_ACTOR, schoolId, juniors.id, [here.id, gone.id]);
      const all = await p.currentPeopleWithGroups(schoolId, '2030-01-01');
      assert.ok(!all.some((x) => x.id === gone.id), 'a leaver is not listed');
      const entry = all.find((x) => x.id === here.id)!;
      assert.equal(entry.email, 'still@example.org');
      assert.deepEqual(entry.groupIds.sort(), [club.id, juniors.id].sort());
      for (const person of all) assert.deepEqual(person.groupIds.sort(), (await p.effectiveGroupIds(schoolId, person.id)).sort());
      assert.ok(!(await p.currentPeopleWithGroups(schoolId, '2031-07-21')).some((x) => x.id === here.id), 'gone the day after the leave date');
      assert.ok(!(await p.currentPeopleWithGroups(otherSchoolId, '2030-01-01')).some((x) => x.id === here.id), 'only the school asked about');
    });

    it('links parents and shows parents and children', async () => {
      const p = t.app.people;
      const child = (await p.listPeople(schoolId, { q: 'zoë' })).items[0];
      const mum = await p.createPerson(CLI_ACTOR, schoolId, { kind: 'parent', givenName: 'Ruth', familyName: 'Ashworth' });
      const stepdad = await p.createPerson(CLI_ACTOR, schoolId, { kind: 'parent', givenName: 'Tom', familyName: 'Hale' });
      await p.linkParent(CLI_ACTOR, schoolId, { parentId: mum.id, childId: child.id, relationship: 'Mother', parentalResponsibility: true });
      await p.linkParent(CLI_ACTOR, schoolId, { parentId: stepdad.id, childId: child.id, relationship: 'Step-father', parentalResponsibility: false });
      await rejectsWith(p.linkParent(CLI_ACTOR, schoolId, { parentId: child.id, childId: mum.id, parentalResponsibility: true }), 'validation');
      const detail = await p.personDetail(schoolId, child.id);
      assert.deepEqual(
        detail.parents.map((l) => [l.person.givenName, l.relationship, l.parentalResponsibility]).sort(),
        [['Ruth', 'Mother', true], ['Tom', 'Step-father', false]],
      );
      const mumDetail = await p.personDetail(schoolId, mum.id);
      assert.equal(mumDetail.children[0].person.id, child.id);
      await p.unlinkParent(CLI_ACTOR, schoolId, stepdad.id, child.id);
      assert.equal((await p.personDetail(schoolId, child.id)).parents.length, 1);
      await rejectsWith(p.personDetail(otherSchoolId, child.id), 'not_found');
    });

    it('keeps networks: normalised ranges, issues on cidr, no duplicates', async () => {
      const p = t.app.people;
      const staff = await p.createGroup(CLI_ACTOR, schoolId, { name: 'Staff', kind: 'staff' });
      const net = await p.createNetwork(CLI_ACTOR, schoolId, { name: 'Staff Wi-Fi', cidr: '10.20.0.0/16', groupId: staff.id });
      assert.equal(net.groupName, 'Staff');
      const v6 = await p.createNetwork(CLI_ACTOR, schoolId, { name: 'Pupil v6', cidr: '2001:DB8:10:0::/64', groupId: null });
      assert.equal(v6.cidr, '2001:db8:10::/64');
      let error = await rejectsWith(p.createNetwork(CLI_ACTOR, schoolId, { name: 'Bad', cidr: '10.1.2.3/16', groupId: null }), 'validation');
      assert.equal(error.issues[0].where, 'cidr');
      assert.match(error.issues[0].message, /10\.1\.0\.0\/16/);
      error = await rejectsWith(p.createNetwork(CLI_ACTOR, schoolId, { name: 'Dup', cidr: '2001:db8:10::/64', groupId: null }), 'conflict');
      await rejectsWith(p.createNetwork(CLI_ACTOR, schoolId, { name: 'G', cidr: '10.99.0.0/16', groupId: 'missing' }), 'validation');
      // Nested (overlapping but not equal) ranges are fine: the most specific wins.
      await p.createNetwork(CLI_ACTOR, schoolId, { name: 'Staff room', cidr: '10.20.5.0/24', groupId: staff.id });
      const moved = await p.updateNetwork(CLI_ACTOR, schoolId, v6.id, { cidr: '2001:db8:20::/64', groupId: staff.id });
      assert.equal(moved.groupName, 'Staff');
      await rejectsWith(p.updateNetwork(CLI_ACTOR, schoolId, v6.id, { cidr: '10.20.0.0/16' }), 'conflict');
      await rejectsWith(p.updateNetwork(CLI_ACTOR, otherSchoolId, v6.id, { name: 'x' }), 'not_found');
      assert.deepEqual((await p.listNetworks(schoolId)).map((n) => n.cidr), ['2001:db8:20::/64', '10.20.5.0/24', '10.20.0.0/16']);
      await p.deleteNetwork(CLI_ACTOR, schoolId, v6.id);
      await rejectsWith(p.deleteNetwork(CLI_ACTOR, schoolId, v6.id), 'not_found');
      assert.equal((await p.listNetworks(otherSchoolId)).length, 0);
      const actions = (await t.app.audit.list(schoolId, { limit: 50, targetType: 'network' })).map((e) => e.action);
      assert.deepEqual(actions, ['network.delete', 'network.update', 'network.create', 'network.create', 'network.create']);
      assert.equal((await t.app.audit.verify()).ok, true);
    });
  });
}
