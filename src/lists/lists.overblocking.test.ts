/**
 * The over-blocking report and the school's known-good sites, on real parts:
 * a catalog compiled by the real builder, list copies in the app's cache
 * directory, the policy service, the store on both dialects and the HTTP
 * routes. The second half runs on the real lists in ../shared/data when that
 * folder is there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import { dataPaths } from '../config/config.ts';
import { buildCatalog, readLines } from '../filter/catalog-build.ts';
import type { CategoryKey } from '../filter/categories.ts';
import { rejectsWith } from '../../test/support/assertions.ts';
import { type Client, signedIn } from '../../test/support/client.ts';
import { DIALECTS, startTestApp, type TestApp } from '../../test/support/dialects.ts';
import { tempDirs } from '../../test/support/temp.ts';
import { parsePastedSites, siteName } from './lists.known-good.ts';
import { createOverblocking, type GroupOverblocking, type OverblockingReport } from './lists.overblocking.ts';
import { cacheFileOf } from './lists.sync.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED = path.resolve(REPO, '../shared/data');
const temp = tempDirs('overblocking');

const policyOf = (blocked: CategoryKey[], reason: string, priority = 10) => ({ priority, blocked, scheduled: [], safeSearch: false, youtube: 'off' as const, filterOff: false, reason });
const groupIn = (report: OverblockingReport, name: string): GroupOverblocking => {
  const group = report.groups.find((g) => g.name === name);
  assert.ok(group, `group ${name} is in the report (${report.groups.map((g) => g.name).join(', ')})`);
  return group;
};
const blockedNames = (group: GroupOverblocking) => group.items.map((i) => i.name);

describe('site names teachers give', () => {
  it('takes names and web addresses, and says what is wrong with anything else', () => {
    assert.deepEqual(siteName(' https://www.BBC.co.uk/bitesize?x=1 '), { ok: true, name: 'www.bbc.co.uk' });
    assert.deepEqual(siteName('scratch.mit.edu/projects'), { ok: true, name: 'scratch.mit.edu' });
    assert.deepEqual(siteName('bücher.example'), { ok: true, name: 'xn--bcher-kva.example' });
    const bad = (raw: string) => {
      const checked = siteName(raw);
      assert.equal(checked.ok, false, raw);
      return checked.ok ? '' : checked.reason;
    };
    assert.match(bad(''), /is required/);
    assert.match(bad('192.0.2.7'), /IP address/);
    assert.match(bad('*.example.org'), /pattern/);
    assert.match(bad('localhost'), /single label/);
    assert.match(bad('two words.example'), /spaces/);
  });

  it('reads a pasted list or CSV, skipping a header, comments and repeats, naming bad lines', () => {
    const { sites, issues } = parsePastedSites('Domain,Note\nwww.bbc.co.uk,"Bitesize, revision"\n# a comment\n\nnot a site!\nBBC.co.uk/news\nwww.bbc.co.uk\nhttps://phet.colorado.edu/en/simulations;physics\n');
    assert.deepEqual(sites, [
      { domain: 'www.bbc.co.uk', note: 'Bitesize, revision', line: 2 },
      { domain: 'bbc.co.uk', note: null, line: 6 },
      { domain: 'phet.colorado.edu', note: 'physics', line: 8 },
    ]);
    assert.deepEqual(issues, [{ where: 'line 5', message: '"not a site!" spaces are not allowed in a domain name' }]);
  });
});

for (const d of DIALECTS) {
  describe(`over-blocking report on hand-written lists (${d.name})`, { skip: d.skip }, () => {
    let t: TestApp;
    let schoolId: string;
    let otherSchoolId: string;
    let pupils: string;
    let admin: Client;
    let head: Client;

    before(async () => {
      t = await startTestApp(d.name, { overrides: { 'auth.signInRatePerMinute': 1000 } });
      const { app } = t;
      schoolId = (await app.schools.create(CLI_ACTOR, { name: 'Report School' })).id;
      otherSchoolId = (await app.schools.create(CLI_ACTOR, { name: 'Other School' })).id;
      pupils = (await app.people.createGroup(CLI_ACTOR, schoolId, { name: 'Pupils', kind: 'custom' })).id;
      const staff = (await app.people.createGroup(CLI_ACTOR, schoolId, { name: 'Staff', kind: 'staff' })).id;
      await app.people.createGroup(CLI_ACTOR, schoolId, { name: 'Visitors', kind: 'visitors' });
      await app.policy.updateGroupPolicy(CLI_ACTOR, schoolId, pupils, policyOf(['illegal', 'games', 'shopping'], 'pupils: no games or shops'));
      // Staff may play games only within a schedule (one that covers the whole week, so they are allowed whenever the test runs).
      const always = await app.policy.createSchedule(CLI_ACTOR, schoolId, { name: 'Always', windows: [{ days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' }], schoolDaysOnly: false, reason: 'test' });
      await app.policy.updateGroupPolicy(CLI_ACTOR, schoolId, staff, { ...policyOf(['illegal'], 'staff see everything legal', 20), scheduled: [{ category: 'games', scheduleId: always.id, mode: 'allow_during' }] });
      await app.policy.addEntry(CLI_ACTOR, schoolId, { list: 'deny', domain: 'maths-site.example', groupId: pupils, reason: 'distracting adverts' });

      // Block lists, compiled by the real builder into the catalog the app reads.
      const lists = temp();
      writeFileSync(path.join(lists, 'games'), '# games\ncoolmath.example\nkids-games.example\n');
      writeFileSync(path.join(lists, 'shopping.gz'), gzipSync('bookshop.example\n'));
      const paths = dataPaths(app.config);
      mkdirSync(path.dirname(paths.catalog), { recursive: true });
      await buildCatalog({
        outFile: paths.catalog,
        sources: [
          { name: 'ut1:games', category: 'games', format: 'plain', file: path.join(lists, 'games') },
          { name: 'ut1:shopping', category: 'shopping', format: 'plain', file: path.join(lists, 'shopping.gz') },
        ],
      });
      // Allow-list copies where the sync keeps them; ut1:liste_bu has none.
      mkdirSync(paths.lists, { recursive: true });
      writeFileSync(cacheFileOf(paths.lists, { id: 'ut1:liste_blanche' }), gzipSync('# white list\nkids-games.example\nwww.bookshop.example\nnot a name!\n10.0.0.1\nmuseum.example\n'));
      writeFileSync(cacheFileOf(paths.lists, { id: 'ut1:child' }), 'kids-games.example\n');

      admin = await signedIn(app, schoolId, ['admin']);
      head = await signedIn(app, schoolId, ['head']);
    });
    after(() => t?.close());

    it('adds a known-good site with a note and a reason, audited in the same change', async () => {
      const site = await t.app.overblocking.sites.add(CLI_ACTOR, schoolId, { domain: 'https://www.Maths-Site.example/year9', note: 'Year 9 maths', reason: 'maths department relies on it' });
      assert.deepEqual([site.domain, site.note, site.createdBy], ['www.maths-site.example', 'Year 9 maths', 'command line']);
      const [entry] = await t.app.audit.list(schoolId, { limit: 1, targetType: 'known_good_site', targetId: site.id });
      assert.equal(entry.action, 'lists.known_good.create');
      assert.deepEqual(JSON.parse(entry.details), { domain: 'www.maths-site.example', note: 'Year 9 maths', reason: 'maths department relies on it' });
      await rejectsWith(t.app.overblocking.sites.add(CLI_ACTOR, schoolId, { domain: 'www.maths-site.example', reason: 'again' }), 'conflict');
    });

    it('refuses a bad domain or a missing reason, naming the field, and stores nothing', async () => {
      const bad = await rejectsWith(t.app.overblocking.sites.add(CLI_ACTOR, schoolId, { domain: 'not a site', reason: 'because' }), 'validation');
      assert.deepEqual(bad.issues.map((i) => i.where), ['domain']);
      assert.match(bad.message, /"not a site" is not a site name: spaces are not allowed/);
      const noReason = await rejectsWith(t.app.overblocking.sites.add(CLI_ACTOR, schoolId, { domain: 'ok.example', reason: ' ' }), 'validation');
      assert.deepEqual(noReason.issues.map((i) => i.where), ['reason']);
      assert.deepEqual((await t.app.overblocking.sites.list(schoolId)).map((s) => s.domain), ['www.maths-site.example']);
    });

    it('keeps a school’s sites to itself', async () => {
      const [site] = await t.app.overblocking.sites.list(schoolId);
      assert.deepEqual(await t.app.overblocking.sites.list(otherSchoolId), []);
      await rejectsWith(t.app.overblocking.sites.remove(CLI_ACTOR, otherSchoolId, site.id, 'not ours'), 'not_found');
      assert.equal((await t.app.overblocking.sites.list(schoolId)).length, 1);
      const other = await t.app.overblocking.report(otherSchoolId);
      assert.equal(other.sources[0].names, 0, 'the other school’s report has none of these sites');
    });

    it('takes a pasted list whole or not at all, naming a bad line by its number', async () => {
      const sites = t.app.overblocking.sites;
      const refused = await rejectsWith(sites.addPasted(CLI_ACTOR, schoolId, { text: 'museum.example\nphet.colorado.edu\nnot valid!\n', reason: 'science sites' }), 'validation');
      assert.deepEqual(refused.issues, [{ where: 'line 3', message: '"not valid!" spaces are not allowed in a domain name' }]);
      assert.equal((await sites.list(schoolId)).length, 1, 'nothing was added');
      const pasted = await sites.addPasted(CLI_ACTOR, schoolId, { text: 'site,note\nmuseum.example,history trips\nphet.colorado.edu\nwww.maths-site.example\n', reason: 'science sites' });
      assert.deepEqual(pasted.added.map((s) => [s.domain, s.note]), [['museum.example', 'history trips'], ['phet.colorado.edu', null]]);
      assert.deepEqual(pasted.alreadyListed, ['www.maths-site.example']);
      const [entry] = await t.app.audit.list(schoolId, { limit: 1, targetType: 'known_good_site' });
      assert.equal(entry.action, 'lists.known_good.import');
      assert.deepEqual(JSON.parse(entry.details).domains, ['museum.example', 'phet.colorado.edu']);
    });

    it('reports the known-good names each group’s policy blocks, with the rule and the list line', async () => {
      const report = await t.app.overblocking.report(schoolId);
      assert.deepEqual(report.groups.map((g) => g.name).sort(), ['Pupils', 'Staff']);
      assert.deepEqual(report.groupsLeftOut.map((g) => g.name), ['Visitors'], 'a group with no policy of its own is left out');
      // kids-games, www.bookshop, museum (both lists), www.maths-site, phet: five distinct names.
      assert.equal(report.names, 5);
      const byId = new Map(report.sources.map((s) => [s.id, s]));
      assert.deepEqual(byId.get('school'), { id: 'school', label: 'The school’s own known-good sites', kind: 'school', copy: true, note: null, lines: 3, names: 3, unused: 0 });
      const white = byId.get('ut1:liste_blanche')!;
      assert.deepEqual([white.copy, white.lines, white.names, white.unused], [true, 6, 3, 2]);
      assert.equal(byId.get('ut1:liste_bu')?.copy, false);
      assert.match(byId.get('ut1:liste_bu')!.note!, /not synced yet/);

      const pupilsReport = groupIn(report, 'Pupils');
      assert.deepEqual([pupilsReport.checked, pupilsReport.blocked], [5, 3]);
      assert.deepEqual(blockedNames(pupilsReport), ['kids-games.example', 'www.bookshop.example', 'www.maths-site.example']);
      const [games, shop, maths] = pupilsReport.items;
      assert.deepEqual(games.knownGood, [{ source: 'ut1:child', line: 1 }, { source: 'ut1:liste_blanche', line: 2 }]);
      assert.deepEqual([games.rule, games.category], ['category', 'games']);
      assert.deepEqual(games.lists, [{ list: 'ut1:games', line: 3, entry: 'kids-games.example', category: 'games', via: 'name', exact: false }]);
      assert.deepEqual(shop.lists, [{ list: 'ut1:shopping', line: 1, entry: 'bookshop.example', category: 'shopping', via: 'parent', exact: false }]);
      assert.deepEqual([maths.rule, maths.category, maths.matched, maths.lists, maths.knownGood], ['deny_entry', null, 'maths-site.example', [], [{ source: 'school', line: null }]]);
      assert.deepEqual(pupilsReport.byCategory, [{ key: '(no category)', count: 1 }, { key: 'games', count: 1 }, { key: 'shopping', count: 1 }]);
      assert.deepEqual(pupilsReport.byList, [{ key: '(deny entry)', count: 1 }, { key: 'ut1:games', count: 1 }, { key: 'ut1:shopping', count: 1 }]);
      assert.deepEqual(pupilsReport.byRule, [{ key: 'category', count: 2 }, { key: 'deny_entry', count: 1 }]);
      assert.deepEqual([pupilsReport.blocked, pupilsReport.blockedNow, pupilsReport.items.map((i) => i.when)], [3, 3, ['now', 'now', 'now']]);
      // Allowed now by the staff's schedule, blocked outside it: reported, marked as scheduled.
      const staffReport = groupIn(report, 'Staff');
      assert.deepEqual([staffReport.blocked, staffReport.blockedNow], [1, 0]);
      const [scheduled] = staffReport.items;
      assert.deepEqual([scheduled.name, scheduled.when, scheduled.kind, scheduled.rule, scheduled.category, scheduled.matched], ['kids-games.example', 'at_times', 'blocked', 'schedule', 'games', 'kids-games.example']);
      assert.deepEqual(scheduled.lists.map((l) => [l.list, l.line]), [['ut1:games', 3]]);
    });

    it('drops a name once an allow entry lets it through, and reports one group or a capped list', async () => {
      const entry = await t.app.policy.addEntry(CLI_ACTOR, schoolId, { list: 'allow', domain: 'kids-games.example', groupId: pupils, reason: 'used in maths lessons' });
      const one = await t.app.overblocking.report(schoolId, { group: 'pupils' });
      assert.deepEqual(one.groups.map((g) => g.name), ['Pupils']);
      assert.deepEqual(blockedNames(one.groups[0]), ['www.bookshop.example', 'www.maths-site.example']);
      await t.app.policy.removeEntry(CLI_ACTOR, schoolId, entry.id, 'test over');
      const capped = await t.app.overblocking.report(schoolId, { group: pupils, limit: 1 });
      assert.deepEqual([capped.groups[0].blocked, capped.groups[0].items.length, capped.groups[0].truncated], [3, 1, true]);
      const wrong = await rejectsWith(t.app.overblocking.report(schoolId, { group: 'Nobody' }), 'validation');
      assert.deepEqual(wrong.issues.map((i) => i.where), ['group']);
    });

    it('prints the report with `schoolgate lists overblocking`', { skip: d.name === 'sqlite' ? false : 'the command is run once, on the SQLite file' }, () => {
      const dataDir = t.db.dataDir;
      const run = (args: string[]) =>
        spawnSync(process.execPath, [path.join(REPO, 'bin', 'schoolgate.js'), 'lists', 'overblocking', ...args], {
          cwd: dataDir,
          env: { PATH: process.env.PATH ?? '', HOME: dataDir, SCHOOLGATE_DATA_DIR: dataDir, SCHOOLGATE_LOG__LEVEL: 'silent' },
          encoding: 'utf8',
          timeout: 60_000,
        });
      const text = run(['--school', schoolId]);
      assert.equal(text.status, 0, text.stdout + text.stderr);
      assert.match(text.stdout, /^Pupils: 3 of 5 known-good names blocked$/m);
      assert.match(text.stdout, /^Staff: 1 of 5 known-good names blocked \(1 of them on a schedule, marked \*: allowed now, blocked at other times\)$/m);
      assert.match(text.stdout, /^ {2}kids-games\.example +games +schedule\* +ut1:games line 3 /m);
      assert.match(text.stdout, /^ {2}kids-games\.example +games +category +ut1:games line 3 +\[known-good: ut1:child:1, ut1:liste_blanche:2\]$/m);
      assert.match(text.stdout, /^ {2}www\.bookshop\.example +shopping +category +ut1:shopping line 1 \(bookshop\.example\)/m);
      assert.match(text.stdout, /^ {2}www\.maths-site\.example +- +deny_entry +deny entry maths-site\.example +\[known-good: school\]$/m);
      assert.match(text.stdout, /not synced yet \(no copy to read\): .*ut1:liste_bu/);
      assert.match(text.stdout, /Not reported \(no policy of their own; ask with --group\): Visitors/);
      const json = run(['--school', schoolId, '--group', 'Visitors', '--json']);
      assert.equal(json.status, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout).groups.map((g: GroupOverblocking) => [g.name, g.ownPolicy, g.blocked]), [['Visitors', false, 0]]);
      const wrong = run(['--school', schoolId, '--group', 'Nobody']);
      assert.equal(wrong.status, 1);
      assert.match(wrong.stderr, /No group "Nobody"/);
    });

    it('still checks deny entries when there is no catalog, and says so', async () => {
      const noCatalog = createOverblocking({
        catalogFile: path.join(temp(), 'missing.bin'),
        cacheDir: dataPaths(t.app.config).lists,
        policy: t.app.policy,
        sites: t.app.overblocking.sites,
        allowLists: async () => [{ id: 'ut1:liste_blanche', label: 'ut1 liste_blanche', format: 'plain' }],
      });
      const report = await noCatalog.report(schoolId, { group: 'Pupils' });
      assert.match(report.catalog.problem ?? '', /no category catalog/);
      assert.deepEqual(blockedNames(report.groups[0]), ['www.maths-site.example']);
    });

    it('serves the report and the sites over HTTP: heads read, admins change', async () => {
      const got = await head.call('GET', '/api/lists/overblocking?group=Pupils&limit=2');
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.deepEqual([got.body.groups[0].blocked, got.body.groups[0].items.length], [3, 2]);
      assert.deepEqual((await head.call('GET', '/api/lists/known-good')).body.items.map((s: { domain: string }) => s.domain), ['museum.example', 'phet.colorado.edu', 'www.maths-site.example']);
      assert.equal((await head.call('POST', '/api/lists/known-good', { domain: 'x.example', reason: 'r' })).status, 403);

      const bad = await admin.call('POST', '/api/lists/known-good', { domain: 'x y', reason: 'r' });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body.issues.map((i: { where: string }) => i.where), ['domain']);
      const added = await admin.call('POST', '/api/lists/known-good', { domain: 'www.oak.example', note: 'Oak National Academy', reason: 'lessons' });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      const pasted = await admin.call('POST', '/api/lists/known-good/paste', { text: 'a.example\nb example\n', reason: 'bulk' });
      assert.equal(pasted.status, 400);
      assert.deepEqual(pasted.body.issues, [{ where: 'line 2', message: '"b example" spaces are not allowed in a domain name' }]);
      assert.equal((await admin.call('DELETE', `/api/lists/known-good/${added.body.site.id}`, { reason: '' })).status, 400);
      const removed = await admin.call('DELETE', `/api/lists/known-good/${added.body.site.id}`, { reason: 'site closed' });
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      const [entry] = await t.app.audit.list(schoolId, { limit: 1, targetType: 'known_good_site', targetId: added.body.site.id });
      assert.equal(entry.action, 'lists.known_good.delete');
      assert.equal(JSON.parse(entry.details).reason, 'site closed');
      assert.equal((await admin.call('DELETE', `/api/lists/known-good/${added.body.site.id}`, { reason: 'again' })).status, 404);
    });
  });
}

/** The first line of a (gzipped) list that is exactly `entry`. */
async function lineOf(file: string, entry: string): Promise<number> {
  let found = 0;
  await readLines(file, (text, line) => {
    if (!found && text?.trim() === entry) found = line;
  });
  return found;
}

describe('over-blocking report on the real lists in ../shared/data', { skip: existsSync(SHARED) ? false : `${SHARED} is not there (the real lists are kept beside the repository)` }, () => {
  let t: TestApp;
  let schoolId: string;
  let pupils: string;
  const ut1 = (list: string) => path.join(SHARED, 'ut1', list, 'domains.gz');

  before(async () => {
    t = await startTestApp('sqlite');
    const { app } = t;
    schoolId = (await app.schools.create(CLI_ACTOR, { name: 'Real Lists School' })).id;
    pupils = (await app.people.createGroup(CLI_ACTOR, schoolId, { name: 'Pupils', kind: 'custom' })).id;
    const staff = (await app.people.createGroup(CLI_ACTOR, schoolId, { name: 'Staff', kind: 'staff' })).id;
    await app.policy.updateGroupPolicy(CLI_ACTOR, schoolId, pupils, policyOf(['illegal', 'games', 'shopping', 'social_networks', 'phishing'], 'pupils'));
    await app.policy.updateGroupPolicy(CLI_ACTOR, schoolId, staff, policyOf(['illegal'], 'staff', 20));
    const paths = dataPaths(app.config);
    mkdirSync(path.dirname(paths.catalog), { recursive: true });
    await buildCatalog({
      outFile: paths.catalog,
      sources: [
        { name: 'ut1:games', category: 'games', format: 'plain', file: ut1('games') },
        { name: 'ut1:shopping', category: 'shopping', format: 'plain', file: ut1('shopping') },
        { name: 'ut1:social_networks', category: 'social_networks', format: 'plain', file: ut1('social_networks') },
        { name: 'bp:phishing', category: 'phishing', format: 'plain', file: path.join(SHARED, 'blocklistproject', 'domains', 'phishing-nl.txt.gz') },
      ],
    });
    mkdirSync(paths.lists, { recursive: true });
    for (const list of ['liste_bu', 'liste_blanche', 'child']) copyFileSync(ut1(list), cacheFileOf(paths.lists, { id: `ut1:${list}` }));
    await app.overblocking.sites.add(CLI_ACTOR, schoolId, { domain: 'www.researchgate.net', note: 'sixth-form research', reason: 'teachers rely on it' });
  });
  after(() => t?.close());

  it('finds the known conflicts, with the list and line that block each', async () => {
    const report = await t.app.overblocking.report(schoolId);
    assert.ok(report.names > 2500, `${report.names} known-good names read`);
    // The three copies put in the cache are read; every other allow list of the install is named as not synced.
    assert.deepEqual(report.sources.filter((s) => s.copy).map((s) => s.id).sort(), ['school', 'ut1:child', 'ut1:liste_blanche', 'ut1:liste_bu']);
    assert.ok(report.sources.filter((s) => !s.copy).every((s) => /not synced yet/.test(s.note ?? '')));
    const group = groupIn(report, 'Pupils');
    const item = (name: string) => {
      const found = group.items.find((i) => i.name === name);
      assert.ok(found, `${name} is reported as over-blocked for Pupils`);
      return found;
    };
    // From known-good/education-conflicts.tsv: known-good names that these block lists match.
    const pbs = item('pbskids.org');
    assert.deepEqual([pbs.rule, pbs.category], ['category', 'games']);
    assert.ok(pbs.knownGood.some((k) => k.source === 'ut1:child' && typeof k.line === 'number'));
    assert.deepEqual(pbs.lists, [{ list: 'ut1:games', line: await lineOf(ut1('games'), 'pbskids.org'), entry: 'pbskids.org', category: 'games', via: 'name', exact: false }]);
    assert.equal(item('amazon.com').lists[0].line, await lineOf(ut1('shopping'), 'amazon.com'));
    assert.deepEqual(item('linkedin.com').lists.map((l) => l.list), ['ut1:social_networks']);
    const unblog = item('ecolebischoffsheim.unblog.fr');
    assert.deepEqual(unblog.lists.map((l) => [l.list, l.entry, l.via]), [['bp:phishing', 'unblog.fr', 'parent']]);
    const research = item('www.researchgate.net');
    assert.deepEqual(research.knownGood, [{ source: 'school', line: null }]);
    assert.deepEqual(research.lists.map((l) => [l.list, l.entry, l.via]), [['ut1:social_networks', 'researchgate.net', 'parent']]);
    assert.ok(group.byList.some((r) => r.key === 'ut1:games' && r.count >= 10));
    assert.deepEqual([groupIn(report, 'Staff').blocked], [0], 'a group that blocks none of these categories over-blocks nothing');
  });

  it('drops a name the group allows', async () => {
    await t.app.policy.addEntry(CLI_ACTOR, schoolId, { list: 'allow', domain: 'pbskids.org', groupId: pupils, reason: 'used in lessons' });
    const report = await t.app.overblocking.report(schoolId, { group: 'Pupils' });
    assert.equal(report.groups[0].items.some((i) => i.name === 'pbskids.org'), false);
    assert.ok(report.groups[0].items.some((i) => i.name === 'amazon.com'));
  });
});
