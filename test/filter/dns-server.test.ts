/**
 * The DNS filter over real sockets on loopback: one contract suite run over
 * UDP, TCP, DoT and the DoH worker path, then the behaviours that need a
 * running server (REFUSED, truncation, re-checks, safe search, serve-stale,
 * policy changes, rate limits, malformed traffic). The upstream is a loopback
 * server the test starts; the filter runs in its worker thread as in production.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { catalogFromEntries } from '../../src/filter/catalog.ts';
import { createFilterEngine, type Bound, type FilterEngine } from '../../src/filter/engine.ts';
import type { FilterEvent } from '../../src/filter/events.ts';
import type { PolicySnapshot } from '../../src/filter/policy.types.ts';
import { standaloneSnapshot } from '../../src/filter/standalone.ts';
import { type Answer, buildQuery, parseAnswer, startTestUpstream, streamExchange, type TestUpstream, TYPE, udpExchange } from '../support/dns.ts';

const OPENSSL = ['/usr/bin/openssl', '/bin/openssl'].find((p) => existsSync(p));
const PUPIL = '127.0.1.5';
const STAFF = '127.0.2.5';
const STRANGER = '127.0.3.5';
const IPAD_TOKEN = 'ipad-token-for-tests-0123456789';
const BLOCK_V4 = '192.0.2.99';
const BLOCK_V6 = '2001:db8::99';

function schoolSnapshot(version = 1, patch: Partial<PolicySnapshot> = {}): PolicySnapshot {
  const base = standaloneSnapshot();
  const group = (id: string, priority: number, blocked: PolicySnapshot['groups'][number]['blocked'], safeSearch: boolean) => ({
    groupId: id,
    name: id[0].toUpperCase() + id.slice(1),
    priority,
    blocked,
    scheduled: [],
    allow: [],
    deny: [],
    safeSearch,
    youtube: safeSearch ? ('strict' as const) : ('off' as const),
    filterOff: false,
  });
  return {
    ...base,
    version,
    schoolId: 'school-1',
    groups: [group('pupils', 10, ['illegal', 'gambling', 'social_networks', 'malware', 'vpn_proxy'], true), group('staff', 20, ['illegal', 'gambling', 'malware'], false)],
    defaultGroupId: null,
    networks: [
      { id: 'net-pupils', name: 'Pupil lab', cidr: '127.0.1.0/24', groupId: 'pupils', rateLimited: false },
      { id: 'net-staff', name: 'Staff room', cidr: '127.0.2.0/24', groupId: 'staff', rateLimited: false },
      { id: 'net-limited', name: 'Limited', cidr: '127.0.4.0/24', groupId: 'staff', rateLimited: true },
    ],
    devices: [{ id: 'ipad-3', name: 'Library iPad 3', groupIds: ['pupils'], ownerId: null }],
    tokens: [{ tokenHash: createHash('sha256').update(IPAD_TOKEN).digest('hex'), deviceId: 'ipad-3', personId: null }],
    blocking: { answer: 'address', ipv4: BLOCK_V4, ipv6: BLOCK_V6, ttl: 10 },
    ...patch,
  };
}

const CATALOG = catalogFromEntries([
  { name: 'facebook.com', category: 'social_networks' },
  { name: 'bet365.com', category: 'gambling' },
  { name: 'tracker.bad.test', category: 'malware' },
  { name: 'nordvpn.com', category: 'vpn_proxy' },
  { name: '192.0.2.66', category: 'malware' },
]);

interface Harness {
  upstream: TestUpstream;
  engine: FilterEngine;
  bound: Bound;
  events: FilterEvent[];
  ca: string | null;
  dir: string;
}

async function startHarness(options: { tcpIdleMs?: number; rate?: number } = {}): Promise<Harness> {
  const upstream = await startTestUpstream(
    new Map([
      ['facebook.com', { a: ['192.0.2.11'], aaaa: ['2001:db8::11'] }],
      ['example.org', { a: ['192.0.2.10'] }],
      ['cdn-alias.example', { cname: 'tracker.bad.test' }],
      ['tracker.bad.test', { a: ['192.0.2.12'] }],
      ['sneaky.example', { a: ['192.0.2.66'] }],
      ['big.example', { txtBytes: 3000 }],
      ['mid.example', { txtBytes: 800 }],
      ['forcesafesearch.google.com', { a: ['216.239.38.120'], aaaa: ['2001:4860:4802:32::78'] }],
      ['www.google.co.uk', { a: ['142.250.1.1'] }],
      ['stale.example', { a: ['192.0.2.20'], ttl: 1 }],
    ]),
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'schoolgate-dns-'));
  let tls: { key: string; cert: string; listen: { host: string; port: number }[] } | null = null;
  let ca: string | null = null;
  if (OPENSSL) {
    execFileSync(OPENSSL, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=dns.school.test', '-addext', 'subjectAltName=DNS:dns.school.test,DNS:*.dns.school.test', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    ca = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    tls = { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: ca, listen: [{ host: '127.0.0.1', port: 0 }] };
  }
  const events: FilterEvent[] = [];
  const engine = createFilterEngine({
    workers: 1,
    listen: [{ host: '127.0.0.1', port: 0 }],
    tls,
    upstreams: [`127.0.0.1:${upstream.port}`],
    upstreamTimeoutMs: 800,
    cache: { maxBytes: 1 << 20, minTtl: 0, maxTtl: 86_400, negativeTtl: 3600, staleSeconds: 86_400 },
    rateLimit: { rate: options.rate ?? 1000, burst: options.rate ?? 1000 },
    tcpIdleMs: options.tcpIdleMs ?? 2000,
    maxUdpSize: 1232,
    eventBuffer: 10_000,
    flushMs: 50,
    onEvents: (batch) => events.push(...batch),
    onLog: () => {},
  });
  let bound;
  try {
    await Promise.all([engine.setCatalog(CATALOG.buffer), engine.setPolicy(schoolSnapshot())]);
    bound = await engine.ready();
  } catch (error) {
    // A harness that failed to start must not leave worker threads behind: they would keep the test process alive.
    await engine.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { upstream, engine, bound, events, ca, dir };
}

async function stopHarness(h: Harness | undefined) {
  if (!h) return; // its start failed, and cleaned up after itself
  await h.engine.close();
  await h.upstream.close();
  rmSync(h.dir, { recursive: true, force: true });
}

type Ask = (h: Harness, name: string, options?: { type?: number; from?: string; edns?: number; id?: number }) => Promise<Answer>;

/** Each transport, as a client on the pupils' or staff network would use it. */
const TRANSPORTS: { name: string; skip?: string | false; ask: Ask }[] = [
  {
    name: 'UDP',
    ask: async (h, name, o = {}) => parseAnswer(await udpExchange(h.bound.udp[0].port, buildQuery(name, { type: o.type, edns: o.edns, id: o.id }), { localAddress: o.from ?? PUPIL })),
  },
  {
    name: 'TCP',
    ask: async (h, name, o = {}) => parseAnswer((await streamExchange(h.bound.tcp[0].port, [buildQuery(name, { type: o.type, edns: o.edns, id: o.id })], { localAddress: o.from ?? PUPIL }))[0]),
  },
  {
    name: 'DoT',
    skip: OPENSSL ? false : 'openssl is not installed (needed to make a test certificate)',
    // DoT clients are known by their token (the first SNI label), here the pupils' iPad.
    ask: async (h, name, o = {}) =>
      parseAnswer((await streamExchange(h.bound.dot[0].port, [buildQuery(name, { type: o.type, edns: o.edns, id: o.id })], { tls: { ca: h.ca!, servername: `${IPAD_TOKEN}.dns.school.test` } }))[0]),
  },
  {
    name: 'DoH (worker path)',
    ask: async (h, name, o = {}) => {
      const answer = await h.engine.resolve(buildQuery(name, { type: o.type, edns: o.edns, id: o.id }), { address: o.from ?? PUPIL, token: null, transport: 'doh' });
      assert.ok(answer, 'an answer');
      return parseAnswer(Buffer.from(answer));
    },
  },
];

for (const transport of TRANSPORTS) {
  describe(`DNS filter contract over ${transport.name}`, { skip: transport.skip }, () => {
    let h: Harness;
    before(async () => (h = await startHarness()));
    after(() => stopHarness(h));
    const ask = (name: string, options?: Parameters<Ask>[2]) => transport.ask(h, name, options);

    it('blocks a pupil’s blocked category with the block page address, a short TTL and EDE 15', async () => {
      const answer = await ask('www.FaceBook.com', { id: 4321, edns: 1232 });
      assert.equal(answer.id, 4321);
      assert.equal(answer.rcode, 0);
      assert.equal(answer.question?.name, 'www.FaceBook.com', 'the question keeps the client’s letter case');
      assert.deepEqual(answer.answers.map((r) => [r.type, r.data]), [[TYPE.A, BLOCK_V4]]);
      assert.ok(answer.answers[0].ttl <= 10);
      assert.equal(answer.flags.ad, false);
      assert.equal(answer.ede[0]?.code, 15);
      assert.match(answer.ede[0].text, /social/);
    });

    it('answers AAAA with the block page’s IPv6 address and HTTPS with no data and an SOA', async () => {
      const aaaa = await ask('facebook.com', { type: TYPE.AAAA });
      assert.deepEqual(aaaa.answers.map((r) => r.data), [BLOCK_V6]);
      const https = await ask('facebook.com', { type: TYPE.HTTPS });
      assert.equal(https.rcode, 0);
      assert.equal(https.answers.length, 0);
      assert.equal(https.authority[0]?.type, TYPE.SOA);
      assert.ok(https.authority[0].ttl <= 10);
    });

    it('relays allowed names from the upstream with the client’s id', async () => {
      const answer = await ask('example.org', { id: 777 });
      assert.equal(answer.id, 777);
      assert.deepEqual(answer.answers.map((r) => r.data), ['192.0.2.10']);
      assert.equal(answer.ednsSize, null, 'no OPT record for a client that sent none');
    });

    it('answers the Firefox canary and iCloud Private Relay with NXDOMAIN', async () => {
      assert.equal((await ask('use-application-dns.net')).rcode, 3);
      assert.equal((await ask('mask.icloud.com')).rcode, 3);
      assert.equal((await ask('mask-h2.icloud.com', { type: TYPE.AAAA })).rcode, 3);
    });

    it('blocks the illegal test name for everyone', async () => {
      const answer = await ask('illegal-test.schoolgate.invalid');
      assert.deepEqual(answer.answers.map((r) => r.data), [BLOCK_V4]);
    });
  });
}

describe('DNS filter behaviour over real sockets', () => {
  let h: Harness;
  before(async () => (h = await startHarness({ tcpIdleMs: 300, rate: 5 })));
  after(() => stopHarness(h));
  const udp = async (name: string, o: { type?: number; from?: string; edns?: number } = {}) =>
    parseAnswer(await udpExchange(h.bound.udp[0].port, buildQuery(name, o), { localAddress: o.from ?? PUPIL }));

  it('answers staff differently from pupils', async () => {
    assert.deepEqual((await udp('facebook.com', { from: STAFF })).answers.map((r) => r.data), ['192.0.2.11']);
    assert.deepEqual((await udp('bet365.com', { from: STAFF })).answers.map((r) => r.data), [BLOCK_V4]);
  });

  it('refuses clients outside the school’s networks', async () => {
    const answer = await udp('example.org', { from: STRANGER });
    assert.equal(answer.rcode, 5);
    assert.equal(answer.answers.length, 0);
  });

  it('sets TC over UDP when the answer does not fit, and gives the whole answer over TCP', async () => {
    const cut = await udp('big.example', { type: TYPE.TXT });
    assert.equal(cut.flags.tc, true);
    assert.equal(cut.answers.length, 0);
    const [whole] = await streamExchange(h.bound.tcp[0].port, [buildQuery('big.example', { type: TYPE.TXT })], { localAddress: PUPIL });
    const answer = parseAnswer(whole);
    assert.equal(answer.flags.tc, false);
    assert.equal(answer.answers.reduce((n, r) => n + r.data.length, 0), 3000);
  });

  it('fits a mid-sized answer in the client’s EDNS buffer but truncates it for a 512-byte client', async () => {
    const withEdns = await udp('mid.example', { type: TYPE.TXT, edns: 1232 });
    assert.equal(withEdns.flags.tc, false);
    assert.equal(withEdns.ednsSize !== null, true);
    const without = await udp('mid.example', { type: TYPE.TXT });
    assert.equal(without.flags.tc, true);
  });

  it('blocks an allowed name whose CNAME lands in a blocked category', async () => {
    const answer = await udp('cdn-alias.example');
    assert.deepEqual(answer.answers.map((r) => r.data), [BLOCK_V4]);
    await new Promise((r) => setTimeout(r, 120));
    const event = h.events.findLast((e) => e.name === 'cdn-alias.example');
    assert.equal(event?.rule, 'upstream_answer');
    assert.equal(event?.category, 'malware');
  });

  it('blocks an allowed name whose address is listed in a blocked category', async () => {
    assert.deepEqual((await udp('sneaky.example')).answers.map((r) => r.data), [BLOCK_V4]);
    assert.deepEqual((await udp('sneaky.example', { from: STAFF })).answers.map((r) => r.data), [BLOCK_V4]);
  });

  it('locks Google to safe search for pupils (A, AAAA and HTTPS) and not for staff', async () => {
    const a = await udp('www.google.co.uk');
    assert.deepEqual(a.answers.map((r) => [r.type, r.data]), [[TYPE.CNAME, 'forcesafesearch.google.com'], [TYPE.A, '216.239.38.120']]);
    const aaaa = await udp('www.google.co.uk', { type: TYPE.AAAA });
    assert.deepEqual(aaaa.answers.map((r) => r.data), ['forcesafesearch.google.com', '2001:4860:4802:32::78']);
    const https = await udp('www.google.co.uk', { type: TYPE.HTTPS });
    assert.deepEqual(https.answers.map((r) => [r.type, r.data]), [[TYPE.CNAME, 'forcesafesearch.google.com']]);
    const staff = await udp('www.google.co.uk', { from: STAFF });
    assert.deepEqual(staff.answers.map((r) => r.data), ['142.250.1.1']);
  });

  it('serves a stale answer while the upstream is down (RFC 8767), and SERVFAIL for a name never seen', async () => {
    assert.deepEqual((await udp('stale.example')).answers.map((r) => r.data), ['192.0.2.20']);
    h.upstream.pause();
    try {
      await new Promise((r) => setTimeout(r, 1200)); // the 1-second TTL runs out
      const stale = await udp('stale.example');
      assert.deepEqual(stale.answers.map((r) => r.data), ['192.0.2.20']);
      assert.equal(stale.answers[0].ttl, 30);
      assert.equal((await udp('never-seen.example')).rcode, 2);
    } finally {
      h.upstream.resume();
    }
  });

  it('takes a policy change on the running filter', async () => {
    assert.deepEqual((await udp('facebook.com')).answers.map((r) => r.data), [BLOCK_V4]);
    const snapshot = schoolSnapshot(2);
    snapshot.groups[0].allow = ['facebook.com'];
    await h.engine.setPolicy(snapshot);
    assert.deepEqual((await udp('facebook.com')).answers.map((r) => r.data), ['192.0.2.11']);
    await h.engine.setPolicy(schoolSnapshot(3));
    assert.deepEqual((await udp('facebook.com')).answers.map((r) => r.data), [BLOCK_V4]);
  });

  it('rate-limits clients on a rate-limited network and says so in its events', async () => {
    const rcodes: number[] = [];
    for (let i = 0; i < 8; i++) rcodes.push((await udp('example.org', { from: '127.0.4.9' })).rcode);
    assert.deepEqual(rcodes.slice(0, 5), [0, 0, 0, 0, 0]);
    assert.ok(rcodes.slice(5).every((r) => r === 5), `later queries refused: ${rcodes}`);
    await new Promise((r) => setTimeout(r, 120));
    assert.ok(h.events.some((e) => e.client === '127.0.4.9' && e.rule === 'refused'));
    // The school's own networks are not limited.
    for (let i = 0; i < 8; i++) assert.equal((await udp('example.org', { from: STAFF })).rcode, 0);
  });

  it('answers pipelined TCP queries on one connection and closes idle connections', async () => {
    const names = ['example.org', 'facebook.com', 'bet365.com', 'use-application-dns.net', 'www.google.co.uk'];
    const answers = (await streamExchange(h.bound.tcp[0].port, names.map((n, i) => buildQuery(n, { id: 100 + i })), { localAddress: PUPIL })).map((a) => parseAnswer(a));
    assert.deepEqual(answers.map((a) => a.id).sort(), [100, 101, 102, 103, 104]);
    const socket = net.connect({ port: h.bound.tcp[0].port, host: '127.0.0.1', localAddress: PUPIL });
    const closedAfter = await new Promise<number>((resolve) => {
      const started = Date.now();
      socket.on('close', () => resolve(Date.now() - started));
    });
    assert.ok(closedAfter < 2000, `idle connection closed after ${closedAfter} ms`);
  });

  it('records every answer as an event with the decision, category and matched entry', async () => {
    await udp('www.bet365.com', { from: STAFF });
    await new Promise((r) => setTimeout(r, 150));
    const event = h.events.findLast((e) => e.name === 'www.bet365.com');
    assert.ok(event);
    assert.equal(event.kind, 'blocked');
    assert.equal(event.category, 'gambling');
    assert.equal(event.matched, 'bet365.com');
    assert.equal(event.groupId, 'staff');
    assert.equal(event.networkId, 'net-staff');
    assert.equal(event.transport, 'udp');
  });

  it('counts a bypass category as a bypass attempt', async () => {
    await udp('nordvpn.com');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(h.events.findLast((e) => e.name === 'nordvpn.com')?.kind, 'bypass_blocked');
  });

  it('survives thousands of malformed and truncated packets over UDP and TCP, and still answers', async () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const valid = buildQuery('example.org', { edns: 1232 });
    const packets: Buffer[] = [];
    for (let i = 0; i < 3000; i++) {
      const kind = i % 3;
      if (kind === 0) packets.push(Buffer.from(Array.from({ length: Math.floor(random() * 80) }, () => Math.floor(random() * 256))));
      else if (kind === 1) packets.push(valid.subarray(0, Math.floor(random() * valid.length)));
      else {
        const mutated = Buffer.from(valid);
        for (let j = 0; j < 4; j++) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
        packets.push(mutated);
      }
    }
    const dgram = await import('node:dgram');
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, PUPIL, () => r()));
    for (const packet of packets) socket.send(packet, h.bound.udp[0].port, '127.0.0.1');
    // Garbage over TCP: a bad frame closes that connection only.
    const tcp = net.connect({ port: h.bound.tcp[0].port, host: '127.0.0.1', localAddress: PUPIL });
    tcp.on('error', () => {});
    tcp.write(Buffer.from([0, 3, 1, 2, 3, 0xff, 0xff, 9, 9]));
    await new Promise((r) => setTimeout(r, 300));
    socket.close();
    tcp.destroy();
    assert.deepEqual((await udp('example.org')).answers.map((r) => r.data), ['192.0.2.10']);
    const [answer] = await streamExchange(h.bound.tcp[0].port, [buildQuery('example.org')], { localAddress: PUPIL });
    assert.equal(parseAnswer(answer).rcode, 0);
    await new Promise((r) => setTimeout(r, 150)); // the worker's counters arrive every 50 ms
    const stats = h.engine.stats();
    assert.ok(stats.malformedDropped > 100 && stats.malformedAnswered > 100, `malformed packets counted: ${stats.malformedDropped} dropped, ${stats.malformedAnswered} answered`);
  });

  it('answers FORMERR to a query with a readable header but a broken question', async () => {
    const broken = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 60, 0x61]);
    const answer = parseAnswer(await udpExchange(h.bound.udp[0].port, broken, { localAddress: PUPIL }));
    assert.equal(answer.id, 0x1234);
    assert.equal(answer.rcode, 1);
  });

  it('identifies a DoH token’s device and applies its group', async () => {
    const packet = buildQuery('facebook.com');
    const fromHome = await h.engine.resolve(packet, { address: '203.0.113.9', token: IPAD_TOKEN, transport: 'doh' });
    assert.deepEqual(parseAnswer(Buffer.from(fromHome!)).answers.map((r) => r.data), [BLOCK_V4]);
    const unknown = await h.engine.resolve(packet, { address: '203.0.113.9', token: 'not-a-token', transport: 'doh' });
    assert.equal(parseAnswer(Buffer.from(unknown!)).rcode, 5);
  });
});
