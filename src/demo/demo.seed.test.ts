import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { matchNetwork } from '../shared/cidr.ts';
import { DIALECTS, startTestApp, type TestApp } from '../../test/support/dialects.ts';
import { seedDemoSchool } from './demo.seed.ts';

for (const d of DIALECTS) {
  describe(`demo school (${d.name})`, { skip: d.skip }, () => {
    let t: TestApp;
    let schoolId: string;
    const progress: string[] = [];
    before(async () => {
      t = await startTestApp(d.name);
      const started = performance.now();
      schoolId = (await seedDemoSchool(t.app, { onProgress: (line) => progress.push(line) })).id;
      console.log(`# ${d.name}: demo seed took ${Math.round(performance.now() - started)} ms`);
    });
    after(() => t?.close());

    it('has the school, pupils in years 7-11 with classes, staff, governors and parents', async () => {
      const p = t.app.people;
      assert.equal((await t.app.schools.get(schoolId))?.name, 'Oakfield Academy (demo)');
      const count = async (kind: 'pupil' | 'staff' | 'governor' | 'parent') => (await p.listPeople(schoolId, { kind, pageSize: 1 })).total;
      assert.equal(await count('pupil'), 300);
      assert.equal(await count('staff'), 40);
      assert.equal(await count('governor'), 8);
      assert.ok((await count('parent')) > 300);
      const years = await p.listGroups(schoolId, 'year');
      assert.deepEqual(years.map((g) => g.name), ['Year 10', 'Year 11', 'Year 7', 'Year 8', 'Year 9']);
      const classes = await p.listGroups(schoolId, 'class');
      assert.equal(classes.length, 10);
      assert.ok(classes.every((c) => c.memberCount === 30));
      assert.equal(classes.find((c) => c.name === '7A')!.parentId, years.find((y) => y.name === 'Year 7')!.id);
      const pupilsGroup = (await p.listGroups(schoolId, 'custom')).find((g) => g.name === 'Pupils')!;
      assert.ok(years.every((y) => y.parentId === pupilsGroup.id), 'year groups nest under Pupils');
      assert.equal((await p.listPeople(schoolId, { groupId: pupilsGroup.id, pageSize: 1 })).total, 300);
      for (const [kind, members] of [['staff', 40], ['governors', 8]] as const) {
        assert.equal((await p.listGroups(schoolId, kind))[0].memberCount, members);
      }
      assert.equal((await p.listGroups(schoolId, 'visitors'))[0].name, 'Visitors');
      assert.ok(progress.some((l) => /imported \d+\/\d+ people/.test(l)));
    });

    it('links parents: some pupils with two, siblings sharing, at least one without parental responsibility', async () => {
      const p = t.app.people;
      const pupils = (await p.listPeople(schoolId, { kind: 'pupil', pageSize: 300 })).items;
      const details = await Promise.all(pupils.slice(0, 120).map((x) => p.personDetail(schoolId, x.id)));
      assert.ok(details.every((x) => x.parents.length >= 1), 'every pupil has a parent');
      assert.ok(details.some((x) => x.parents.length === 2), 'some have two');
      const parents = (await p.listPeople(schoolId, { kind: 'parent', pageSize: 1000 })).items;
      const parentDetails = await Promise.all(parents.map((x) => p.personDetail(schoolId, x.id)));
      assert.ok(parentDetails.some((x) => x.children.length === 2), 'siblings share parents');
      assert.ok(parentDetails.some((x) => x.children.some((c) => !c.parentalResponsibility)), 'one without parental responsibility');
    });

    it('maps the networks to groups', async () => {
      const networks = await t.app.people.listNetworks(schoolId);
      assert.equal(matchNetwork(networks, '10.10.3.4')?.groupName, 'Pupils');
      assert.equal(matchNetwork(networks, '::ffff:10.20.0.9')?.groupName, 'Staff');
      assert.equal(matchNetwork(networks, '10.30.1.1')?.groupName, 'Visitors');
      assert.equal(matchNetwork(networks, '2001:db8:10:4::5')?.groupName, 'Pupils');
    });

    it('maps the loopback demo ranges to pupils and staff', async () => {
      const networks = await t.app.people.listNetworks(schoolId);
      assert.equal(matchNetwork(networks, '127.0.1.20')?.groupName, 'Pupils');
      assert.equal(matchNetwork(networks, '127.0.2.20')?.groupName, 'Staff');
    });

    it('has the filter policy: pupils, staff and visitors, schedules, calendar, an iPad', async () => {
      const snapshot = await t.app.policy.snapshot(schoolId);
      const groups = await t.app.people.listGroups(schoolId);
      const idOf = (name: string) => groups.find((g) => g.name === name)!.id;
      const policyOf = (name: string) => snapshot.groups.find((g) => g.groupId === idOf(name))!;
      const schedule = (name: string) => snapshot.schedules.find((s) => s.name === name)!;
      const pupils = policyOf('Pupils');
      assert.equal(pupils.priority, 10);
      assert.ok(['illegal', 'pornography', 'social_networks', 'vpn_proxy', 'public_dns'].every((c) => pupils.blocked.includes(c as never)));
      assert.ok(!pupils.blocked.includes('games'));
      assert.deepEqual(pupils.scheduled, [{ category: 'games', scheduleId: schedule('School day').id, mode: 'block_during' }]);
      assert.deepEqual([pupils.safeSearch, pupils.youtube], [true, 'strict']);
      const staff = policyOf('Staff');
      assert.deepEqual([staff.priority, staff.youtube, staff.blocked.includes('social_networks')], [20, 'moderate', false]);
      assert.deepEqual(staff.scheduled, [{ category: 'social_networks', scheduleId: schedule('Contact time').id, mode: 'block_during' }]);
      const visitors = policyOf('Visitors');
      assert.deepEqual([visitors.priority, visitors.youtube, visitors.scheduled.length], [30, 'moderate', 0]);
      assert.deepEqual(visitors.blocked, pupils.blocked);
      assert.deepEqual(schedule('School day').windows, [{ days: [1, 2, 3, 4, 5], start: '08:30', end: '15:30' }]);
      assert.equal(schedule('School day').schoolDaysOnly, true);
      assert.equal(snapshot.calendar.terms.length, 6, 'three terms, each split by its half term');
      assert.equal(snapshot.calendar.closures.filter((c) => c.label === 'INSET day').length, 2);
      assert.equal(snapshot.defaultGroupId, idOf('Pupils'));
      assert.deepEqual(snapshot.devices.map((x) => x.name), ['Library iPad 3']);
      assert.equal(snapshot.devices[0].ownerId, null);
      assert.ok(snapshot.devices[0].groupIds.includes(idOf('Pupils')));
      assert.equal(snapshot.tokens.length, 1);
      assert.equal(snapshot.people.length, (await t.app.people.listPeople(schoolId, { pageSize: 1 })).total, 'nobody has left in the demo');
      assert.ok(snapshot.version >= 1);
    });

    it('writes audit entries and is the same every time', async () => {
      const entries = await t.app.audit.list(schoolId, { limit: 2000 });
      assert.ok(entries.some((e) => e.action === 'people.import'));
      assert.ok(entries.filter((e) => e.action === 'person.create').length > 600);
      assert.equal((await t.app.audit.verify()).ok, true);
      if (d.name !== 'sqlite') return;
      const second = await startTestApp('sqlite');
      try {
        const otherId = (await seedDemoSchool(second.app)).id;
        const names = async (app: TestApp, id: string) =>
          (await app.app.people.listPeople(id, { pageSize: 1000 })).items.map((x) => `${x.misId} ${x.givenName} ${x.familyName} ${x.dateOfBirth}`).sort();
        assert.deepEqual(await names(second, otherId), await names(t, schoolId));
        // The same policy too, but for ids and the iPad's random token.
        const policyShape = async (app: TestApp, id: string) => {
          const s = await app.app.policy.snapshot(id);
          const groupName = new Map((await app.app.people.listGroups(id)).map((g) => [g.id, g.name]));
          const scheduleName = new Map(s.schedules.map((x) => [x.id, x.name]));
          return {
            groups: s.groups.map((g) => ({ ...g, groupId: groupName.get(g.groupId), scheduled: g.scheduled.map((r) => ({ ...r, scheduleId: scheduleName.get(r.scheduleId) })) })).sort((a, b) => a.name.localeCompare(b.name)),
            schedules: s.schedules.map(({ id: _, ...rest }) => rest).sort((a, b) => a.name.localeCompare(b.name)),
            calendar: s.calendar,
            devices: s.devices.map((x) => x.name),
          };
        };
        assert.deepEqual(await policyShape(second, otherId), await policyShape(t, schoolId));
      } finally {
        await second.close();
      }
    });
  });
}
