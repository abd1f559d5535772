import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import type { CategoryKey } from '../filter/categories.ts';
import type { Group } from '../people/people.service.ts';
import { rejectsWith } from '../../test/support/assertions.ts';
import { DIALECTS, startTestApp, type TestApp } from '../../test/support/dialects.ts';
import { BUILT_IN_NEVER_BLOCK } from './policy.never-block.ts';
import { createPolicyService, type PolicyService } from './policy.service.ts';
import { placeholderHashes } from './policy.snapshot.ts';

const HOUR = 3_600_000;
const SALT = 'Oakfield-salt-2025';

for (const d of DIALECTS) {
  describe(`policy service (${d.name})`, { skip: d.skip }, () => {
    let t: TestApp;
    let schoolId: string;
    let otherSchoolId: string;
    let policy: PolicyService;
    /** The policy service's clock, moved by the expiry tests. */
    let now = Date.now();
    let pupils: Group;
    let year7: Group;
    let staff: Group;
    let visitors: Group;
    const changes: string[] = [];
    const audited = async (action: string) => {
      const entries = await t.app.audit.list(schoolId, { limit: 500 });
      return entries.filter((e) => e.action === action).map((e) => JSON.parse(e.details) as Record<string, any>);
    };

    before(async () => {
      t = await startTestApp(d.name);
      schoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Policy School' })).id;
      otherSchoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Other School' })).id;
      const { store, audit, people, schools, devices } = t.app;
      // The same service the app builds, with a clock the tests move and a stand-in for the catalog's lookup.
      policy = createPolicyService({
        store, audit, people, schools, devices,
        clock: () => new Date(now),
        categoriesOf: (name) => (name === 'abuse.example' || name.endsWith('.abuse.example') ? ['illegal'] : []),
      });
      policy.onChange((id) => changes.push(id));
      const p = t.app.people;
      pupils = await p.createGroup(CLI_ACTOR, schoolId, { name: 'Pupils', kind: 'custom' });
      await p.createPerson(CLI_ACTOR, schoolId, { kind: 'pupil', givenName: 'Ada', familyName: 'Lovelace', yearGroup: '7', registrationGroup: '7A', email: 'Ada.Lovelace@oakfield.example' });
      year7 = (await p.listGroups(schoolId, 'year'))[0];
      await p.updateGroup(CLI_ACTOR, schoolId, year7.id, { parentId: pupils.id });
      staff = await p.createGroup(CLI_ACTOR, schoolId, { name: 'Staff', kind: 'staff' });
      visitors = await p.createGroup(CLI_ACTOR, schoolId, { name: 'Visitors', kind: 'visitors' });
    });
    after(() => t?.close());

    const pupilPolicy = (reason = 'Pupils policy agreed by governors') => ({
      priority: 10,
      blocked: ['illegal', 'pornography', 'gambling'] as CategoryKey[],
      scheduled: [],
      safeSearch: true,
      youtube: 'strict' as const,
      filterOff: false,
      reason,
    });

    it('gives a group without a policy the documented default', async () => {
      const view = await policy.getGroupPolicy(schoolId, year7.id);
      assert.deepEqual(
        { isDefault: view.isDefault, priority: view.priority, blocked: view.blocked, safeSearch: view.safeSearch, youtube: view.youtube, filterOff: view.filterOff },
        { isDefault: true, priority: 100, blocked: ['illegal'], safeSearch: true, youtube: 'strict', filterOff: false },
      );
      assert.equal((await policy.getGroupPolicy(schoolId, staff.id)).youtube, 'moderate');
      await rejectsWith(policy.getGroupPolicy(otherSchoolId, year7.id), 'not_found');
    });

    it('sets a group policy in one audited change that records the reason and what changed', async () => {
      changes.length = 0;
      const view = await policy.updateGroupPolicy(CLI_ACTOR, schoolId, pupils.id, { ...pupilPolicy(), blocked: ['illegal', 'pornography', 'gambling'] });
      assert.deepEqual([view.isDefault, view.priority, view.blocked], [false, 10, ['illegal', 'pornography', 'gambling']]);
      assert.deepEqual(changes, [schoolId], 'listeners hear of the change once');
      const [entry] = await audited('filter.policy.update');
      assert.equal(entry.reason, 'Pupils policy agreed by governors');
      assert.deepEqual(entry.changes.blocked, { added: ['pornography', 'gambling'], removed: [] });
      assert.deepEqual(entry.changes.priority, { from: 100, to: 10 });
      assert.deepEqual((await policy.getGroupPolicy(schoolId, pupils.id)).blocked, ['illegal', 'pornography', 'gambling']);
    });

    it('requires a reason for every change', async () => {
      for (const attempt of [
        () => policy.updateGroupPolicy(CLI_ACTOR, schoolId, pupils.id, pupilPolicy('  ')),
        () => policy.addEntry(CLI_ACTOR, schoolId, { list: 'deny', domain: 'example.org', reason: '' }),
        () => policy.createSchedule(CLI_ACTOR, schoolId, { name: 'X', windows: [{ days: [1], start: '09:00', end: '10:00' }], schoolDaysOnly: false, reason: '' }),
        () => policy.setCalendar(CLI_ACTOR, schoolId, { terms: [], closures: [], reason: '' }),
        () => policy.updateSettings(CLI_ACTOR, schoolId, { blockedTtl: 3, reason: '' }),
        () => policy.createExemption(CLI_ACTOR, schoolId, { domain: 'example.org', groupId: pupils.id, until: new Date(now + HOUR).toISOString(), reason: '' }),
        () => policy.createSanction(CLI_ACTOR, schoolId, { personId: 'x', until: new Date(now + HOUR).toISOString(), reason: '' }),
      ]) {
        const error = await rejectsWith(attempt(), 'validation');
        assert.ok(error.issues.some((i) => i.where === 'reason' && /required/.test(i.message)), JSON.stringify(error.issues));
      }
    });

    it('never lets illegal be unblocked, scheduled, exempted or allowed', async () => {
      let error = await rejectsWith(policy.updateGroupPolicy(CLI_ACTOR, schoolId, pupils.id, { ...pupilPolicy(), blocked: ['pornography'] }), 'validation');
      assert.match(error.message, /illegal category can never be unblocked/);
      assert.equal(error.issues[0].where, 'blocked');
      const schedule = await policy.createSchedule(CLI_ACTOR, schoolId, { name: 'Lunch', windows: [{ days: [1, 2, 3, 4, 5], start: '12:00', end: '13:00' }], schoolDaysOnly: true, reason: 'Lunch hour' });
      error = await rejectsWith(
        policy.updateGroupPolicy(CLI_ACTOR, schoolId, pupils.id, { ...pupilPolicy(), scheduled: [{ category: 'illegal', scheduleId: schedule.id, mode: 'allow_during' }] }),
        'validation',
      );
      assert.equal(error.issues[0].where, 'scheduled.0.category');
      error = await rejectsWith(policy.createExemption(CLI_ACTOR, schoolId, { category: 'illegal', groupId: pupils.id, until: new Date(now + HOUR).toISOString(), reason: 'Research' }), 'validation');
      assert.match(error.message, /illegal/);
      assert.equal(error.issues[0].where, 'category');
      error = await rejectsWith(policy.addEntry(CLI_ACTOR, schoolId, { list: 'allow', domain: 'www.abuse.example', reason: 'Asked for' }), 'validation');
      assert.equal(error.issues[0].where, 'domain');
      assert.match(error.issues[0].message, /illegal/);
      error = await rejectsWith(policy.createExemption(CLI_ACTOR, schoolId, { domain: 'abuse.example', groupId: pupils.id, until: new Date(now + HOUR).toISOString(), reason: 'x' }), 'validation');
      assert.equal(error.issues[0].where, 'domain');
      error = await rejectsWith(policy.updateSettings(CLI_ACTOR, schoolId, { neverBlockAdded: [{ entry: 'abuse.example', reason: 'x' }], reason: 'x' }), 'validation');
      assert.equal(error.issues[0].where, 'neverBlockAdded.0.entry');
      // A deny entry for such a name is fine: it blocks.
      await policy.addEntry(CLI_ACTOR, schoolId, { list: 'deny', domain: 'abuse.example', reason: 'Belt and braces' });
      assert.deepEqual(await audited('filter.exemption.create'), [], 'nothing half-stored');
    });

    it('names the field in every validation error', async () => {
      const expectIssue = async (attempt: Promise<unknown>, where: string) => {
        const error = await rejectsWith(attempt, 'validation');
        assert.ok(error.issues.some((i) => i.where === where), `${where} in ${JSON.stringify(error.issues)}`);
      };
      await expectIssue(policy.updateGroupPolicy(CLI_ACTOR, schoolId, pupils.id, { ...pupilPolicy(), blocked: ['illegal', 'porn' as never] }), 'blocked.1');
      await expectIssue(policy.updateGroupPolicy(CLI_ACTOR, schoolId, pupils.id, { ...pupilPolicy(), scheduled: [{ category: 'games', scheduleId: 'nope', mode: 'block_during' }] }), 'scheduled.0.scheduleId');
      await expectIssue(policy.updateGroupPolicy(CLI_ACTOR, schoolId, pupils.id, { ...pupilPolicy(), priority: 0 }), 'priority');
      await expectIssue(policy.updateGroupPolicy(CLI_ACTOR, schoolId, pupils.id, { ...pupilPolicy(), filterOff: true }), 'filterOffApprovedBy');
      await expectIssue(policy.addEntry(CLI_ACTOR, schoolId, { list: 'deny', domain: 'https://tiktok.com', reason: 'x' }), 'domain');
      await expectIssue(policy.addEntry(CLI_ACTOR, schoolId, { list: 'deny', domain: 'tiktok.com', groupId: 'nope', reason: 'x' }), 'groupId');
      await expectIssue(policy.createSchedule(CLI_ACTOR, schoolId, { name: 'Bad', windows: [{ days: [1], start: '9:00', end: '25:00' }], schoolDaysOnly: false, reason: 'x' }), 'windows.0.start');
      await expectIssue(policy.createSchedule(CLI_ACTOR, schoolId, { name: 'Bad', windows: [{ days: [1], start: '09:00', end: '25:00' }], schoolDaysOnly: false, reason: 'x' }), 'windows.0.end');
      await expectIssue(policy.createSchedule(CLI_ACTOR, schoolId, { name: 'Bad', windows: [{ days: [0], start: '09:00', end: '10:00' }], schoolDaysOnly: false, reason: 'x' }), 'windows.0.days.0');
      await expectIssue(
        policy.setCalendar(CLI_ACTOR, schoolId, { terms: [{ label: 'Autumn', start: '2025-09-02', end: '2025-12-19' }, { label: 'Spring', start: '2025-12-01', end: '2026-03-27' }], closures: [], reason: 'x' }),
        'terms.1.start',
      );
      await expectIssue(policy.setCalendar(CLI_ACTOR, schoolId, { terms: [{ label: 'Autumn', start: '2025-09-02', end: '2025-02-19' }], closures: [], reason: 'x' }), 'terms.0.end');
      await expectIssue(policy.setCalendar(CLI_ACTOR, schoolId, { terms: [], closures: [{ date: '2025-02-30', label: 'INSET day' }], reason: 'x' }), 'closures.0.date');
      await expectIssue(policy.createExemption(CLI_ACTOR, schoolId, { domain: 'example.org', until: new Date(now + HOUR).toISOString(), reason: 'x' }), 'groupId');
      await expectIssue(policy.createExemption(CLI_ACTOR, schoolId, { domain: 'example.org', personId: 'nobody', until: new Date(now + HOUR).toISOString(), reason: 'x' }), 'personId');
      await expectIssue(policy.createExemption(CLI_ACTOR, schoolId, { domain: 'example.org', groupId: pupils.id, until: new Date(now - HOUR).toISOString(), reason: 'x' }), 'until');
      await expectIssue(policy.createExemption(CLI_ACTOR, schoolId, { domain: 'example.org', groupId: pupils.id, until: 'tomorrow', reason: 'x' }), 'until');
      await expectIssue(policy.createExemption(CLI_ACTOR, schoolId, { domain: 'example.org', category: 'games', groupId: pupils.id, until: new Date(now + HOUR).toISOString(), reason: 'x' }), 'category');
      await expectIssue(policy.createSanction(CLI_ACTOR, schoolId, { deviceId: 'nope', until: new Date(now + HOUR).toISOString(), reason: 'x' }), 'deviceId');
      await expectIssue(policy.updateSettings(CLI_ACTOR, schoolId, { blockedTtl: 11, reason: 'x' }), 'blockedTtl');
      await expectIssue(policy.updateSettings(CLI_ACTOR, schoolId, { blockAnswer: 'address', reason: 'x' }), 'blockIpv4');
      await expectIssue(policy.updateSettings(CLI_ACTOR, schoolId, { blockIpv4: '2001:db8::1', reason: 'x' }), 'blockIpv4');
      await expectIssue(policy.updateSettings(CLI_ACTOR, schoolId, { chromeosSalt: 'short', reason: 'x' }), 'chromeosSalt');
      await expectIssue(policy.updateSettings(CLI_ACTOR, schoolId, { chromeosSalt: 'x'.repeat(33), reason: 'x' }), 'chromeosSalt');
      await expectIssue(policy.updateSettings(CLI_ACTOR, schoolId, { chromeosSalt: 'é'.repeat(17), reason: 'x' }), 'chromeosSalt');
      await expectIssue(policy.updateSettings(CLI_ACTOR, schoolId, { trustedForwarders: ['10.0.0.1/8'], reason: 'x' }), 'trustedForwarders.0');
      await expectIssue(policy.updateSettings(CLI_ACTOR, schoolId, { conditionalForwarders: [{ zone: 'school.local', servers: ['dc1.school.local:53'] }], reason: 'x' }), 'conditionalForwarders.0.servers.0');
      await expectIssue(policy.updateSettings(CLI_ACTOR, schoolId, { neverBlockDisabled: [{ entry: 'example.org', reason: 'x' }], reason: 'x' }), 'neverBlockDisabled.0.entry');
      await expectIssue(policy.updateSettings(CLI_ACTOR, schoolId, { defaultGroupId: 'nope', reason: 'x' }), 'defaultGroupId');
    });

    it('keeps allow and deny entries per school or group, without duplicates', async () => {
      const entry = await policy.addEntry(CLI_ACTOR, schoolId, { list: 'allow', domain: 'BBC.co.uk.', groupId: pupils.id, reason: 'News for project work' });
      assert.equal(entry.domain, 'bbc.co.uk');
      await rejectsWith(policy.addEntry(CLI_ACTOR, schoolId, { list: 'allow', domain: 'bbc.co.uk', groupId: pupils.id, reason: 'again' }), 'conflict');
      await rejectsWith(policy.addEntry(CLI_ACTOR, schoolId, { list: 'deny', domain: 'bbc.co.uk', groupId: pupils.id, reason: 'both' }), 'conflict');
      await policy.addEntry(CLI_ACTOR, schoolId, { list: 'deny', domain: 'bbc.co.uk', reason: 'School-wide is another scope' });
      assert.deepEqual((await policy.listEntries(schoolId, { groupId: pupils.id })).map((e) => e.domain), ['bbc.co.uk']);
      await rejectsWith(policy.removeEntry(CLI_ACTOR, schoolId, entry.id, ''), 'validation');
      await rejectsWith(policy.removeEntry(CLI_ACTOR, otherSchoolId, entry.id, 'not yours'), 'not_found');
      await policy.removeEntry(CLI_ACTOR, schoolId, entry.id, 'Project finished');
      assert.deepEqual(await policy.listEntries(schoolId, { groupId: pupils.id }), []);
      const [removed] = await audited('filter.entry.delete');
      assert.deepEqual([removed.domain, removed.reason, removed.addedBecause], ['bbc.co.uk', 'Project finished', 'News for project work']);
    });

    it('keeps schedules and refuses to delete one a policy uses', async () => {
      const contact = await policy.createSchedule(CLI_ACTOR, schoolId, {
        name: 'Contact time',
        windows: [{ days: [1, 2, 3, 4, 5], start: '08:45', end: '15:15' }, { days: [6], start: '22:00', end: '24:00' }],
        schoolDaysOnly: true,
        reason: 'Staff handbook',
      });
      await rejectsWith(policy.createSchedule(CLI_ACTOR, schoolId, { name: 'Contact time', windows: [{ days: [1], start: '09:00', end: '10:00' }], schoolDaysOnly: false, reason: 'dup' }), 'conflict');
      await policy.updateGroupPolicy(CLI_ACTOR, schoolId, staff.id, {
        priority: 20, blocked: ['illegal'], scheduled: [{ category: 'social_networks', scheduleId: contact.id, mode: 'block_during' }],
        safeSearch: true, youtube: 'moderate', filterOff: false, reason: 'Staff policy',
      });
      const refused = await rejectsWith(policy.deleteSchedule(CLI_ACTOR, schoolId, contact.id, 'tidy'), 'conflict');
      assert.match(refused.message, /Staff/);
      const changed = await policy.updateSchedule(CLI_ACTOR, schoolId, contact.id, { name: 'Contact time', windows: [{ days: [1, 2, 3, 4, 5], start: '08:30', end: '15:30' }], schoolDaysOnly: true, reason: 'Longer day' });
      assert.equal(changed.windows[0].start, '08:30');
      const [update] = await audited('filter.schedule.update');
      assert.equal(update.reason, 'Longer day');
      assert.ok(update.changes.windows);
      const spare = await policy.createSchedule(CLI_ACTOR, schoolId, { name: 'Spare', windows: [{ days: [7], start: '10:00', end: '11:00' }], schoolDaysOnly: false, reason: 'try' });
      await policy.deleteSchedule(CLI_ACTOR, schoolId, spare.id, 'Not needed');
      assert.ok(!(await policy.listSchedules(schoolId)).some((s) => s.id === spare.id));
    });

    it('replaces the calendar as a whole', async () => {
      const calendar = {
        terms: [{ label: 'Autumn 2', start: '2025-11-03', end: '2025-12-19' }, { label: 'Autumn 1', start: '2025-09-02', end: '2025-10-24' }],
        closures: [{ date: '2025-09-02', label: 'INSET day' }],
      };
      const stored = await policy.setCalendar(CLI_ACTOR, schoolId, { ...calendar, reason: 'Term dates published' });
      assert.deepEqual(stored.terms.map((t) => t.label), ['Autumn 1', 'Autumn 2']);
      assert.deepEqual(await policy.getCalendar(schoolId), stored);
      assert.deepEqual(await policy.getCalendar(otherSchoolId), { terms: [], closures: [] });
      const [entry] = await audited('filter.calendar.update');
      assert.equal(entry.reason, 'Term dates published');
    });

    it('keeps exemptions: created, revoked, ended by time, never deleted', async () => {
      const until = new Date(now + 2 * HOUR).toISOString();
      const pupil = (await t.app.people.listPeople(schoolId, { q: 'lovelace' })).items[0];
      const exemption = await policy.createExemption(CLI_ACTOR, schoolId, { domain: 'youtube.com', personId: pupil.id, until, approvedBy: 'Mrs Patel (DSL)', reason: 'Film studies coursework' });
      assert.deepEqual([exemption.active, exemption.approvedBy, exemption.createdBy], [true, 'Mrs Patel (DSL)', 'command line']);
      const byCategory = await policy.createExemption(CLI_ACTOR, schoolId, { category: 'games', groupId: year7.id, until: new Date(now + HOUR).toISOString(), reason: 'End of term' });
      assert.deepEqual((await policy.snapshot(schoolId)).exemptions.map((e) => e.id).sort(), [exemption.id, byCategory.id].sort());

      const revoked = await policy.revokeExemption(CLI_ACTOR, schoolId, exemption.id, 'Coursework handed in');
      assert.deepEqual([revoked.active, revoked.revokeReason], [false, 'Coursework handed in']);
      await rejectsWith(policy.revokeExemption(CLI_ACTOR, schoolId, exemption.id, 'again'), 'conflict');
      await rejectsWith(policy.revokeExemption(CLI_ACTOR, otherSchoolId, byCategory.id, 'not yours'), 'not_found');

      now += 90 * 60_000; // the category exemption's hour is over
      assert.deepEqual((await policy.snapshot(schoolId)).exemptions, []);
      assert.deepEqual(await policy.listExemptions(schoolId, { activeOnly: true }), []);
      const all = await policy.listExemptions(schoolId);
      assert.deepEqual(all.map((e) => [e.id, e.active]).sort(), [[exemption.id, false], [byCategory.id, false]].sort(), 'both records remain');
      await rejectsWith(policy.revokeExemption(CLI_ACTOR, schoolId, byCategory.id, 'late'), 'conflict');
      const [created] = (await audited('filter.exemption.create')).filter((e) => e.domain === 'youtube.com');
      assert.deepEqual([created.reason, created.approvedBy], ['Film studies coursework', 'Mrs Patel (DSL)']);
      assert.equal(typeof (policy as unknown as Record<string, unknown>).deleteExemption, 'undefined');
    });

    it('keeps sanctions as records: lifted, never deleted, reads audited', async () => {
      const pupil = (await t.app.people.listPeople(schoolId, { q: 'lovelace' })).items[0];
      const sanction = await policy.createSanction(CLI_ACTOR, schoolId, {
        personId: pupil.id, until: new Date(now + 24 * HOUR).toISOString(), allow: ['Classroom.Google.com', '=school.example'], reason: 'Behaviour panel: misuse of network',
      });
      assert.deepEqual(sanction.allow, ['classroom.google.com', '=school.example']);
      assert.deepEqual((await policy.snapshot(schoolId)).sanctions.map((s) => s.id), [sanction.id]);
      const lifted = await policy.liftSanction(CLI_ACTOR, schoolId, sanction.id, 'Panel review: lifted early');
      assert.deepEqual([lifted.active, lifted.liftReason], [false, 'Panel review: lifted early']);
      await rejectsWith(policy.liftSanction(CLI_ACTOR, schoolId, sanction.id, 'again'), 'conflict');
      assert.deepEqual((await policy.snapshot(schoolId)).sanctions, []);
      const all = await policy.listSanctions(CLI_ACTOR, schoolId);
      assert.equal(all.find((s) => s.id === sanction.id)?.liftedAt, lifted.liftedAt, 'the record stays');
      assert.ok((await audited('filter.sanction.read')).length >= 1, 'reading sanctions is audited');
      assert.equal(typeof (policy as unknown as Record<string, unknown>).deleteSanction, 'undefined');
      const [lift] = await audited('filter.sanction.lift');
      assert.equal(lift.reason, 'Panel review: lifted early');
    });

    it('keeps the settings: defaults, never-block list, ChromeOS salt kept out of the log', async () => {
      const defaults = await policy.getSettings(otherSchoolId);
      assert.deepEqual([defaults.blockAnswer, defaults.blockedTtl, defaults.chromeosSaltSet], ['null', 5, false]);
      assert.equal(defaults.neverBlock.effective.length, BUILT_IN_NEVER_BLOCK.length);
      assert.ok(defaults.neverBlock.effective.includes('connectivitycheck.gstatic.com'));
      assert.ok(defaults.neverBlock.effective.includes('captive.apple.com'));
      assert.ok(defaults.neverBlock.effective.includes('www.msftconnecttest.com'));

      const settings = await policy.updateSettings(CLI_ACTOR, schoolId, {
        blockAnswer: 'address',
        blockIpv4: '10.0.0.10',
        blockedTtl: 10,
        defaultGroupId: visitors.id,
        chromeosSalt: SALT,
        neverBlockDisabled: [{ entry: 'login.live.com', reason: 'Personal Microsoft accounts are not used here' }],
        neverBlockAdded: [{ entry: 'Oakfield.example', reason: 'Our own site' }],
        trustedForwarders: ['10.1.0.0/16'],
        conditionalForwarders: [{ zone: 'oakfield.local', servers: ['10.1.0.5:53', '[2001:db8::5]:53'] }],
        reason: 'Filter set-up',
      });
      assert.equal(settings.chromeosSaltSet, true);
      assert.ok(!settings.neverBlock.effective.includes('login.live.com'));
      assert.ok(settings.neverBlock.effective.includes('oakfield.example'));
      assert.equal(settings.neverBlock.builtIn.find((b) => b.entry === 'login.live.com')?.disabledReason, 'Personal Microsoft accounts are not used here');
      // Fields left out stay as they were.
      const later = await policy.updateSettings(CLI_ACTOR, schoolId, { blockedTtl: 2, reason: 'Faster unblocks' });
      assert.deepEqual([later.blockedTtl, later.blockIpv4, later.defaultGroupId, later.chromeosSaltSet, later.neverBlock.effective.includes('login.live.com')], [2, '10.0.0.10', visitors.id, true, false]);
      const entries = await audited('filter.settings.update');
      assert.equal(entries.length, 2);
      assert.ok(entries.every((e) => !JSON.stringify(e).includes(SALT)), 'the salt is never written to the log');
      assert.equal(entries[1].changes.chromeosSalt, 'set');
      assert.deepEqual(entries[1].changes.neverBlockDisabled.switchedOff, [{ entry: 'login.live.com', reason: 'Personal Microsoft accounts are not used here' }]);
    });

    it('builds the snapshot: groups, nesting, leavers, devices, hashes, tokens', async () => {
      const p = t.app.people;
      const ada = (await p.listPeople(schoolId, { q: 'lovelace' })).items[0];
      const leaver = await p.createPerson(CLI_ACTOR, schoolId, { kind: 'pupil', givenName: 'Left', familyName: 'Early', yearGroup: '7', registrationGroup: '7A', email: 'left@oakfield.example', leaveDate: '2020-07-20' });
      const noEmail = await p.createPerson(CLI_ACTOR, schoolId, { kind: 'staff', givenName: 'No', familyName: 'Email' });
      await p.addMembers(CLI_ACTOR, schoolId, staff.id, [noEmail.id]);
      await p.createNetwork(CLI_ACTOR, schoolId, { name: 'Pupil Wi-Fi', cidr: '10.10.0.0/16', groupId: pupils.id });
      const ipad = await t.app.devices.create(CLI_ACTOR, schoolId, { name: 'Library iPad 3', platform: 'ipados', groupId: year7.id, ownerId: ada.id });
      const old = await t.app.devices.create(CLI_ACTOR, schoolId, { name: 'Old laptop', platform: 'windows' });
      await t.app.devices.retire(CLI_ACTOR, schoolId, old.device.id, 'Broken');

      const snapshot = await policy.snapshot(schoolId);
      assert.equal(snapshot.schoolId, schoolId);
      assert.equal(snapshot.timeZone, 'Europe/London');
      const groupIds = (await p.listGroups(schoolId)).map((g) => g.id).sort();
      assert.deepEqual(snapshot.groups.map((g) => g.groupId).sort(), groupIds, 'every group, configured or not');
      const pupilsPolicy = snapshot.groups.find((g) => g.groupId === pupils.id)!;
      assert.deepEqual([pupilsPolicy.priority, pupilsPolicy.name, pupilsPolicy.blocked.includes('illegal')], [10, 'Pupils', true]);
      assert.deepEqual(snapshot.groups.find((g) => g.groupId === year7.id)!.blocked, ['illegal'], 'a group without a policy: the default');
      assert.ok(snapshot.groups.every((g) => g.blocked.includes('illegal')));
      assert.deepEqual(snapshot.schoolDeny.sort(), ['abuse.example', 'bbc.co.uk']);

      const adaEntry = snapshot.people.find((x) => x.id === ada.id)!;
      const class7a = (await p.listGroups(schoolId, 'class')).find((g) => g.name === '7A')!;
      assert.deepEqual(adaEntry.groupIds.sort(), [pupils.id, year7.id, class7a.id].sort(), 'effective groups through nesting');
      assert.ok(!snapshot.people.some((x) => x.id === leaver.id), 'a leaver is not in the snapshot');
      const expected = createHash('sha256').update(`${SALT}ada.lovelace@oakfield.example`).digest('hex').toUpperCase();
      assert.equal(adaEntry.chromeosHash, expected);
      assert.equal(snapshot.people.find((x) => x.id === noEmail.id)!.chromeosHash, null);
      const forbidden = placeholderHashes(SALT);
      assert.ok(snapshot.people.every((x) => x.chromeosHash === null || !forbidden.has(x.chromeosHash)), 'no placeholder hash names anyone');
      assert.equal(snapshot.chromeosSalt, SALT);

      assert.deepEqual(snapshot.networks.map((n) => [n.cidr, n.groupId, n.rateLimited]), [['10.10.0.0/16', pupils.id, false]]);
      assert.deepEqual(snapshot.devices, [{ id: ipad.device.id, name: 'Library iPad 3', groupIds: [pupils.id, year7.id].sort(), ownerId: ada.id }]);
      assert.deepEqual(snapshot.tokens, [{ tokenHash: createHash('sha256').update(ipad.token).digest('hex'), deviceId: ipad.device.id, personId: null }]);
      assert.equal(snapshot.defaultGroupId, visitors.id);
      assert.deepEqual(snapshot.blocking, { answer: 'address', ipv4: '10.0.0.10', ipv6: null, ttl: 2 });
      assert.deepEqual(snapshot.trustedForwarders, ['10.1.0.0/16']);
      assert.deepEqual(snapshot.conditionalForwarders, [{ zone: 'oakfield.local', servers: ['10.1.0.5:53', '[2001:db8::5]:53'] }]);
      assert.equal(snapshot.answerAnyClient, false);
      assert.ok(snapshot.neverBlock.includes('oakfield.example') && !snapshot.neverBlock.includes('login.live.com'));
      assert.deepEqual(snapshot.calendar.terms, [{ start: '2025-09-02', end: '2025-10-24' }, { start: '2025-11-03', end: '2025-12-19' }]);
      assert.ok(snapshot.schedules.some((s) => s.name === 'Contact time' && s.schoolDaysOnly));
      structuredClone(snapshot); // it crosses to the filter workers in a message
    });

    it('numbers snapshots: the same content keeps its version, any change moves it on', async () => {
      const first = await policy.snapshot(schoolId);
      assert.equal((await policy.snapshot(schoolId)).version, first.version, 'nothing changed');
      await t.app.people.createPerson(CLI_ACTOR, schoolId, { kind: 'staff', givenName: 'New', familyName: 'Starter' });
      const afterPeople = await policy.snapshot(schoolId);
      assert.equal(afterPeople.version, first.version + 1, 'a people change is seen by the next snapshot');
      await policy.addEntry(CLI_ACTOR, schoolId, { list: 'deny', domain: 'tiktok.com', groupId: pupils.id, reason: 'Distraction' });
      const afterPolicy = await policy.snapshot(schoolId);
      assert.equal(afterPolicy.version, afterPeople.version + 1);
      assert.deepEqual(afterPolicy.groups.find((g) => g.groupId === pupils.id)!.deny, ['tiktok.com']);
      const { store, audit, people, schools, devices } = t.app;
      const twin = createPolicyService({ store, audit, people, schools, devices, clock: () => new Date(now) });
      assert.equal((await twin.snapshot(schoolId)).version, afterPolicy.version, 'another builder (another process) numbers the same content the same');
      const other = await policy.snapshot(otherSchoolId);
      assert.equal(other.version, 1, 'each school has its own count');
      assert.deepEqual([other.people, other.groups, other.devices], [[], [], []]);
    });

    it('tells listeners after a change commits, never for one that rolled back', async () => {
      const seen: Promise<string[]>[] = [];
      const off = policy.onChange((id) => {
        // What a listener reads straight away must already include the change.
        seen.push(policy.listEntries(id).then((entries) => entries.map((e) => e.domain)));
      });
      try {
        await policy.addEntry(CLI_ACTOR, schoolId, { list: 'deny', domain: 'snapchat.com', reason: 'Not in school' });
        assert.equal(seen.length, 1);
        assert.ok((await seen[0]).includes('snapchat.com'));
        // This one fails inside its transaction (the schedule is checked there): rolled back, no news.
        await rejectsWith(
          policy.updateGroupPolicy(CLI_ACTOR, schoolId, pupils.id, { ...pupilPolicy(), scheduled: [{ category: 'games', scheduleId: 'missing', mode: 'block_during' }] }),
          'validation',
        );
        await rejectsWith(policy.addEntry(CLI_ACTOR, schoolId, { list: 'deny', domain: 'snapchat.com', reason: 'again' }), 'conflict');
        assert.equal(seen.length, 1);
        // Device changes reach the policy's listeners too.
        await t.app.devices.create(CLI_ACTOR, schoolId, { name: 'Spare iPad', platform: 'ipados' });
        assert.equal(seen.length, 2);
      } finally {
        off();
      }
    });

    it('builds a 1,500-person snapshot with a fixed number of queries', async () => {
      const header = 'mis_id,kind,given_name,family_name,email,year_group,registration_group';
      const rows = Array.from({ length: 1500 }, (_, i) => `P${i},pupil,Pupil,Number${i},pupil${i}@oakfield.example,${7 + (i % 5)},${7 + (i % 5)}${i % 2 ? 'A' : 'B'}`);
      const file = new TextEncoder().encode(`${header}\n${rows.join('\n')}\n`);
      const bulk = (await t.app.schools.create(CLI_ACTOR, { name: 'Big School' })).id;
      const preview = await t.app.people.previewImport(CLI_ACTOR, bulk, { fileName: 'big.csv', file, preset: 'generic', fullExport: false });
      assert.ok(preview.ok, JSON.stringify(preview.errors.slice(0, 3)));
      await t.app.people.applyImport(CLI_ACTOR, bulk, { runId: preview.runId, file, confirmLeavers: [] });
      await policy.updateSettings(CLI_ACTOR, bulk, { chromeosSalt: SALT, reason: 'ChromeOS set-up' });
      await policy.snapshot(bulk);
      const started = performance.now();
      const snapshot = await policy.snapshot(bulk);
      console.log(`# ${d.name}: snapshot of ${snapshot.people.length} people took ${Math.round(performance.now() - started)} ms`);
      assert.equal(snapshot.people.length, 1500);
      assert.ok(snapshot.people.every((x) => x.groupIds.length === 2 && x.chromeosHash));
    });
  });
}
