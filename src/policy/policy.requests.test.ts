/**
 * Unblock requests from asking to outcome, on both dialects, through the real
 * app: a request from the block page (as a pupil-lab address), decisions over
 * the API by signed-in accounts, the exemption reaching the running filter
 * over a real DNS socket, expiry, the DSL's agreement for safeguarding
 * categories, filter-off by the head, permissions, the requester's status
 * page, and the audit entries.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedDemoSchool } from '../demo/demo.seed.ts';
import { Client, signedIn } from '../../test/support/client.ts';
import { DIALECTS, startTestApp, type TestApp } from '../../test/support/dialects.ts';
import { buildQuery, parseAnswer, startTestUpstream, type TestUpstream, udpExchange } from '../../test/support/dns.ts';

/** The demo's "Pupil lab (this computer)" network: filtered as Pupils. */
const PUPIL_ADDRESS = '127.0.1.5';
const BLOCK_PAGE = '127.0.0.1';
const ZONE = new Map([
  ['tiktok.com', { a: ['192.0.2.61'] }],
  ['bet365.com', { a: ['192.0.2.62'] }],
  ['reddit.com', { a: ['192.0.2.63'] }],
  ['instagram.com', { a: ['192.0.2.64'] }],
]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

for (const d of DIALECTS) {
  describe(`unblock requests (${d.name})`, { skip: d.skip }, () => {
    let t: TestApp;
    let upstream: TestUpstream;
    let schoolId: string;
    let pupilsId: string;
    let staffGroupId: string;
    let admin: Client;
    let dsl: Client;
    let head: Client;
    let staff: Client;
    let pupil: Client;

    before(async () => {
      upstream = await startTestUpstream(ZONE);
      t = await startTestApp(d.name, {
        overrides: { 'dns.enabled': true, 'dns.listen': ['127.0.0.1:0'], 'dns.upstreams': [`127.0.0.1:${upstream.port}`], 'auth.signInRatePerMinute': 1000 },
      });
      await seedDemoSchool(t.app);
      await t.app.listen();
      schoolId = (await t.app.schools.list())[0].id;
      const groups = await t.app.people.listGroups(schoolId);
      pupilsId = groups.find((g) => g.name === 'Pupils')!.id;
      staffGroupId = groups.find((g) => g.name === 'Staff')!.id;
      admin = await signedIn(t.app, schoolId, ['admin']);
      dsl = await signedIn(t.app, schoolId, ['dsl']);
      head = await signedIn(t.app, schoolId, ['head']);
      staff = await signedIn(t.app, schoolId, ['staff']);
      pupil = await signedIn(t.app, schoolId, ['pupil']);
    });
    after(async () => {
      await t?.close();
      await upstream?.close();
    });

    /** What the running filter answers a pupil-lab device for a name. */
    const ask = async (name: string) => parseAnswer(await udpExchange(t.app.dns!.bound.udp[0].port, buildQuery(name), { localAddress: PUPIL_ADDRESS })).answers.map((a) => a.data);
    /** Asks until the answer is `want` or `ms` pass; returns the last answer. */
    const askUntil = async (name: string, want: string, ms: number) => {
      const started = Date.now();
      let answer = await ask(name);
      while (answer[0] !== want && Date.now() - started < ms) {
        await sleep(100);
        answer = await ask(name);
      }
      return answer;
    };

    /** Sends the block page's form from a pupil-lab address; returns the request id and its status page path. */
    async function askFromBlockPage(site: string, message = 'We need it for the media studies coursework.') {
      const response = await t.app.http.inject({
        method: 'POST',
        url: '/blocked/review',
        remoteAddress: PUPIL_ADDRESS,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ site, message, name: 'Sam' }).toString(),
      });
      assert.equal(response.statusCode, 201, response.body);
      const statusPath = /href="(\/blocked\/status\/[A-Za-z0-9_-]{43})"/.exec(response.body)?.[1];
      assert.ok(statusPath, 'the page links to the request’s status page');
      const [request] = (await t.app.unblockRequests.list(schoolId)).filter((r) => r.site === site);
      return { id: request.id, statusPath };
    }
    const statusPage = async (statusPath: string) => {
      const response = await t.app.http.inject({ method: 'GET', url: statusPath });
      return { status: response.statusCode, text: response.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ') };
    };
    const auditOf = async (id: string) => (await t.app.audit.list(schoolId, { limit: 50, targetType: 'unblock_request', targetId: id })).map((e) => e.action).reverse();

    it('approves a site for a group: an exemption the filter applies within 5 s over DNS, ending by itself', async () => {
      assert.deepEqual(await ask('tiktok.com'), [BLOCK_PAGE], 'social networks are blocked for pupils');
      const { id, statusPath } = await askFromBlockPage('tiktok.com');
      const pending = await statusPage(statusPath);
      assert.equal(pending.status, 200);
      assert.match(pending.text, /tiktok\.com is waiting/);
      assert.match(pending.text, /network manager/);
      const listed = await admin.call('GET', '/api/filter/unblock-requests?status=open');
      const item = listed.body.items.find((r: { id: string }) => r.id === id);
      assert.deepEqual([item.groupId, item.safeguarding, item.waitingFor], [pupilsId, false, 'network_manager']);

      const until = inSeconds(8);
      const approved = await admin.call('POST', `/api/filter/unblock-requests/${id}/decision`, { decision: 'approve', scope: 'groups', groupIds: [pupilsId], until, reason: 'Coursework on short-form video' });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.equal(approved.body.request.status, 'approved');
      assert.equal(approved.body.request.exemptionIds.length, 1);
      const [exemption] = (await t.app.policy.listExemptions(schoolId, { activeOnly: true })).filter((e) => e.id === approved.body.request.exemptionIds[0]);
      assert.deepEqual([exemption.domain, exemption.groupId, exemption.until], ['tiktok.com', pupilsId, new Date(until).toISOString()]);

      const started = Date.now();
      assert.deepEqual(await askUntil('tiktok.com', '192.0.2.61', 5000), ['192.0.2.61'], `allowed after ${Date.now() - started} ms`);
      assert.ok(Date.now() - started < 5000);
      const done = await statusPage(statusPath);
      assert.match(done.text, /was approved/);
      assert.match(done.text, /unblocked for Pupils until/);

      // The exemption ends by itself: blocked again once `until` has passed, with nobody doing anything.
      await sleep(Math.max(0, Date.parse(until) - Date.now()));
      assert.deepEqual(await askUntil('tiktok.com', BLOCK_PAGE, 5000), [BLOCK_PAGE], 'blocked again after the exemption ended');
      assert.deepEqual(await auditOf(id), ['filter.unblock_request.approve']);
      const exemptionAudit = await t.app.audit.list(schoolId, { limit: 5, targetType: 'filter_exemption', targetId: exemption.id });
      assert.equal(exemptionAudit[0].action, 'filter.exemption.create');
    });

    it('a safeguarding category waits for the DSL: nothing is unblocked until the DSL agrees', async () => {
      const { id, statusPath } = await askFromBlockPage('bet365.com', 'Maths lesson on the odds of gambling.');
      const approved = await admin.call('POST', `/api/filter/unblock-requests/${id}/decision`, { decision: 'approve', groupIds: [pupilsId], until: inSeconds(3600), reason: 'Year 10 probability unit' });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.deepEqual([approved.body.request.status, approved.body.request.waitingFor, approved.body.request.safeguarding, approved.body.request.exemptionIds], ['awaiting_dsl', 'dsl', true, []]);
      assert.ok(!(await t.app.policy.listExemptions(schoolId)).some((e) => e.domain === 'bet365.com'), 'no exemption before the DSL agrees');
      assert.match((await statusPage(statusPath)).text, /designated safeguarding lead/);

      // Only an account with the DSL role answers; the network manager cannot approve twice.
      for (const other of [admin, head, staff]) assert.equal((await other.call('POST', `/api/filter/unblock-requests/${id}/dsl`, { agree: true, reason: 'x' })).status, 403);
      assert.equal((await admin.call('POST', `/api/filter/unblock-requests/${id}/decision`, { decision: 'approve', groupIds: [pupilsId], until: inSeconds(60), reason: 'again' })).status, 409);
      const noReason = await dsl.call('POST', `/api/filter/unblock-requests/${id}/dsl`, { agree: true, reason: ' ' });
      assert.deepEqual([noReason.status, noReason.body.issues[0].where], [400, 'body.reason']);

      assert.deepEqual(await ask('bet365.com'), [BLOCK_PAGE], 'still blocked while waiting for the DSL');
      const agreed = await dsl.call('POST', `/api/filter/unblock-requests/${id}/dsl`, { agree: true, reason: 'Supervised lesson; reviewed the site' });
      assert.equal(agreed.status, 200, JSON.stringify(agreed.body));
      assert.equal(agreed.body.request.status, 'approved');
      assert.match(agreed.body.request.dslBy, /Route Tester/);
      assert.deepEqual(await askUntil('bet365.com', '192.0.2.62', 5000), ['192.0.2.62'], 'allowed once the DSL agreed');
      const [exemption] = (await t.app.policy.listExemptions(schoolId, { activeOnly: true })).filter((e) => e.domain === 'bet365.com');
      assert.match(exemption.approvedBy, /agreed by .*\(DSL\)/);
      assert.deepEqual(await auditOf(id), ['filter.unblock_request.approve', 'filter.unblock_request.dsl_agree']);
      assert.match((await statusPage(statusPath)).text, /was approved/);
    });

    it('refusals (by the network manager or the DSL) need a reason, which the requester sees', async () => {
      const { id, statusPath } = await askFromBlockPage('instagram.com', 'Art department posts work there.');
      const request = await t.app.unblockRequests.get(schoolId, id);
      assert.equal(request.safeguarding, false);
      const refused = await admin.call('POST', `/api/filter/unblock-requests/${id}/decision`, { decision: 'refuse', reason: '' });
      assert.deepEqual([refused.status, refused.body.issues[0].where], [400, 'body.reason']);
      const ok = await admin.call('POST', `/api/filter/unblock-requests/${id}/decision`, { decision: 'refuse', reason: 'Use the school’s own gallery instead' });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual([ok.body.request.status, ok.body.request.decisionReason, ok.body.request.exemptionIds], ['refused', 'Use the school’s own gallery instead', []]);
      const page = await statusPage(statusPath);
      assert.match(page.text, /was refused/);
      assert.match(page.text, /Use the school’s own gallery instead/);
      assert.equal((await admin.call('POST', `/api/filter/unblock-requests/${id}/decision`, { decision: 'refuse', reason: 'again' })).status, 409, 'decided once');
      assert.deepEqual(await auditOf(id), ['filter.unblock_request.refuse']);

      // A DSL decline: the app's own request for a gambling site, approved by the network manager, declined by the DSL.
      const asked = await staff.call('POST', '/api/filter/unblock-requests', { kind: 'site', site: 'williamhill.com', message: 'PSHE lesson on gambling harms' });
      assert.equal(asked.status, 201, JSON.stringify(asked.body));
      assert.equal(asked.body.request.safeguarding, true);
      const sid = asked.body.request.id;
      await admin.call('POST', `/api/filter/unblock-requests/${sid}/decision`, { decision: 'approve', scope: 'requester', until: inSeconds(600), reason: 'One lesson' });
      const declined = await dsl.call('POST', `/api/filter/unblock-requests/${sid}/dsl`, { agree: false, reason: 'Screenshots will do for this lesson' });
      assert.deepEqual([declined.status, declined.body.request.status, declined.body.request.dslReason], [200, 'refused', 'Screenshots will do for this lesson']);
      assert.match((await statusPage(asked.body.statusPath)).text, /Screenshots will do for this lesson/);
      assert.deepEqual(await auditOf(sid), ['filter.unblock_request.create', 'filter.unblock_request.approve', 'filter.unblock_request.dsl_decline']);
      const mine = await staff.call('GET', '/api/filter/unblock-requests/mine');
      assert.deepEqual(mine.body.items.map((r: { id: string; status: string }) => [r.id, r.status]), [[sid, 'refused']]);
    });

    it('only the network manager decides sites; pupils, staff, the DSL and the head cannot', async () => {
      const { id } = await askFromBlockPage('reddit.com', 'History society research threads.');
      const body = { decision: 'approve', groupIds: [pupilsId], until: inSeconds(600), reason: 'x' };
      for (const other of [pupil, staff, dsl, head]) assert.equal((await other.call('POST', `/api/filter/unblock-requests/${id}/decision`, body)).status, 403);
      assert.equal((await new Client(t.app).call('POST', `/api/filter/unblock-requests/${id}/decision`, body)).status, 401);
      for (const other of [pupil, staff]) assert.equal((await other.call('GET', '/api/filter/unblock-requests')).status, 403);
      for (const reader of [admin, dsl, head]) assert.equal((await reader.call('GET', '/api/filter/unblock-requests')).status, 200);
      assert.equal((await admin.call('POST', `/api/filter/unblock-requests/${id}/decision`, body, { csrf: false })).status, 403, 'CSRF is checked');
      const bad = await admin.call('POST', `/api/filter/unblock-requests/${id}/decision`, { ...body, groupIds: ['nope'], until: inSeconds(-60) });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.body.issues.map((i: { where: string }) => i.where).sort(), ['groupIds.0', 'until']);
      assert.equal((await admin.call('POST', '/api/filter/unblock-requests/nope/decision', body)).status, 404);
      assert.equal((await t.app.unblockRequests.get(schoolId, id)).status, 'open', 'nothing half-stored');
      assert.deepEqual(await auditOf(id), []);
      const missing = await t.app.http.inject({ method: 'GET', url: `/blocked/status/${'x'.repeat(43)}` });
      assert.equal(missing.statusCode, 404);
    });

    it('filter-off for a group is decided by the head only; illegal stays blocked', async () => {
      const asked = await staff.call('POST', '/api/filter/unblock-requests', { kind: 'filter_off', groupId: pupilsId, message: 'Exam invigilation test of the filter' });
      assert.equal(asked.status, 201, JSON.stringify(asked.body));
      const id = asked.body.request.id;
      assert.equal(asked.body.request.waitingFor, 'head');
      const body = { decision: 'approve', until: inSeconds(3600), reason: 'Agreed for the filtering check' };
      for (const other of [admin, dsl, staff, pupil]) assert.equal((await other.call('POST', `/api/filter/unblock-requests/${id}/decision`, body)).status, 403);
      assert.deepEqual(await ask('reddit.com'), [BLOCK_PAGE]);
      const approved = await head.call('POST', `/api/filter/unblock-requests/${id}/decision`, body);
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      assert.equal(approved.body.request.status, 'approved');
      const exemptions = (await t.app.policy.listExemptions(schoolId, { activeOnly: true })).filter((e) => approved.body.request.exemptionIds.includes(e.id));
      assert.ok(exemptions.length > 10 && exemptions.every((e) => e.groupId === pupilsId && e.category && e.category !== 'illegal' && e.domain === null));
      assert.deepEqual(await askUntil('reddit.com', '192.0.2.63', 5000), ['192.0.2.63'], 'allowed with filtering off');
      const illegal = parseAnswer(await udpExchange(t.app.dns!.bound.udp[0].port, buildQuery('illegal-test.schoolgate.invalid'), { localAddress: PUPIL_ADDRESS }));
      assert.deepEqual(illegal.answers.map((a) => a.data), [BLOCK_PAGE], 'illegal content stays blocked');
      assert.deepEqual(await auditOf(id), ['filter.unblock_request.create', 'filter.unblock_request.filter_off_approve']);
      const refusedByAdmin = await staff.call('POST', '/api/filter/unblock-requests', { kind: 'filter_off', groupId: staffGroupId, message: 'Please switch it off for staff' });
      const refused = await head.call('POST', `/api/filter/unblock-requests/${refusedByAdmin.body.request.id}/decision`, { decision: 'refuse', reason: 'Not in our filtering policy' });
      assert.deepEqual([refused.status, refused.body.request.status], [200, 'refused']);
      const none = await staff.call('POST', '/api/filter/unblock-requests', { kind: 'filter_off', message: 'no target given' });
      assert.deepEqual([none.status, none.body.issues[0].where], [400, 'personId']);
    });
  });
}
