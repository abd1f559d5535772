/**
 * Choosing lists: switches on built-in lists and the school's own lists, on
 * both dialects (audited, with reasons, bad uploads refused naming lines);
 * a sync that follows the choices (a list switched off leaves the catalog,
 * an own list joins it, an allow list is kept but never blocks); and over a
 * real DNS socket, an uploaded list blocking for pupils within seconds.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import { dataPaths } from '../config/config.ts';
import { seedDemoSchool } from '../demo/demo.seed.ts';
import { CATEGORY_BIT } from '../filter/categories.ts';
import { loadCatalog } from '../filter/catalog.ts';
import { runSchoolgate } from '../../test/support/cli.ts';
import { signedIn } from '../../test/support/client.ts';
import { DIALECTS, startTestApp, type TestApp } from '../../test/support/dialects.ts';
import { buildQuery, parseAnswer, startTestUpstream, udpExchange } from '../../test/support/dns.ts';
import { startListServer } from '../../test/support/list-server.ts';
import { tempDirs } from '../../test/support/temp.ts';
import { MAX_UPLOAD_BYTES } from './lists.choices.ts';
import { syncConfiguredLists } from './lists.refresh.ts';
import { cacheFileOf, readListStates } from './lists.sync.ts';

const tempDir = tempDirs('choices');

/** A mirror holding two UT1 lists and one allow list. */
function smallMirror(): string {
  const dir = tempDir();
  const files: Record<string, string> = {
    'ut1/gambling/domains.gz': 'casino-one.example\ncasino-two.example\n',
    'ut1/games/domains.gz': 'game-one.example\ngame-two.example\n',
    'ut1/liste_blanche/domains.gz': 'library.example\nmuseum.example\n',
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), gzipSync(text));
  }
  return dir;
}

for (const d of DIALECTS) {
  describe(`list choices (${d.name})`, { skip: d.skip }, () => {
    let t: TestApp;
    let schoolId: string;
    before(async () => {
      t = await startTestApp(d.name);
      schoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Lists School', timezone: 'Europe/London' })).id;
    });
    after(() => t?.close());

    it('switches a built-in list with a reason, audited; refuses ignored and unknown lists and a missing reason', async () => {
      const choices = t.app.listChoices;
      await choices.setEnabled(CLI_ACTOR, schoolId, 'ut1:games', false, 'games are taught in computing');
      assert.equal((await choices.selection()).builtIn.some((l) => l.id === 'ut1:games'), false);
      assert.ok((await choices.selection()).builtIn.some((l) => l.id === 'ut1:gambling'), 'the others keep their default');
      await choices.setEnabled(CLI_ACTOR, schoolId, 'ut1:dynamic-dns', true, 'pupils reach home proxies by dynamic DNS');
      assert.ok((await choices.selection()).builtIn.some((l) => l.id === 'ut1:dynamic-dns'), 'a list off by default switched on');
      await assert.rejects(choices.setEnabled(CLI_ACTOR, schoolId, 'ut1:examen_pix', true, 'x'), /never used/);
      await assert.rejects(choices.setEnabled(CLI_ACTOR, schoolId, 'ut1:nothing', true, 'x'), /not found/);
      await assert.rejects(choices.setEnabled(CLI_ACTOR, schoolId, 'ut1:games', true, '  '), /Say why/);
      const audit = await t.app.audit.list(schoolId, { targetType: 'list', limit: 10 });
      assert.deepEqual(audit.map((a) => [a.action, a.target_id]).reverse(), [['lists.disable', 'ut1:games'], ['lists.enable', 'ut1:dynamic-dns']]);
      assert.match(audit.at(-1)!.details, /games are taught in computing/);
      await choices.setEnabled(CLI_ACTOR, schoolId, 'ut1:games', true, 'back on');
      await choices.setEnabled(CLI_ACTOR, schoolId, 'ut1:dynamic-dns', false, 'back to the default');
    });

    it('adds an own list from an upload, reporting the lines it cannot use, and refuses a file that is no list, naming lines', async () => {
      const choices = t.app.listChoices;
      const content = ['# our list', 'casino-local.example', 'NOT A NAME', 'bet-local.example  # inline comment', '127.0.0.1', ''].join('\n');
      const added = await choices.addOwn(CLI_ACTOR, schoolId, { name: 'Local betting', use: 'block', category: 'gambling', format: 'plain', content, note: 'found by the IT team' }, 'pupils found these');
      assert.equal(added.list.id, 'own:local-betting');
      assert.equal(added.list.bytes, Buffer.byteLength(content));
      assert.equal(added.check!.names, 3);
      assert.deepEqual(added.check!.samples.map((s) => s.line), [3]);
      assert.match(added.check!.samples[0].reason, /more than one word/);

      const notAList = choices.addOwn(CLI_ACTOR, schoolId, { name: 'Broken', use: 'block', category: 'games', format: 'plain', content: 'hello world\nthis is not\n' }, 'x');
      await assert.rejects(notAList, (e: Error & { issues?: { where: string }[] }) => /not a usable plain list: no usable line in 2 line/.test(e.message) && e.issues!.some((i) => i.where === 'content:line 1') && e.issues!.some((i) => i.where === 'content:line 2'));
      await assert.rejects(choices.addOwn(CLI_ACTOR, schoolId, { name: 'Page', use: 'block', category: 'games', format: 'plain', content: '<!DOCTYPE html>\n<html><body>Not found</body></html>\n' }, 'x'), /web page \(HTML\)/);
      await assert.rejects(choices.addOwn(CLI_ACTOR, schoolId, { name: 'Huge', use: 'block', category: 'games', format: 'plain', content: 'a.example\n'.repeat(MAX_UPLOAD_BYTES / 10 + 1) }, 'x'), /at most 32 MiB/);
      await assert.rejects(choices.addOwn(CLI_ACTOR, schoolId, { name: 'No category', use: 'block', format: 'plain', content: 'a.example\n' }, 'x'), (e: Error & { issues?: { where: string }[] }) => e.issues!.some((i) => i.where === 'category'));
      await assert.rejects(choices.addOwn(CLI_ACTOR, schoolId, { name: 'Both', use: 'allow', format: 'plain', content: 'a.example\n', url: 'https://lists.example/a.txt' }, 'x'), /either a URL .* or a file/);
      await assert.rejects(choices.addOwn(CLI_ACTOR, schoolId, { name: 'Ftp', use: 'allow', format: 'plain', url: 'ftp://lists.example/a.txt' }, 'x'), (e: Error & { issues?: { where: string }[] }) => e.issues!.some((i) => i.where === 'url'));
      await assert.rejects(choices.addOwn(CLI_ACTOR, schoolId, { name: 'local betting', use: 'allow', format: 'plain', url: 'https://lists.example/a.txt' }, 'x'), /already a list called/);

      const url = await choices.addOwn(CLI_ACTOR, schoolId, { name: 'Sites teachers use', use: 'allow', format: 'plain', url: 'https://lists.example/teachers.txt' }, 'the staff survey');
      assert.equal(url.check, null, 'a URL list is checked when it is downloaded');
      const own = await choices.listOwn();
      assert.deepEqual(own.map((l) => [l.id, l.use, l.category, l.enabled]), [['own:local-betting', 'block', 'gambling', true], ['own:sites-teachers-use', 'allow', null, true]]);
      assert.equal(JSON.stringify(own).includes('casino-local'), false, 'the listing never carries the text');

      const off = await choices.updateOwn(CLI_ACTOR, schoolId, 'own:sites-teachers-use', { enabled: false }, 'not ready yet');
      assert.equal(off.list.enabled, false);
      assert.deepEqual((await choices.selection()).own.map((l) => l.id), ['own:local-betting']);
      await choices.removeOwn(CLI_ACTOR, schoolId, 'own:sites-teachers-use', 'replaced by the known-good sites');
      assert.deepEqual((await choices.listOwn()).map((l) => l.id), ['own:local-betting']);
      await assert.rejects(choices.removeOwn(CLI_ACTOR, schoolId, 'own:sites-teachers-use', 'again'), /not found/);
      const again = await choices.addOwn(CLI_ACTOR, schoolId, { name: 'Sites teachers use', use: 'allow', format: 'plain', content: 'school.example\n' }, 'as a file');
      assert.equal(again.list.id, 'own:sites-teachers-use-2', 'a removed list keeps its id');
      const actions = (await t.app.audit.list(schoolId, { targetType: 'list', limit: 20 })).map((a) => a.action);
      for (const action of ['lists.own.add', 'lists.own.update', 'lists.own.remove']) assert.ok(actions.includes(action), action);
      await choices.removeOwn(CLI_ACTOR, schoolId, 'own:sites-teachers-use-2', 'tidy');
      await choices.removeOwn(CLI_ACTOR, schoolId, 'own:local-betting', 'tidy');
    });
  });
}

describe('a sync follows the choices', () => {
  it('leaves a switched-off list out, compiles own block lists, keeps allow lists without blocking, and drops a removed list', async () => {
    const t = await startTestApp('sqlite', { overrides: { 'lists.refreshHours': 0 } });
    try {
      const schoolId = (await t.app.schools.create(CLI_ACTOR, { name: 'Sync School', timezone: 'Europe/London' })).id;
      const choices = t.app.listChoices;
      const paths = dataPaths(t.app.config);
      const mirror = smallMirror();
      const sync = async () => syncConfiguredLists(t.app.config, { mirror, selection: await choices.selection() });

      await choices.addOwn(CLI_ACTOR, schoolId, { name: 'Our games', use: 'block', category: 'games', format: 'hosts', content: '0.0.0.0 local-game.example other-game.example\n' }, 'pupils play these');
      await choices.addOwn(CLI_ACTOR, schoolId, { name: 'Teachers rely on', use: 'allow', format: 'plain', content: 'maths-site.example\n' }, 'for the over-blocking report');
      let report = await sync();
      let catalog = loadCatalog(paths.catalog);
      assert.equal(catalog.lookup('casino-one.example'), CATEGORY_BIT.gambling);
      assert.equal(catalog.lookup('game-one.example'), CATEGORY_BIT.games);
      assert.equal(catalog.lookup('other-game.example'), CATEGORY_BIT.games, 'an own hosts list with two names a line');
      assert.equal(catalog.lookup('library.example'), 0, 'an allow list never blocks');
      assert.equal(catalog.lookup('maths-site.example'), 0);
      assert.ok(existsSync(cacheFileOf(paths.lists, { id: 'ut1:liste_blanche' })), 'the allow list is kept for the over-blocking report');
      assert.ok(existsSync(cacheFileOf(paths.lists, { id: 'own:teachers-rely-on' })));
      assert.equal(report.lists.find((l) => l.id === 'own:our-games')!.status, 'updated');
      assert.ok(report.problems.some((p) => p.id === 'ut1:drogue' && p.status === 'missing'), 'lists not in this small mirror are reported');

      report = await sync();
      assert.equal(report.lists.find((l) => l.id === 'own:our-games')!.status, 'unchanged', 'an upload is not re-read while its hash is the same');

      await choices.setEnabled(CLI_ACTOR, schoolId, 'ut1:games', false, 'computing lessons');
      await choices.setEnabled(CLI_ACTOR, schoolId, 'ut1:drogue', false, 'not in our mirror');
      await choices.removeOwn(CLI_ACTOR, schoolId, 'own:our-games', 'no longer needed');
      report = await sync();
      catalog = loadCatalog(paths.catalog);
      assert.equal(catalog.lookup('game-one.example'), 0, 'the switched-off list left the catalog');
      assert.equal(catalog.lookup('local-game.example'), 0, 'the removed list left the catalog');
      assert.equal(catalog.lookup('casino-one.example'), CATEGORY_BIT.gambling);
      assert.equal(readListStates(paths.lists)['ut1:drogue'].problem, null, 'a list switched off no longer has a problem to alert about');
    } finally {
      await t.close();
    }
  });

  it('`schoolgate lists disable` switches a list off, audited as the command line, and `lists sources` shows it', () => {
    const dataDir = tempDir();
    const cli = (args: string[]) => runSchoolgate(dataDir, args);
    const refused = cli(['lists', 'disable', 'ut1:games']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr + refused.stdout, /Say why/);
    const done = cli(['lists', 'disable', 'ut1:games', '--reason', 'computing lessons']);
    assert.equal(done.status, 0, done.stdout + done.stderr);
    const sources = cli(['lists', 'sources']);
    assert.equal(sources.status, 0, sources.stderr);
    assert.match(sources.stdout, /^off ut1:games +block +games /m);
    assert.match(sources.stdout, /^on  ut1:gambling +block +gambling /m);
    assert.match(sources.stdout, /^on  hipo:universities +allow /m);
    assert.match(sources.stdout, /^off ut1:examen_pix +ignore /m);
  });
});

describe('an uploaded list and the running filter', () => {
  let server: Awaited<ReturnType<typeof startListServer>>;
  before(async () => {
    server = await startListServer({ '/staff-list.txt': (_request, response) => response.end('# our list\nstaff-sport.example\n') });
  });
  after(() => server?.close());

  it('blocks an uploaded list’s names for pupils within seconds over a real socket, keeps the demo lists, and a URL list is downloaded', async () => {
    const upstream = await startTestUpstream(new Map([['poker-night.example', { a: ['192.0.2.80'] }], ['staff-sport.example', { a: ['192.0.2.81'] }]]));
    const t = await startTestApp('sqlite', { overrides: { 'dns.enabled': true, 'dns.listen': ['127.0.0.1:0'], 'dns.upstreams': [`127.0.0.1:${upstream.port}`] } });
    try {
      const school = await seedDemoSchool(t.app);
      await t.app.listen();
      const admin = await signedIn(t.app, school.id, ['admin']);
      const head = await signedIn(t.app, school.id, ['head']);
      const port = t.app.dns!.bound.udp[0].port;
      const ask = async (name: string) => parseAnswer(await udpExchange(port, buildQuery(name), { localAddress: '127.0.1.9' })).answers.map((a) => a.data);
      assert.deepEqual(await ask('poker-night.example'), ['192.0.2.80'], 'not in any list yet');
      assert.deepEqual(await ask('bet365.com'), ['127.0.0.1'], 'the demo lists block');

      const listed = await head.call('GET', '/api/lists/sources');
      assert.equal(listed.status, 200);
      assert.ok(listed.body.own.some((l: { name: string }) => l.name === 'Demo gambling'), 'the demo lists are own lists');
      const games = listed.body.sources.find((s: { key: string }) => s.key === 'ut1').lists.find((l: { id: string }) => l.id === 'ut1:games');
      assert.deepEqual([games.use, games.category, games.enabled], ['block', 'games', true]);
      assert.equal((await head.call('POST', '/api/lists/own', { name: 'x', use: 'allow', format: 'plain', content: 'a.example\n', reason: 'x' })).status, 403, 'the head reads, never changes');

      const bad = await admin.call('POST', '/api/lists/own', { name: 'Poker', use: 'block', category: 'gambling', format: 'plain', content: 'not a list\n', reason: 'poker nights' });
      assert.equal(bad.status, 400);
      assert.ok(bad.body.issues.some((i: { where: string }) => i.where === 'content:line 1'), JSON.stringify(bad.body));
      const added = await admin.call('POST', '/api/lists/own', { name: 'Poker', use: 'block', category: 'gambling', format: 'plain', content: 'poker-night.example\n', reason: 'poker nights' });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      assert.ok(['started', 'queued'].includes(added.body.refresh));
      const started = Date.now();
      let answer = await ask('poker-night.example');
      while (answer[0] !== '127.0.0.1' && Date.now() - started < 10_000) {
        await new Promise((r) => setTimeout(r, 100));
        answer = await ask('poker-night.example');
      }
      assert.deepEqual(answer, ['127.0.0.1'], 'blocked for pupils');
      assert.deepEqual(await ask('bet365.com'), ['127.0.0.1'], 'the demo lists are still in the catalog');

      const byUrl = await admin.call('POST', '/api/lists/own', { name: 'Staff sport', use: 'block', category: 'gambling', format: 'plain', url: server.url('/staff-list.txt'), reason: 'from our trust' });
      assert.equal(byUrl.status, 201, JSON.stringify(byUrl.body));
      let state = null;
      for (let i = 0; i < 100 && !state?.names; i++) {
        await new Promise((r) => setTimeout(r, 100));
        state = (await admin.call('GET', '/api/lists/sources')).body.own.find((l: { id: string }) => l.id === 'own:staff-sport').state;
      }
      assert.equal(state.names, 1, 'downloaded from its URL');
      assert.match(state.from, /staff-list\.txt/);

      const off = await admin.call('PATCH', '/api/lists/own/own:poker', { enabled: false, reason: 'poker club approved' });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      const offAt = Date.now();
      answer = await ask('poker-night.example');
      while (answer[0] === '127.0.0.1' && Date.now() - offAt < 10_000) {
        await new Promise((r) => setTimeout(r, 100));
        answer = await ask('poker-night.example');
      }
      assert.deepEqual(answer, ['192.0.2.80'], 'switched off: no longer blocked');
    } finally {
      await t.close();
      await upstream.close();
    }
  });
});
