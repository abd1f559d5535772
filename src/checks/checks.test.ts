/**
 * Filter checks against a real running Schoolgate (the demo school, DNS on
 * loopback, a loopback upstream), on both store dialects: a run asks the
 * filter as Pupils, Staff and Visitors over UDP and TCP (from addresses in
 * the demo's loopback networks) and DoH (group check tokens), and records
 * what the policy expects; an exemption that lets pupils gamble shows as not
 * as expected; actions are recorded and audited; the self-test raises and
 * resolves an alert; the device check page sees a pupil device and its probes.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { CLI_ACTOR } from '../auth/auth.context.ts';
import { seedDemoSchool } from '../demo/demo.seed.ts';
import { ILLEGAL_TEST_NAME } from '../filter/special-names.ts';
import { type Client, signedIn } from '../../test/support/client.ts';
import { DIALECTS, startTestApp, type TestApp } from '../../test/support/dialects.ts';
import { startTestUpstream, type TestUpstream } from '../../test/support/dns.ts';
import { createChecks, type CheckResultView, type CheckRunDetail } from './checks.service.ts';

/** One HTTP request from a chosen source address with a chosen Host header. */
function request(url: string, options: { host?: string; from?: string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(url), { localAddress: options.from, headers: options.host ? { host: options.host } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const find = (run: CheckRunDetail, group: string, name: string, transport: string): CheckResultView => {
  const found = run.results.find((r) => r.groupName === group && r.name === name && r.transport === transport);
  assert.ok(found, `no result for ${group} ${name} ${transport}`);
  return found;
};
const unexpected = (run: CheckRunDetail) => run.results.filter((r) => r.asExpected === false).map((r) => `${r.groupName} ${r.name} ${r.transport}: ${r.detail}`);

for (const d of DIALECTS) {
  describe(`filter checks (${d.name})`, { skip: d.skip }, () => {
    let t: TestApp;
    let upstream: TestUpstream;
    let schoolId: string;
    let admin: Client;
    let pupilsId: string;

    before(async () => {
      upstream = await startTestUpstream(new Map([['tinder.com', { a: ['192.0.2.30'] }]]));
      t = await startTestApp(d.name, { overrides: { 'dns.enabled': true, 'dns.listen': ['127.0.0.1:0'], 'dns.upstreams': [`127.0.0.1:${upstream.port}`] } });
      schoolId = (await seedDemoSchool(t.app)).id;
      t.url = await t.app.listen();
      admin = await signedIn(t.app, schoolId, ['admin']);
      pupilsId = (await t.app.people.listGroups(schoolId)).find((g) => g.name === 'Pupils')!.id;
    });
    after(async () => {
      await t?.close();
      await upstream?.close();
    });

    it('records a run as Pupils, Staff and Visitors over UDP, TCP and DoH, each as its policy expects, and says where plain DNS could not be checked', async () => {
      const response = await admin.call('POST', '/api/checks/runs', {});
      assert.equal(response.status, 201, JSON.stringify(response.body));
      const run = response.body as CheckRunDetail;
      assert.deepEqual(run.groups.map((g) => g.name), ['Pupils', 'Staff', 'Visitors']);
      assert.match(run.ranBy, /Route Tester/);
      assert.equal(run.problem, null);
      assert.deepEqual(unexpected(run), [], 'every outcome as the policy expects');

      const pupilUdp = find(run, 'Pupils', 'pornhub.com', 'udp');
      assert.equal(pupilUdp.outcome, 'blocked');
      assert.equal(pupilUdp.asExpected, true);
      assert.match(pupilUdp.source!, /^127\.0\.1\./, 'sent from the pupil lab network');
      assert.match(pupilUdp.detail, /pornography/i);
      assert.equal(find(run, 'Pupils', 'pornhub.com', 'doh').outcome, 'blocked');
      assert.equal(find(run, 'Pupils', 'tinder.com', 'tcp').outcome, 'blocked');

      const staffTinder = find(run, 'Staff', 'tinder.com', 'tcp');
      assert.equal(staffTinder.expected, 'allowed');
      assert.equal(staffTinder.outcome, 'allowed');
      assert.match(staffTinder.source!, /^127\.0\.2\./);
      assert.match(staffTinder.detail, /192\.0\.2\.30/, 'the upstream’s answer came back');
      assert.equal(find(run, 'Staff', 'tinder.com', 'doh').outcome, 'allowed');
      assert.equal(find(run, 'Staff', 'pornhub.com', 'doh').outcome, 'blocked');

      const guestUdp = find(run, 'Visitors', 'pornhub.com', 'udp');
      assert.equal(guestUdp.outcome, 'not_checked');
      assert.equal(guestUdp.asExpected, null);
      assert.match(guestUdp.detail, /not checked over plain DNS: no local address in this group's networks \(Visitors\)/i);
      assert.equal(find(run, 'Visitors', 'pornhub.com', 'doh').outcome, 'blocked', 'the guest group is still checked over DoH');

      for (const group of ['Pupils', 'Staff', 'Visitors']) {
        assert.equal(find(run, group, ILLEGAL_TEST_NAME, 'doh').outcome, 'blocked');
        const bypass = find(run, group, 'use-application-dns.net', 'doh');
        assert.equal(bypass.outcome, 'blocked');
        assert.match(bypass.detail, /NXDOMAIN/);
      }
      assert.ok(run.notChecked > 0 && run.unexpected === 0);

      const listed = await admin.call('GET', '/api/checks/runs');
      assert.equal(listed.body.items[0].id, run.id);
      const again = await admin.call('GET', `/api/checks/runs/${run.id}`);
      assert.equal(again.body.results.length, run.results.length);
      const audit = await t.app.audit.list(schoolId, { limit: 5, targetType: 'check_run' });
      assert.equal(audit[0].action, 'check.run');
      assert.equal(audit[0].target_id, run.id);
    });

    it('records a follow-up action on a result (audited), and clears it', async () => {
      const run = (await admin.call('POST', '/api/checks/runs', { groupIds: [pupilsId] })).body as CheckRunDetail;
      assert.deepEqual(run.groups.map((g) => g.name), ['Pupils']);
      const result = find(run, 'Pupils', 'skybet.com', 'udp');
      const set = await admin.call('PUT', `/api/checks/results/${result.id}/action`, { action: 'Checked with IT: gambling is blocked on the pupil Wi-Fi too.' });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.match(set.body.actionBy, /Route Tester/);
      const stored = (await admin.call('GET', `/api/checks/runs/${run.id}`)).body as CheckRunDetail;
      assert.equal(stored.results.find((r) => r.id === result.id)!.action, 'Checked with IT: gambling is blocked on the pupil Wi-Fi too.');
      const audit = await t.app.audit.list(schoolId, { limit: 5, targetType: 'check_result' });
      assert.equal(audit[0].action, 'check.action');
      const cleared = await admin.call('PUT', `/api/checks/results/${result.id}/action`, { action: '  ' });
      assert.equal(cleared.body.action, null);
      assert.equal((await admin.call('PUT', '/api/checks/results/nope/action', { action: 'x' })).status, 404);
      const staff = await signedIn(t.app, schoolId, ['staff']);
      assert.equal((await staff.call('POST', '/api/checks/runs', {})).status, 403);
      const dsl = await signedIn(t.app, schoolId, ['dsl']);
      assert.equal((await dsl.call('GET', '/api/checks/runs')).status, 200);
      assert.equal((await admin.call('POST', '/api/checks/runs', { groupIds: ['no-such-group'] })).status, 400);
    });

    it('shows a change that lets pupils reach gambling sites as not as expected, with the filter’s reason', async () => {
      const exemption = await t.app.policy.createExemption(CLI_ACTOR, schoolId, {
        category: 'gambling',
        groupId: pupilsId,
        until: new Date(Date.now() + 3_600_000).toISOString(),
        approvedBy: 'The DSL',
        reason: 'A maths lesson on probability',
      });
      try {
        const run = (await admin.call('POST', '/api/checks/runs', { groupIds: [pupilsId] })).body as CheckRunDetail;
        const gambling = find(run, 'Pupils', 'skybet.com', 'udp');
        assert.equal(gambling.expected, 'blocked');
        assert.equal(gambling.outcome, 'allowed');
        assert.equal(gambling.asExpected, false);
        assert.match(gambling.detail, /exemption/i);
        assert.equal(find(run, 'Pupils', 'skybet.com', 'doh').asExpected, false);
        assert.equal(find(run, 'Pupils', 'pornhub.com', 'udp').asExpected, true, 'other categories are untouched');
        assert.ok(run.unexpected >= 3, unexpected(run).join('\n'));
      } finally {
        await t.app.policy.revokeExemption(CLI_ACTOR, schoolId, exemption.id, 'lesson over');
      }
    });

    it('the self-test raises a critical alert per group when what answers is not the filter, and resolves it when the filter answers again', async () => {
      // The checks pointed at a DNS server that is not the filter (as when another resolver holds the port the devices use).
      const foreign = await startTestUpstream(new Map([[ILLEGAL_TEST_NAME, { a: ['192.0.2.66'] }]]));
      try {
        const misdirected = createChecks({
          store: t.app.store,
          audit: t.app.audit,
          logger: pino({ level: 'silent' }),
          policy: t.app.policy,
          schools: t.app.schools,
          alerts: () => t.app.alerts,
          dns: () => ({ engine: t.app.dns!.engine, bound: { udp: [{ host: '127.0.0.1', port: foreign.port }], tcp: [{ host: '127.0.0.1', port: foreign.port }] } }),
          web: () => null,
          timeoutMs: 1500,
        });
        const failed = await misdirected.selfTest();
        assert.ok(failed);
        assert.ok(failed.failing.includes(pupilsId), 'pupils fail');
        const open = await t.app.alerts.list(schoolId, { open: true });
        const pupils = open.find((a) => a.key === `self-test:${pupilsId}`);
        assert.ok(pupils, JSON.stringify(open.map((a) => a.key)));
        assert.equal(pupils.severity, 'critical');
        assert.equal(pupils.source, 'checks');
        assert.match(pupils.title, /Pupils/);
        assert.match(pupils.detail, /illegal-test\.schoolgate\.invalid over UDP: allowed/);

        const passed = await t.app.checks.selfTest();
        assert.deepEqual(passed?.failing, []);
        assert.deepEqual((await t.app.alerts.list(schoolId, { open: true })).filter((a) => a.source === 'checks'), []);
        const runs = (await admin.call('GET', '/api/checks/runs')).body.items;
        assert.equal(runs[0].trigger, 'self_test');
        assert.equal(runs[0].ranBy, 'system');
        assert.ok(runs[0].groups.length > 3, 'every group, not only those with a policy of their own');
      } finally {
        await foreign.close();
      }
    });

    it('the device check page shows a pupil device its network and group, and records the probes its DNS sends to the block page', async () => {
      const page = await request(`${t.url}/check`, { from: '127.0.1.7' });
      assert.equal(page.status, 200);
      assert.match(page.body, /<dd id="network">Pupil lab \(this computer, demo\)<\/dd>/);
      assert.match(page.body, /<dd id="group">Pupils<\/dd>/);
      assert.match(String(page.headers['content-security-policy']), /img-src 'self' data: http: https:/);
      const data = JSON.parse(/<script type="application\/json" id="check-data">(.*?)<\/script>/s.exec(page.body)![1]);
      const porn = data.probes.find((p: { name: string }) => p.name === 'pornhub.com');
      assert.match(porn.host, /^sgcheck-[0-9a-f]{12}\.pornhub\.com$/, 'a fresh label under the name, so no cache answers for it');
      assert.equal(data.probes.find((p: { name: string }) => p.name === 'use-application-dns.net').host, null, 'NXDOMAIN names cannot be probed');
      // What the pupil's browser does after the filter answered pornhub.com with the block page's address.
      const probe = await request(`${t.url}/check/probe/${data.nonce}`, { host: porn.host, from: '127.0.1.7' });
      assert.equal(probe.status, 200);
      assert.equal(probe.headers['content-type'], 'image/gif');
      const results = JSON.parse((await request(`${t.url}/check/results/${data.nonce}`)).body);
      assert.deepEqual(results.arrived, ['pornhub.com']);
      assert.ok(results.probed.includes('tinder.com'));
      assert.equal((await request(`${t.url}/check/results/unknown-session-id`)).status, 404);

      const staffPage = await request(`${t.url}/check`, { from: '127.0.2.7' });
      assert.match(staffPage.body, /<dd id="group">Staff<\/dd>/);
      assert.match(staffPage.body, /tinder\.com<\/code>.*?class="open">not blocked/s);
    });
  });
}
