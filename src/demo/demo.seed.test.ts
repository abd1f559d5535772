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
      } finally {
        await second.close();
      }
    });
  });
}
