/**
 * The DNS filter inside a whole Schoolgate (the demo school on a real SQLite
 * file): pupils and staff differ by network, DoH answers a device's token
 * over HTTP (GET and POST), a policy change made through the service reaches
 * the running filter within 5 seconds, and events reach the store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/auth/auth.context.ts';
import { seedDemoSchool } from '../../src/demo/demo.seed.ts';
import { startTestApp, type TestApp } from '../support/dialects.ts';
import { buildQuery, parseAnswer, startTestUpstream, type TestUpstream, udpExchange } from '../support/dns.ts';

describe('DNS filter in the running app (demo school)', () => {
  let t: TestApp;
  let upstream: TestUpstream;
  let schoolId: string;
  let pupilsId: string;
  let port: number;

  before(async () => {
    upstream = await startTestUpstream(new Map([['tinder.com', { a: ['192.0.2.30'] }], ['example.org', { a: ['192.0.2.10'] }]]));
    t = await startTestApp('sqlite', { overrides: { 'dns.enabled': true, 'dns.listen': ['127.0.0.1:0'], 'dns.upstreams': [`127.0.0.1:${upstream.port}`] } });
    const school = await seedDemoSchool(t.app);
    schoolId = school.id;
    pupilsId = (await t.app.people.listGroups(schoolId)).find((g) => g.name === 'Pupils')!.id;
    t.url = await t.app.listen();
    port = t.app.dns!.bound.udp[0].port;
  });
  after(async () => {
    await t.close();
    await upstream.close();
  });

  const ask = async (name: string, from: string) => parseAnswer(await udpExchange(port, buildQuery(name), { localAddress: from }));

  it('blocks dating for pupils (127.0.1.0/24) and not for staff (127.0.2.0/24); refuses other addresses', async () => {
    const pupil = await ask('tinder.com', '127.0.1.5');
    assert.notDeepEqual(pupil.answers.map((r) => r.data), ['192.0.2.30']);
    assert.deepEqual((await ask('tinder.com', '127.0.2.5')).answers.map((r) => r.data), ['192.0.2.30']);
    assert.equal((await ask('tinder.com', '127.0.3.5')).rcode, 5);
  });

  it('answers DNS-over-HTTPS for a device token (GET and POST), and REFUSED without one off the school’s networks', async () => {
    const { token } = await t.app.devices.create(SYSTEM_ACTOR, schoolId, { name: 'Test iPad', platform: 'ipados', groupId: pupilsId });
    await t.app.dns!.refresh();
    const query = buildQuery('example.org', { id: 0 });
    const get = await fetch(`${t.url}/dns-query/${token}?dns=${query.toString('base64url')}`);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-type'), 'application/dns-message');
    assert.deepEqual(parseAnswer(Buffer.from(await get.arrayBuffer())).answers.map((r) => r.data), ['192.0.2.10']);
    const post = await fetch(`${t.url}/dns-query/${token}`, { method: 'POST', headers: { 'content-type': 'application/dns-message' }, body: new Uint8Array(buildQuery('tinder.com', { id: 0 })) });
    const blocked = parseAnswer(Buffer.from(await post.arrayBuffer()));
    assert.notDeepEqual(blocked.answers.map((r) => r.data), ['192.0.2.30'], 'the iPad is in Pupils: dating is blocked');
    const anonymous = await fetch(`${t.url}/dns-query?dns=${query.toString('base64url')}`);
    assert.equal(parseAnswer(Buffer.from(await anonymous.arrayBuffer())).rcode, 5);
    const bad = await fetch(`${t.url}/dns-query?dns=***`);
    assert.equal(bad.status, 400);
    const wrongType = await fetch(`${t.url}/dns-query/${token}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(wrongType.status, 415);
  });

  it('takes a policy change made through the service within 5 seconds', async () => {
    await t.app.policy.addEntry(SYSTEM_ACTOR, schoolId, { list: 'allow', domain: 'tinder.com', groupId: pupilsId, reason: 'test: a teacher needs it for a lesson' });
    const started = Date.now();
    let answer = await ask('tinder.com', '127.0.1.5');
    while (answer.answers[0]?.data !== '192.0.2.30' && Date.now() - started < 5000) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await ask('tinder.com', '127.0.1.5');
    }
    assert.deepEqual(answer.answers.map((r) => r.data), ['192.0.2.30'], `allowed within ${Date.now() - started} ms`);
  });

  it('writes events to the store', async () => {
    await new Promise((r) => setTimeout(r, 400)); // workers hand events over every 250 ms
    await t.app.events.flush();
    const rows = await t.app.store.db.selectFrom('filter_events').selectAll().where('school_id', '=', schoolId).where('name', '=', 'tinder.com').execute();
    assert.ok(rows.some((r) => r.kind === 'blocked' && r.category === 'dating' && r.client === '127.0.1.5'), 'the pupil’s blocked query is recorded');
    assert.ok(rows.some((r) => r.kind === 'allowed' && r.client === '127.0.2.5'));
    assert.ok(rows.some((r) => r.transport === 'doh'));
  });
});
