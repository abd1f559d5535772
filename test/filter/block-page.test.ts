/**
 * The block page in a whole Schoolgate (the demo school on a real SQLite
 * file): a blocked name is answered with the block page's address; a request
 * for that name reaches the page on the web app's port and on the block
 * page's own HTTP and HTTPS listeners; the page says what the filter decided
 * for the address asking (pupil or staff network); a review request is
 * stored with who the filter saw; HTTPS certificates come from the school
 * root CA, which a client that trusts it accepts.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { seedDemoSchool } from '../../src/demo/demo.seed.ts';
import { signedIn } from '../support/client.ts';
import { startTestApp, type TestApp } from '../support/dialects.ts';
import { buildQuery, parseAnswer, startTestUpstream, type TestUpstream, udpExchange } from '../support/dns.ts';

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  peerCertificate?: X509Certificate;
}

/** One HTTP(S) request with a chosen Host header and source address (fetch allows neither). */
function request(url: string, options: { host?: string; from?: string; method?: string; form?: Record<string, string>; ca?: string; servername?: string } = {}): Promise<Response> {
  const target = new URL(url);
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  const lib = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      target,
      {
        method: options.method ?? 'GET',
        localAddress: options.from,
        headers: { ...(options.host ? { host: options.host } : {}), ...(body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {}) },
        ...(target.protocol === 'https:' ? { ca: options.ca, servername: options.servername, agent: false } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        const socket = res.socket as import('node:tls').TLSSocket;
        const peer = typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), peerCertificate: peer }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('block page (demo school)', () => {
  let t: TestApp;
  let upstream: TestUpstream;
  let schoolId: string;
  let dnsPort: number;

  before(async () => {
    upstream = await startTestUpstream(new Map([['tinder.com', { a: ['192.0.2.30'] }]]));
    t = await startTestApp('sqlite', {
      overrides: {
        'dns.enabled': true,
        'dns.listen': ['127.0.0.1:0'],
        'dns.upstreams': [`127.0.0.1:${upstream.port}`],
        'blockPage.rootCa': true,
        'blockPage.listen': ['127.0.0.1:0'],
        'blockPage.httpsListen': ['127.0.0.1:0'],
      },
    });
    schoolId = (await seedDemoSchool(t.app)).id;
    t.url = await t.app.listen();
    dnsPort = t.app.dns!.bound.udp[0].port;
  });
  after(async () => {
    await t?.close();
    await upstream?.close();
  });

  it('answers a pupil’s blocked name with the block page’s address (the demo’s 127.0.0.1)', async () => {
    const answer = parseAnswer(await udpExchange(dnsPort, buildQuery('tinder.com'), { localAddress: '127.0.1.5' }));
    assert.deepEqual(answer.answers.map((r) => r.data), ['127.0.0.1']);
  });

  it('shows a pupil the site, category, reason, group, monitoring notice, contact and a review form', async () => {
    const page = await request(`${t.url}/`, { host: 'tinder.com', from: '127.0.1.5' });
    assert.equal(page.status, 403);
    assert.match(page.headers['content-type']!, /text\/html/);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.equal(page.headers['strict-transport-security'], undefined, 'never pins HTTPS on a name that is not ours');
    assert.match(page.body, /tinder\.com is blocked/);
    assert.match(page.body, /<dt>Category<\/dt><dd>Dating/);
    assert.match(page.body, /Dating is blocked for Pupils\./);
    assert.match(page.body, /<dt>Filtered as<\/dt><dd>Pupils/);
    assert.match(page.body, /monitors the use of its network and devices/);
    assert.match(page.body, /ict@oakfield\.example/);
    assert.match(page.body, /<form method="post" action="\/blocked\/review">/);
  });

  it('tells staff the same site is not blocked for them, and leaves names the filter allows and the app’s own names alone', async () => {
    const staff = await request(`${t.url}/blocked?site=tinder.com`, { from: '127.0.2.5' });
    assert.equal(staff.status, 200);
    assert.match(staff.body, /tinder\.com is not blocked for this device now/);
    // No public URL is set, so a name the app does not know reaches the app unless the filter blocks it.
    const allowed = await request(`${t.url}/healthz`, { host: 'schoolgate.oakfield.example', from: '127.0.2.5' });
    assert.equal(allowed.status, 200);
    assert.doesNotMatch(allowed.body, /is blocked/);
    const doh = await request(`${t.url}/dns-query?dns=${buildQuery('tinder.com', { id: 0 }).toString('base64url')}`, { host: 'tinder.com', from: '127.0.1.5' });
    assert.equal(doh.headers['content-type'], 'application/dns-message', 'DoH is answered under any host name');
    const blockedAnyPath = await request(`${t.url}/api/auth/me`, { host: 'tinder.com', from: '127.0.1.5' });
    assert.equal(blockedAnyPath.status, 403);
    assert.match(blockedAnyPath.body, /tinder\.com is blocked/);
    const own = await request(`${t.url}/api/auth/me`, { host: 'localhost' });
    assert.notEqual(own.status, 403);
    assert.doesNotMatch(own.body, /is blocked/);
    const byAddress = await request(`${t.url}/healthz`, { host: `127.0.0.1:${new URL(t.url).port}` });
    assert.equal(byAddress.status, 200);
  });

  it('never blocks the illegal test name with a review form, and escapes whatever site it is given', async () => {
    const illegal = await request(`${t.url}/blocked?site=illegal-test.schoolgate.invalid`, { from: '127.0.2.5' });
    assert.equal(illegal.status, 403);
    assert.match(illegal.body, /cannot be unblocked/);
    assert.doesNotMatch(illegal.body, /<form/);
    const hostile = await request(`${t.url}/blocked?site=${encodeURIComponent('<script>alert(1)</script>')}`);
    assert.equal(hostile.status, 200);
    assert.doesNotMatch(hostile.body, /<script>/);
    assert.match(hostile.body, /No site was named/);
  });

  it('stores a review request with who the filter saw, takes a second click as the same request, and lists it for the network manager', async () => {
    const empty = await request(`${t.url}/blocked/review`, { host: 'tinder.com', from: '127.0.1.5', method: 'POST', form: { site: 'tinder.com', message: '' } });
    assert.equal(empty.status, 400);
    assert.match(empty.body, /class="error"/);
    const form = { site: 'tinder.com', message: 'We are studying online safety and need to look at the sign-up page.', name: 'Sam P' };
    const sent = await request(`${t.url}/blocked/review`, { host: 'tinder.com', from: '127.0.1.5', method: 'POST', form });
    assert.equal(sent.status, 201, sent.body);
    assert.match(sent.body, /has been sent/);
    const again = await request(`${t.url}/blocked/review`, { host: 'tinder.com', from: '127.0.1.5', method: 'POST', form });
    assert.equal(again.status, 200);
    assert.match(again.body, /was already sent/);

    const pupils = (await t.app.people.listGroups(schoolId)).find((g) => g.name === 'Pupils')!;
    const admin = await signedIn(t.app, schoolId, ['admin']);
    const listed = await admin.call('GET', '/api/filter/unblock-requests?status=open');
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.equal(listed.body.items.length, 1);
    const item = listed.body.items[0];
    assert.deepEqual(
      [item.site, item.categories, item.rule, item.groupId, item.clientAddress, item.requesterName, item.status],
      ['tinder.com', ['dating'], 'category', pupils.id, '127.0.1.5', 'Sam P', 'open'],
    );
    assert.ok(item.networkId, 'the pupil network is recorded');
    const teacher = await signedIn(t.app, schoolId, ['staff']);
    assert.equal((await teacher.call('GET', '/api/filter/unblock-requests')).status, 403);
  });

  it('serves the block page on its own HTTP listener for any host and path', async () => {
    const [httpListener] = t.app.blockPageAddresses.filter((a) => a.startsWith('http:'));
    const page = await request(`${httpListener}/some/deep/path?x=1`, { host: 'tinder.com', from: '127.0.1.5' });
    assert.equal(page.status, 403);
    assert.match(page.body, /tinder\.com is blocked/);
    const bare = await request(`${httpListener}/`);
    assert.match(bare.body, /web filter/);
  });

  it('serves HTTPS with a certificate for the blocked name from the school root CA, which a client that trusts it accepts', async () => {
    const [httpsListener] = t.app.blockPageAddresses.filter((a) => a.startsWith('https:'));
    const ca = t.app.blockPageCa!;
    const page = await request(`${httpsListener}/`, { host: 'tinder.com', servername: 'tinder.com', ca: ca.certificatePem, from: '127.0.1.5' });
    assert.equal(page.status, 403);
    assert.match(page.body, /tinder\.com is blocked/);
    assert.equal(page.peerCertificate!.subjectAltName, 'DNS:tinder.com');
    assert.ok(page.peerCertificate!.checkIssued(new X509Certificate(ca.certificatePem)));
    // Without the CA the client refuses the certificate: only managed devices that were given the CA see the page.
    await assert.rejects(request(`${httpsListener}/`, { host: 'tinder.com', servername: 'tinder.com' }), /self-signed|unable to verify|certificate/i);
    const download = await request(`${t.url}/blocked/ca.crt`);
    assert.equal(download.status, 200);
    assert.equal(download.body, ca.certificatePem);
  });
});
