/**
 * Licensed illegal-content feeds: configured in the config file with their
 * credentials, downloaded by a sync from a real local HTTP server into the
 * `illegal` category, and a status that is red until one is in service,
 * amber when updates fail or are late, and red again after a week. The
 * running app shows it in the API and the metrics, and blocks the feed's
 * names for every group over a real socket.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { type Config, dataPaths, loadConfig } from '../config/config.ts';
import { seedDemoSchool } from '../demo/demo.seed.ts';
import { CATEGORY_BIT } from '../filter/categories.ts';
import { loadCatalog } from '../filter/catalog.ts';
import { runSchoolgate } from '../../test/support/cli.ts';
import { signedIn } from '../../test/support/client.ts';
import { startTestApp } from '../../test/support/dialects.ts';
import { buildQuery, parseAnswer, startTestUpstream, udpExchange } from '../../test/support/dns.ts';
import { servesWithEtag, startListServer } from '../../test/support/list-server.ts';
import { tempDirs } from '../../test/support/temp.ts';
import { feedCandidate, feedHeaders, type FeedList, feedLists, illegalFeedStatus } from './lists.feeds.ts';
import { createListsStatus } from './lists.status.ts';
import { readListStates, syncLists } from './lists.sync.ts';

const tempDir = tempDirs('feeds');
const FEED_BODY = ['# licensed test feed', 'http://csam-site.example/', 'https://terror-site.example', 'http://hosting.example/some/page.html', 'hosting.example/another/page', ''].join('\n');
const BASIC = `Basic ${Buffer.from('school-7:correct horse').toString('base64')}`;

function configWith(feeds: unknown[], extra: Record<string, unknown> = {}): Config {
  return loadConfig({ env: {}, overrides: { dataDir: tempDir(), 'log.level': 'silent', 'lists.illegalFeeds': feeds, ...extra } });
}

describe('feed configuration', () => {
  it('reads a feed from the config file, with its password in a file of its own', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'iwf.password'), 'correct horse\n', { mode: 0o600 });
    const file = path.join(dir, 'schoolgate.yaml');
    writeFileSync(file, ['lists:', '  illegalFeeds:', '    - name: IWF', '      url: https://feeds.example.org/iwf/list.txt', '      username: school-7', `      passwordFile: ${path.join(dir, 'iwf.password')}`, ''].join('\n'));
    const config = loadConfig({ env: {}, file });
    const [feed] = config.lists.illegalFeeds;
    assert.equal(feed.format, 'urls', 'URL lists by default');
    assert.equal(feedHeaders(feed).authorization, BASIC);
  });

  it('says which field is wrong', () => {
    const url = 'https://feeds.example.org/list';
    const fails = (feed: Record<string, unknown> | Record<string, unknown>[], pattern: RegExp) => assert.throws(() => configWith(Array.isArray(feed) ? feed : [feed]), (e: Error & { issues?: { where: string; message: string }[] }) => {
      assert.ok(e.issues?.some((i) => pattern.test(`${i.where}: ${i.message}`)), JSON.stringify(e.issues));
      return true;
    });
    fails({ name: 'IWF', url, password: 'x' }, /lists\.illegalFeeds\.0\.username.*needed with a password/);
    fails({ name: 'IWF', url, username: 'u' }, /lists\.illegalFeeds\.0\.password.*needed with a username/);
    fails({ name: 'IWF', url, token: 't', tokenFile: '/x' }, /tokenFile.*not both/);
    fails({ name: 'IWF', url: 'ftp://feeds.example.org/x' }, /lists\.illegalFeeds\.0\.url/);
    fails({ name: 'IWF', url, format: 'csv' }, /lists\.illegalFeeds\.0\.format/);
    fails([{ name: 'IWF', url }, { name: 'iwf', url }], /lists\.illegalFeeds\.1\.name.*used by another feed/);
  });

  it('sends a token as a bearer or in the header named, and never prints a secret', () => {
    const config = configWith([{ name: 'CTIRU', url: 'https://feeds.example.org/c', token: 'tok-123' }, { name: 'Other', url: 'https://feeds.example.org/o', token: 'tok-456', tokenHeader: 'X-Api-Key' }]);
    assert.equal(feedHeaders(config.lists.illegalFeeds[0]).authorization, 'Bearer tok-123');
    assert.equal(feedHeaders(config.lists.illegalFeeds[1])['x-api-key'], 'tok-456');
    assert.doesNotMatch(JSON.stringify(config), /tok-123|tok-456/);
    const missing = configWith([{ name: 'IWF', url: 'https://feeds.example.org/i', username: 'u', passwordFile: '/nowhere/pw' }]);
    assert.throws(() => feedHeaders(missing.lists.illegalFeeds[0]), /IWF: passwordFile \/nowhere\/pw cannot be read \(ENOENT\)/);
  });
});

describe('the illegal feed status', () => {
  it('is red with advice while no feed is configured', () => {
    const status = illegalFeedStatus([], {}, { now: new Date(), staleHours: 48 });
    assert.equal(status.level, 'red');
    assert.match(status.summary, /No licensed illegal-content feed \(IWF, CTIRU\) is configured/);
    assert.match(status.advice!, /broadband provider applies the IWF and CTIRU lists upstream/);
    assert.equal(status.testName, 'illegal-test.schoolgate.invalid');
  });
});

describe('syncing a licensed feed', async () => {
  const server = await startListServer();
  after(() => server.close());
  let password = 'correct horse';
  server.on('/iwf.txt', (request, response) => {
    if (request.headers.authorization !== `Basic ${Buffer.from(`school-7:${password}`).toString('base64')}`) response.writeHead(401).end();
    else servesWithEtag(FEED_BODY, '"feed-1"')(request, response);
  });

  it('goes red (401), then green, then amber when late or failing, and red after a week; the names are in illegal', async () => {
    const config = configWith([{ name: 'IWF', url: server.url('/iwf.txt'), username: 'school-7', password: 'wrong' }]);
    const paths = dataPaths(config);
    let now = new Date('2026-11-24T09:00:00Z');
    const clock = () => now;
    const status = createListsStatus({ cacheDir: paths.lists, lists: config.lists, clock });
    const sync = (feeds: FeedList[]) => syncLists({ lists: feeds, candidate: feedCandidate, cacheDir: paths.lists, catalogFile: paths.catalog, clock });

    assert.match(status.current().illegalFeed.feeds[0].message, /configured but not loaded yet/);
    const refused = await sync(feedLists(config.lists.illegalFeeds));
    assert.equal(refused.problems[0].status, 'failed');
    assert.match(refused.problems[0].reason!, /download failed: the server answered HTTP 401 Unauthorized \(check the credentials\)/);
    let health = status.current();
    assert.equal(health.illegalFeed.level, 'red');
    assert.match(health.illegalFeed.summary, /IWF: not loaded yet: download failed: .*HTTP 401/);
    assert.deepEqual(health.problems.map((p) => [p.id, p.inService]), [['feed:iwf', false]]);

    const good = configWith([{ name: 'IWF', url: server.url('/iwf.txt'), username: 'school-7', password: 'correct horse' }]);
    const loaded = await sync(feedLists(good.lists.illegalFeeds));
    assert.deepEqual(loaded.problems, []);
    assert.equal(loaded.lists[0].status, 'updated');
    const catalog = loadCatalog(paths.catalog);
    for (const name of ['csam-site.example', 'www.csam-site.example', 'terror-site.example']) assert.equal(catalog.lookup(name) & CATEGORY_BIT.illegal, CATEGORY_BIT.illegal, name);
    assert.equal(catalog.lookup('hosting.example'), 0, 'a page URL does not block its whole host');
    health = status.current();
    assert.equal(health.illegalFeed.level, 'green');
    assert.equal(health.illegalFeed.feeds[0].names, 2);
    assert.equal(health.illegalFeed.feeds[0].linesNotUsed, 2);
    assert.match(health.illegalFeed.feeds[0].message, /2 site\(s\) blocked; 2 page URL line\(s\) left to URL-level filtering/);
    assert.equal(health.illegalFeed.feeds[0].url, server.url('/iwf.txt'));

    now = new Date('2026-11-26T10:00:00Z'); // 49 hours later, nothing synced
    assert.equal(status.current().illegalFeed.level, 'amber');
    const unchanged = await sync(feedLists(good.lists.illegalFeeds));
    assert.equal(unchanged.lists[0].status, 'unchanged');
    assert.equal(server.seen.at(-1)!.headers['if-none-match'], '"feed-1"', 'asked only for a change');
    assert.equal(status.current().illegalFeed.level, 'green', 'a 304 counts as brought in');

    password = 'rotated'; // the licence's password changed at the source
    now = new Date('2026-11-27T10:00:00Z');
    const failing = await sync(feedLists(good.lists.illegalFeeds));
    assert.equal(failing.lists[0].status, 'kept');
    health = status.current();
    assert.equal(health.illegalFeed.level, 'amber');
    assert.match(health.illegalFeed.feeds[0].message, /the latest update failed: .*the copy in service still blocks/);
    assert.deepEqual(health.problems.map((p) => [p.id, p.inService]), [['feed:iwf', true]]);
    assert.equal(loadCatalog(paths.catalog).lookup('csam-site.example') & CATEGORY_BIT.illegal, CATEGORY_BIT.illegal, 'still blocked');

    now = new Date('2026-12-04T11:00:00Z'); // a week after it was last brought in
    assert.equal(status.current().illegalFeed.level, 'red');
    assert.match(status.current().illegalFeed.feeds[0].message, /out of date/);
    assert.doesNotMatch(JSON.stringify(readListStates(paths.lists)), /correct horse|rotated/);
  });
});

describe('the running app and a feed', () => {
  it('shows red in the API and metrics until a feed is synced, then blocks its names for staff too, over a real socket', async () => {
    const server = await startListServer({ '/ctiru.txt': (request, response) => (request.headers['x-api-key'] === 'key-9' ? response.end('http://terror-site.example/\n') : response.writeHead(403).end()) });
    const upstream = await startTestUpstream(new Map([['terror-site.example', { a: ['192.0.2.60'] }]]));
    const t = await startTestApp('sqlite', {
      overrides: { 'dns.enabled': true, 'dns.listen': ['127.0.0.1:0'], 'dns.upstreams': [`127.0.0.1:${upstream.port}`], 'lists.illegalFeeds': [{ name: 'CTIRU', url: server.url('/ctiru.txt'), token: 'key-9', tokenHeader: 'X-Api-Key' }] },
    });
    try {
      const school = await seedDemoSchool(t.app);
      await t.app.listen();
      const admin = await signedIn(t.app, school.id, ['admin']);
      const red = await admin.call('GET', '/api/lists/status');
      assert.equal(red.status, 200);
      assert.equal(red.body.illegalFeed.level, 'red');
      assert.equal(red.body.illegalFeed.feeds[0].name, 'CTIRU');
      const metrics = await t.app.http.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /^schoolgate_illegal_feed_level 2$/m);
      const teacher = await signedIn(t.app, school.id, ['staff']);
      assert.equal((await teacher.call('GET', '/api/lists/status')).status, 403);

      const port = t.app.dns!.bound.udp[0].port;
      const ask = async () => parseAnswer(await udpExchange(port, buildQuery('terror-site.example'), { localAddress: '127.0.2.5' })).answers.map((a) => a.data);
      assert.deepEqual(await ask(), ['192.0.2.60'], 'staff reach it before the feed is loaded');
      const refresh = await admin.call('POST', '/api/lists/refresh');
      assert.equal(refresh.status, 202);
      assert.equal((await teacher.call('POST', '/api/lists/refresh')).status, 403);
      const started = Date.now();
      let answer = await ask();
      while (answer[0] === '192.0.2.60' && Date.now() - started < 10_000) {
        await new Promise((r) => setTimeout(r, 100));
        answer = await ask();
      }
      assert.deepEqual(answer, ['127.0.0.1'], 'blocked for staff: illegal is blocked for every group');
      assert.equal((await admin.call('GET', '/api/lists/status')).body.illegalFeed.level, 'green');
      const allow = await admin.call('POST', '/api/filter/entries', { list: 'allow', domain: 'terror-site.example', reason: 'trying to allow a listed site' });
      assert.equal(allow.status, 400, 'a name the feed puts in illegal can never be allowed');
      assert.match(JSON.stringify(allow.body), /is in the illegal category \(IWF \/ CTIRU lists\): it can never be allowed/);
      assert.match((await t.app.http.inject({ method: 'GET', url: '/metrics' })).body, /^schoolgate_illegal_feed_level 0$/m);
      const after = (await admin.call('GET', '/api/lists/status')).body.refresh;
      assert.equal(after.running, false);
      assert.match(after.last.trigger, /^by Route Tester/);

      // The feed's server fails: the copy in service stays, the status turns amber and a critical system alert opens.
      server.on('/ctiru.txt', (_q, r) => r.writeHead(500).end());
      await t.app.listsRefresher.runNow('test');
      assert.equal((await admin.call('GET', '/api/lists/status')).body.illegalFeed.level, 'amber');
      let alerts: { key: string; severity: string; title: string }[] = [];
      for (let i = 0; i < 100 && !alerts.length; i++) {
        await new Promise((r) => setTimeout(r, 100));
        alerts = (await admin.call('GET', '/api/alerts')).body.items;
      }
      assert.deepEqual(alerts.map((a) => [a.key, a.severity]), [['list:feed:ctiru', 'critical']]);
      assert.match(alerts[0].title, /licensed illegal-content feed ctiru could not be updated/);
      assert.deepEqual(await ask(), ['127.0.0.1'], 'still blocked from the last good copy');
    } finally {
      await t.close();
      await upstream.close();
      await server.close();
    }
  });
});

describe('schoolgate lists status', () => {
  it('prints RED with the advice and exits 1 when no feed is configured', () => {
    const dataDir = tempDir();
    const result = runSchoolgate(dataDir, ['lists', 'status']);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /illegal-content feeds: RED: No licensed illegal-content feed/);
    assert.match(result.stdout, /Check enforcement any time: dig illegal-test\.schoolgate\.invalid/);
  });
});
