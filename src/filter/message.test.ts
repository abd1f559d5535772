import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ageTtls,
  answerTargets,
  buildUpstreamQuery,
  capTtls,
  clientSubnetScope,
  EDE,
  edeOption,
  findOpt,
  formatIpv6,
  fullRcode,
  isNegativeAnswer,
  matchesQuestion,
  minTtl,
  parseIpv6,
  prepareForClient,
  QUESTION_NAME,
  readName,
  ResponseBuilder,
  SECTION,
  setTtls,
  walkRecords,
} from './message.ts';
import { parseQuery, QTYPE, type Query, RCODE } from './wire.ts';

// ---------------------------------------------------------------------------
// A hand-written encoder for test packets, independent of the code under test.

/** A name as labels; a number is a compression pointer to that offset. */
type Name = string | number;
interface Rec {
  name: Name;
  type: number;
  ttl?: number;
  cls?: number;
  rdata: number[];
}

function labels(name: string): number[] {
  const out: number[] = [];
  if (name) for (const label of name.split('.')) out.push(label.length, ...Buffer.from(label, 'latin1'));
  return out;
}
function wireName(name: Name): number[] {
  return typeof name === 'number' ? [0xc0 | (name >> 8), name & 0xff] : [...labels(name), 0];
}
/** A name written as labels then a pointer: `suffix('www', 12)`. */
function suffix(prefix: string, pointer: number): number[] {
  return [...labels(prefix), 0xc0 | (pointer >> 8), pointer & 0xff];
}
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

function record(r: Rec | { raw: number[] }): number[] {
  if ('raw' in r) return r.raw;
  const ttl = r.ttl ?? 300;
  return [...wireName(r.name), r.type >> 8, r.type & 0xff, (r.cls ?? 1) >> 8, (r.cls ?? 1) & 0xff, ...u32(ttl), r.rdata.length >> 8, r.rdata.length & 0xff, ...r.rdata];
}
/** A record whose owner bytes are given as is (for pointers after labels). */
function rawOwner(owner: number[], type: number, ttl: number, rdata: number[]): { raw: number[] } {
  return { raw: [...owner, type >> 8, type & 0xff, 0, 1, ...u32(ttl), rdata.length >> 8, rdata.length & 0xff, ...rdata] };
}

function opt(options: { udpSize?: number; dnssecOk?: boolean; ext?: number; data?: number[] } = {}): Rec {
  const size = options.udpSize ?? 1232;
  return { name: '', type: QTYPE.OPT, cls: size, ttl: ((options.ext ?? 0) * 0x1000000 + (options.dnssecOk ? 0x8000 : 0)) >>> 0, rdata: options.data ?? [] };
}
const ednsOption = (code: number, data: number[]) => [code >> 8, code & 0xff, data.length >> 8, data.length & 0xff, ...data];

interface MessageSpec {
  id?: number;
  flags?: [number, number];
  question?: { name: string; qtype?: number } | null;
  answer?: (Rec | { raw: number[] })[];
  authority?: (Rec | { raw: number[] })[];
  additional?: (Rec | { raw: number[] })[];
}
function message(spec: MessageSpec): Uint8Array {
  const id = spec.id ?? 0x4242;
  const [f1, f2] = spec.flags ?? [0x81, 0x80];
  const an = spec.answer ?? [];
  const ns = spec.authority ?? [];
  const ar = spec.additional ?? [];
  const q = spec.question === undefined ? { name: 'www.example.org' } : spec.question;
  const bytes = [id >> 8, id & 0xff, f1, f2, 0, q ? 1 : 0, an.length >> 8, an.length & 0xff, ns.length >> 8, ns.length & 0xff, ar.length >> 8, ar.length & 0xff];
  if (q) bytes.push(...wireName(q.name), 0, q.qtype ?? QTYPE.A, 0, 1);
  for (const r of [...an, ...ns, ...ar]) bytes.push(...record(r));
  return Uint8Array.from(bytes);
}
const A = (name: Name, address: string, ttl = 300): Rec => ({ name, type: QTYPE.A, ttl, rdata: address.split('.').map(Number) });
const CNAME = (name: Name, target: Name | number[], ttl = 300): Rec => ({ name, type: QTYPE.CNAME, ttl, rdata: Array.isArray(target) ? target : wireName(target) });
function SOA(name: Name, ttl: number, minimum: number): Rec {
  return { name, type: QTYPE.SOA, ttl, rdata: [...wireName('ns1.example.org'), ...wireName('hostmaster.example.org'), ...u32(1), ...u32(7200), ...u32(900), ...u32(1209600), ...u32(minimum)] };
}

/** A client query (as in wire.test.ts). */
function clientQuery(name: string, qtype: number = QTYPE.A, options: { id?: number; edns?: { udpSize?: number; do?: boolean; ecs?: boolean }; cd?: boolean; ad?: boolean; rd?: boolean } = {}) {
  const id = options.id ?? 0xbeef;
  const bytes = [id >> 8, id & 0xff, options.rd === false ? 0 : 0x01, (options.cd ? 0x10 : 0) | (options.ad ? 0x20 : 0), 0, 1, 0, 0, 0, 0, 0, options.edns ? 1 : 0];
  bytes.push(...labels(name), 0, qtype >> 8, qtype & 0xff, 0, 1);
  if (options.edns) {
    const size = options.edns.udpSize ?? 4096;
    const rdata = options.edns.ecs ? ednsOption(8, [0, 1, 24, 0, 192, 0, 2]) : [];
    bytes.push(0, 0, QTYPE.OPT, size >> 8, size & 0xff, 0, 0, options.edns.do ? 0x80 : 0, 0, 0, rdata.length, ...rdata);
  }
  const packet = Uint8Array.from(bytes);
  const parsed = parseQuery(packet);
  assert.ok(parsed.ok, 'test query parses');
  return { packet, query: parsed.query };
}

/** Every record as [section, owner, type, ttl], read back through the code under test. */
function records(packet: Uint8Array) {
  const out: [number, string | null, number, number][] = [];
  const end = walkRecords(packet, (section, start, fixed) => {
    const ttl = packet[fixed + 4] * 0x1000000 + ((packet[fixed + 5] << 16) | (packet[fixed + 6] << 8) | packet[fixed + 7]);
    out.push([section, readName(packet, start), (packet[fixed] << 8) | packet[fixed + 1], ttl]);
  });
  assert.ok(end >= 0, 'well formed');
  return out;
}
const counts = (p: Uint8Array) => [(p[4] << 8) | p[5], (p[6] << 8) | p[7], (p[8] << 8) | p[9], (p[10] << 8) | p[11]];
const optOf = (p: Uint8Array) => {
  const at = findOpt(p);
  if (at < 0) return null;
  return { udpSize: (p[at + 3] << 8) | p[at + 4], ext: p[at + 5], version: p[at + 6], dnssecOk: (p[at + 7] & 0x80) !== 0, rdata: [...p.subarray(at + 11, at + 11 + ((p[at + 9] << 8) | p[at + 10]))] };
};

// ---------------------------------------------------------------------------

describe('walking and names', () => {
  it('visits every record with its section, through compressed owners', () => {
    const packet = message({
      answer: [CNAME(12, suffix('cdn', 12 + 4)), rawOwner(suffix('cdn', 12 + 4), QTYPE.A, 60, [192, 0, 2, 1])],
      authority: [SOA('example.org', 3600, 300)],
      additional: [opt()],
    });
    assert.deepEqual(records(packet), [
      [SECTION.ANSWER, 'www.example.org', QTYPE.CNAME, 300],
      [SECTION.ANSWER, 'cdn.example.org', QTYPE.A, 60],
      [SECTION.AUTHORITY, 'example.org', QTYPE.SOA, 3600],
      [SECTION.ADDITIONAL, '', QTYPE.OPT, 0],
    ]);
  });

  it('reads names the way parseQuery does (lower case, escapes)', () => {
    const { packet, query } = clientQuery('A\\B.Ex ample.ORG');
    assert.equal(readName(packet, 12), query.name);
  });

  it('refuses pointer loops, forward pointers, pointers into the header and over-long names', () => {
    // Offsets 12 and 14 hold pointers to each other.
    const loop = Uint8Array.from([0, 0, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0xc0, 12]);
    assert.equal(readName(loop, 12), null);
    assert.equal(readName(loop, 14), null);
    const self = Uint8Array.from([0, 0, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x61, 0xc0, 12]);
    assert.equal(readName(self, 12), null, 'a name pointing back into itself');
    const forward = Uint8Array.from([0, 0, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 14, 1, 0x61, 0]);
    assert.equal(readName(forward, 14), 'a');
    assert.equal(readName(forward, 12), null, 'a pointer forward');
    const header = Uint8Array.from([0, 0, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 2]);
    assert.equal(readName(header, 12), null);
    const long = Uint8Array.from([...new Array(12).fill(0), ...labels(Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.')), 0]);
    assert.equal(readName(long, 12), null);
    assert.equal(readName(Uint8Array.from([...new Array(12).fill(0), 3, 0x61]), 12), null, 'cut short');
  });

  it('fails, without throwing, on truncated records', () => {
    const packet = message({ answer: [A(12, '192.0.2.1')] });
    for (let cut = 0; cut < packet.length; cut++) assert.equal(walkRecords(packet.subarray(0, cut)), -1);
  });
});

describe('TTLs', () => {
  it('takes the smallest TTL of the answer and authority sections, not the additional or OPT', () => {
    const packet = message({
      answer: [CNAME(12, 'cdn.example.net', 600), A('cdn.example.net', '192.0.2.1', 120)],
      authority: [{ name: 'example.net', type: QTYPE.NS, ttl: 90, rdata: wireName('ns.example.net') }],
      additional: [A('ns.example.net', '192.0.2.53', 5), opt()],
    });
    assert.equal(minTtl(packet), 90);
    assert.equal(isNegativeAnswer(packet), false);
  });

  it('reads a TTL with the top bit set as 0 (RFC 2181 §8)', () => {
    assert.equal(minTtl(message({ answer: [A(12, '192.0.2.1', 0x80000001)] })), 0);
  });

  it('caches NXDOMAIN and NODATA for min(SOA TTL, SOA MINIMUM) (RFC 2308 §5)', () => {
    const nx = message({ flags: [0x81, 0x83], authority: [SOA('example.org', 3600, 300)] });
    assert.equal(isNegativeAnswer(nx), true);
    assert.equal(minTtl(nx), 300);
    const nodata = message({ authority: [SOA('example.org', 120, 900)] });
    assert.equal(isNegativeAnswer(nodata), true);
    assert.equal(minTtl(nodata), 120);
    const chain = message({ answer: [CNAME(12, 'elsewhere.example.net', 50)], authority: [SOA('example.net', 3600, 600)] });
    assert.equal(isNegativeAnswer(chain), true, 'a CNAME chain that ends without the type is NODATA');
    assert.equal(minTtl(chain), 50);
  });

  it('uses the configured default for a negative answer without an SOA', () => {
    const nx = message({ flags: [0x81, 0x83] });
    assert.equal(minTtl(nx), 60);
    assert.equal(minTtl(nx, { negativeDefaultTtl: 15 }), 15);
  });

  it('ages, caps and sets TTLs in place, never below 0, leaving the OPT record alone', () => {
    const build = () => message({ answer: [A(12, '192.0.2.1', 300), A(12, '192.0.2.2', 20)], authority: [SOA('example.org', 3600, 60)], additional: [opt({ dnssecOk: true, ext: 1 })] });
    const aged = build();
    assert.equal(ageTtls(aged, 30), true);
    assert.deepEqual(records(aged).map((r) => r[3]), [270, 0, 3570, 0x01008000]);
    const capped = build();
    assert.equal(capTtls(capped, 100), true);
    assert.deepEqual(records(capped).map((r) => r[3]), [100, 20, 100, 0x01008000]);
    const set = build();
    assert.equal(setTtls(set, 30), true);
    assert.deepEqual(records(set).map((r) => r[3]), [30, 30, 30, 0x01008000]);
    assert.equal(ageTtls(build().subarray(0, 40), 1), false, 'malformed: false, no throw');
  });
});

describe('prepareForClient', () => {
  const upstream = (extra: MessageSpec = {}) =>
    message({ id: 0x1111, question: { name: 'www.example.org' }, answer: [A(12, '192.0.2.1')], additional: [opt({ data: ednsOption(10, [1, 2, 3, 4, 5, 6, 7, 8]) })], ...extra });

  it('gives the client its id and its letter case, and leaves the input alone', () => {
    const { packet, query } = clientQuery('WwW.ExAmPlE.oRg', QTYPE.A, { id: 0x2468 });
    const answer = upstream();
    const before = answer.slice();
    const out = prepareForClient(answer, packet, query, { transport: 'udp' });
    assert.ok(out);
    assert.deepEqual(answer, before, 'input unchanged without inPlace');
    assert.equal((out[0] << 8) | out[1], 0x2468);
    assert.equal(Buffer.from(out.subarray(13, 16)).toString('latin1'), 'WwW');
    assert.deepEqual(records(out), [[SECTION.ANSWER, 'www.example.org', QTYPE.A, 300]]);
    assert.equal(out[2] & 0x80, 0x80, 'QR');
    assert.equal(out[3] & 0x80, 0x80, 'RA');
  });

  it('removes the OPT record for a client without EDNS, and adds one for a client with EDNS', () => {
    const plain = clientQuery('www.example.org');
    const out = prepareForClient(upstream(), plain.packet, plain.query, { transport: 'udp' })!;
    assert.equal(optOf(out), null);
    assert.deepEqual(counts(out), [1, 1, 0, 0]);

    const edns = clientQuery('www.example.org', QTYPE.A, { edns: { udpSize: 4096, do: true } });
    const added = prepareForClient(message({ question: { name: 'www.example.org' }, answer: [A(12, '192.0.2.1')] }), edns.packet, edns.query, { transport: 'udp' })!;
    assert.deepEqual(optOf(added), { udpSize: 1232, ext: 0, version: 0, dnssecOk: true, rdata: [] });
    assert.deepEqual(counts(added), [1, 1, 0, 1]);
  });

  it('rewrites the upstream OPT: our size, the client’s DO, no cookie or padding, EDE kept, client subnet only if the client sent one', () => {
    const data = [...ednsOption(10, [1, 2, 3, 4, 5, 6, 7, 8]), ...ednsOption(15, [0, 18]), ...ednsOption(8, [0, 1, 24, 24, 192, 0, 2]), ...ednsOption(12, [0, 0])];
    const answer = () => upstream({ additional: [opt({ udpSize: 4096, dnssecOk: true, data })] });
    const client = clientQuery('www.example.org', QTYPE.A, { edns: { udpSize: 1400 } });
    const out = prepareForClient(answer(), client.packet, client.query, { transport: 'udp', maxUdpSize: 1232 })!;
    assert.deepEqual(optOf(out), { udpSize: 1232, ext: 0, version: 0, dnssecOk: false, rdata: ednsOption(15, [0, 18]) });
    const withEcs = clientQuery('www.example.org', QTYPE.A, { edns: { ecs: true } });
    const forwarded = prepareForClient(answer(), withEcs.packet, withEcs.query, { transport: 'udp' })!;
    assert.deepEqual(optOf(forwarded)!.rdata, [...ednsOption(15, [0, 18]), ...ednsOption(8, [0, 1, 24, 24, 192, 0, 2])]);
  });

  it('adds an Extended DNS Error when asked, for EDNS clients only', () => {
    const edns = clientQuery('www.example.org', QTYPE.A, { edns: {} });
    const out = prepareForClient(upstream(), edns.packet, edns.query, { transport: 'udp', ede: { code: EDE.STALE_ANSWER, text: 'stale' } })!;
    assert.deepEqual(optOf(out)!.rdata, [...edeOption(EDE.STALE_ANSWER, 'stale')]);
    const plain = clientQuery('www.example.org');
    assert.equal(optOf(prepareForClient(upstream(), plain.packet, plain.query, { transport: 'udp', ede: { code: EDE.STALE_ANSWER } })!), null);
  });

  it('keeps the extended RCODE for EDNS clients and answers SERVFAIL to others', () => {
    const answer = () => upstream({ flags: [0x81, 0x80], answer: [], additional: [opt({ ext: 1 })] }); // BADVERS (16)
    const edns = clientQuery('www.example.org', QTYPE.A, { edns: {} });
    assert.equal(fullRcode(prepareForClient(answer(), edns.packet, edns.query, { transport: 'udp' })!), 16);
    const plain = clientQuery('www.example.org');
    const out = prepareForClient(answer(), plain.packet, plain.query, { transport: 'udp' })!;
    assert.equal(out[3] & 0x0f, RCODE.SERVFAIL);
  });

  it('takes RD, CD and opcode from the client, and AD only when the client asked with DO or AD (RFC 6840 §5.8)', () => {
    const validated = () => upstream({ flags: [0x81, 0xa0] });
    const noDo = clientQuery('www.example.org', QTYPE.A, { rd: false, cd: true });
    const a = prepareForClient(validated(), noDo.packet, noDo.query, { transport: 'udp' })!;
    assert.equal(a[2] & 0x01, 0, 'RD from the client');
    assert.equal(a[3] & 0x10, 0x10, 'CD from the client');
    assert.equal(a[3] & 0x20, 0, 'no AD for a client that did not ask');
    const withDo = clientQuery('www.example.org', QTYPE.A, { edns: { do: true } });
    assert.equal(prepareForClient(validated(), withDo.packet, withDo.query, { transport: 'udp' })![3] & 0x20, 0x20);
    const withAd = clientQuery('www.example.org', QTYPE.A, { ad: true });
    assert.equal(prepareForClient(validated(), withAd.packet, withAd.query, { transport: 'udp' })![3] & 0x20, 0x20);
  });

  const big = (n: number) => message({ question: { name: 'www.example.org' }, answer: Array.from({ length: n }, (_, i) => A(12, `192.0.${i >> 8}.${i & 0xff}`)), additional: [opt()] });

  it('truncates over UDP to 512 bytes without EDNS: TC set, question kept, no partial answer', () => {
    const plain = clientQuery('WWW.example.org', QTYPE.A, { id: 7 });
    const out = prepareForClient(big(40), plain.packet, plain.query, { transport: 'udp' })!; // 40 × 16 bytes > 512
    assert.equal(out[2] & 0x02, 0x02, 'TC');
    assert.deepEqual(counts(out), [1, 0, 0, 0]);
    assert.equal(out.length, plain.query.questionEnd);
    assert.equal(Buffer.from(out.subarray(13, 16)).toString('latin1'), 'WWW');
    const fits = prepareForClient(big(25), plain.packet, plain.query, { transport: 'udp' })!; // 33 + 400 bytes
    assert.equal(fits[2] & 0x02, 0);
    assert.deepEqual(counts(fits), [1, 25, 0, 0]);
  });

  it('truncates to the client’s EDNS size, and to our maximum when the client offers more', () => {
    const small = clientQuery('www.example.org', QTYPE.A, { edns: { udpSize: 700 } });
    const out = prepareForClient(big(50), small.packet, small.query, { transport: 'udp' })!; // 33 + 800 + 11
    assert.equal(out[2] & 0x02, 0x02);
    assert.deepEqual(counts(out), [1, 0, 0, 1]);
    assert.ok(optOf(out), 'the OPT record stays');
    const fits = prepareForClient(big(40), small.packet, small.query, { transport: 'udp' })!; // 33 + 640 + 11 = 684
    assert.equal(fits[2] & 0x02, 0);
    const large = clientQuery('www.example.org', QTYPE.A, { edns: { udpSize: 4096 } });
    assert.equal(prepareForClient(big(100), large.packet, large.query, { transport: 'udp', maxUdpSize: 1232 })![2] & 0x02, 0x02, 'over 1232');
    assert.equal(prepareForClient(big(100), large.packet, large.query, { transport: 'udp', maxUdpSize: 4096 })![2] & 0x02, 0);
  });

  it('drops additional records that do not fit without setting TC (RFC 2181 §9)', () => {
    const answer = message({ question: { name: 'www.example.org' }, answer: [A(12, '192.0.2.1')], additional: Array.from({ length: 40 }, (_, i) => A('glue.example.org', `198.51.100.${i}`)) });
    const plain = clientQuery('www.example.org');
    const out = prepareForClient(answer, plain.packet, plain.query, { transport: 'udp' })!;
    assert.equal(out[2] & 0x02, 0);
    const [, an, , ar] = counts(out);
    assert.equal(an, 1);
    assert.ok(ar > 0 && ar < 40, `kept ${ar} additional records`);
    assert.ok(out.length <= 512);
    assert.equal(walkRecords(out), out.length);
  });

  it('sends everything over a stream', () => {
    const plain = clientQuery('www.example.org');
    for (const transport of ['stream', 'tcp', 'dot', 'doh'] as const) {
      const out = prepareForClient(big(300), plain.packet, plain.query, { transport })!;
      assert.equal(out[2] & 0x02, 0, transport);
      assert.deepEqual(counts(out), [1, 300, 0, 0]);
    }
  });

  it('rewrites in place when asked, returning a view of the same memory', () => {
    const edns = clientQuery('www.example.org', QTYPE.A, { edns: {} });
    const answer = upstream();
    const out = prepareForClient(answer, edns.packet, edns.query, { transport: 'udp', inPlace: true })!;
    assert.equal(out.buffer, answer.buffer);
    assert.deepEqual(optOf(out), { udpSize: 1232, ext: 0, version: 0, dnssecOk: false, rdata: [] });
    assert.equal(walkRecords(out), out.length);
  });

  it('refuses an answer for another question, or a malformed one', () => {
    const client = clientQuery('www.example.org');
    assert.equal(prepareForClient(message({ question: { name: 'www.example.com' } }), client.packet, client.query, { transport: 'udp' }), null);
    assert.equal(prepareForClient(message({ question: { name: 'www.example.org', qtype: QTYPE.AAAA } }), client.packet, client.query, { transport: 'udp' }), null);
    const answer = upstream();
    assert.equal(prepareForClient(answer.subarray(0, answer.length - 3), client.packet, client.query, { transport: 'udp' }), null);
  });
});

describe('buildUpstreamQuery', () => {
  it('asks the same question in lower case with our id, RD and AD set, CD kept, our OPT with the client’s DO, and no client subnet', () => {
    const { packet, query } = clientQuery('WWW.Example.ORG', QTYPE.AAAA, { rd: false, cd: true, edns: { udpSize: 4096, do: true, ecs: true } });
    const out = buildUpstreamQuery(packet, query, 0x5150);
    const parsed = parseQuery(out);
    assert.ok(parsed.ok);
    assert.equal(parsed.query.id, 0x5150);
    assert.equal(parsed.query.recursionDesired, true);
    assert.equal(parsed.query.checkingDisabled, true);
    assert.equal(out[3] & 0x20, 0x20, 'AD');
    assert.equal(Buffer.from(out.subarray(13, 16)).toString('latin1'), 'www');
    assert.equal(parsed.query.qtype, QTYPE.AAAA);
    assert.deepEqual(parsed.query.edns, { udpSize: 1232, version: 0, dnssecOk: true, offset: query.questionEnd, hasClientSubnet: false });
    assert.deepEqual(counts(out), [1, 0, 0, 1]);
    assert.equal(matchesQuestion(out, message({ question: { name: 'www.example.org', qtype: QTYPE.AAAA } })), true);
  });

  it('forwards the client’s subnet only when told to, or sends a given one masked to its prefix (RFC 7871)', () => {
    const { packet, query } = clientQuery('example.org', QTYPE.A, { edns: { ecs: true } });
    const forwarded = buildUpstreamQuery(packet, query, 1, { forwardClientSubnet: true });
    assert.deepEqual(optOf(forwarded)!.rdata, ednsOption(8, [0, 1, 24, 0, 192, 0, 2]));
    const given = buildUpstreamQuery(packet, query, 1, { clientSubnet: { address: '203.0.113.77', sourcePrefix: 20 } });
    assert.deepEqual(optOf(given)!.rdata, ednsOption(8, [0, 1, 20, 0, 203, 0, 112]));
    const v6 = buildUpstreamQuery(packet, query, 1, { clientSubnet: { address: '2001:db8:abcd::1', sourcePrefix: 36 } });
    assert.deepEqual(optOf(v6)!.rdata, ednsOption(8, [0, 2, 36, 0, 0x20, 0x01, 0x0d, 0xb8, 0xa0]));
  });

  it('asks about another name when given one (safe search)', () => {
    const { packet, query } = clientQuery('www.google.com', QTYPE.A, { edns: {} });
    const parsed = parseQuery(buildUpstreamQuery(packet, query, 9, { question: { name: 'ForceSafeSearch.google.com' } }));
    assert.ok(parsed.ok);
    assert.equal(parsed.query.name, 'forcesafesearch.google.com');
    assert.equal(parsed.query.qtype, QTYPE.A);
  });
});

describe('answerTargets', () => {
  it('lists CNAME targets through compression pointers and the addresses at the end of the chain', () => {
    // www.example.org → cdn.example.org (pointer into the question) → edge.cdn.example.net → A, AAAA
    const cdnAt = 12 + 17 + 4 + 2 + 10; // the CNAME's RDATA: just after the first record's fixed part
    const packet = message({
      answer: [
        CNAME(12, suffix('cdn', 16)),
        rawOwner([0xc0, cdnAt], QTYPE.CNAME, 300, wireName('edge.CDN.example.net')),
        rawOwner(wireName('edge.cdn.example.net'), QTYPE.A, 300, [192, 0, 2, 7]),
        rawOwner(wireName('edge.cdn.example.net'), QTYPE.AAAA, 300, [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]),
      ],
      authority: [A('ignored.example', '198.51.100.1')],
    });
    assert.deepEqual(answerTargets(packet), { names: ['cdn.example.org', 'edge.cdn.example.net'], addresses: ['192.0.2.7', '2001:db8::1'] });
  });

  it('lists DNAME targets and SVCB/HTTPS target names and address hints', () => {
    const https = [0, 1, ...wireName('svc.example.net'), ...ednsOption(4, [192, 0, 2, 9]), ...ednsOption(6, [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 2])];
    const packet = message({ answer: [{ name: 12, type: 39, rdata: wireName('example.com') }, { name: 12, type: QTYPE.HTTPS, rdata: https }] });
    assert.deepEqual(answerTargets(packet), { names: ['example.com', 'svc.example.net'], addresses: ['192.0.2.9', '2001:db8::2'] });
  });

  it('returns null for an answer with a bad target or a wrong address length', () => {
    assert.equal(answerTargets(message({ answer: [CNAME(12, [0xc0, 0xff])] })), null);
    assert.equal(answerTargets(message({ answer: [{ name: 12, type: QTYPE.A, rdata: [1, 2, 3] }] })), null);
  });
});

describe('IPv6 text', () => {
  it('formats canonically (RFC 5952) and parses every form', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::', '::'],
      ['::1', '::1'],
      ['fe80::', 'fe80::'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['2001:DB8::A', '2001:db8::a'],
    ];
    for (const [input, canonical] of cases) assert.equal(formatIpv6(parseIpv6(input)!), canonical, input);
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', '1:2:3:4:5:6:7', '::1.2.3']) assert.equal(parseIpv6(bad), null, bad);
  });
});

describe('ResponseBuilder', () => {
  it('writes A, AAAA, CNAME, TXT and SOA records, the owner compressed to the question', () => {
    const { packet, query } = clientQuery('Www.Example.org', QTYPE.A, { id: 0x0102, cd: true, ad: true });
    const b = new ResponseBuilder(packet, query, { authoritative: true });
    const target = b.addCname(SECTION.ANSWER, QUESTION_NAME, 300, 'safe.example.net');
    b.addA(SECTION.ANSWER, target, 60, '192.0.2.10').addAaaa(SECTION.ANSWER, target, 60, '2001:db8::10');
    b.addTxt(SECTION.ANSWER, 'info.example', 5, ['x'.repeat(300)]);
    b.addSoa(SECTION.AUTHORITY, 'example.org', 10);
    const out = b.finish();
    assert.equal((out[0] << 8) | out[1], 0x0102);
    assert.equal(out[2], 0x80 | 0x04 | 0x01, 'QR, AA, RD');
    assert.equal(out[3], 0x80 | 0x10, 'RA and CD; AD cleared');
    assert.equal(Buffer.from(out.subarray(13, 16)).toString('latin1'), 'Www');
    assert.deepEqual([out[query.questionEnd], out[query.questionEnd + 1]], [0xc0, 0x0c], 'owner is the pointer 0xc00c');
    assert.deepEqual(records(out), [
      [SECTION.ANSWER, 'www.example.org', QTYPE.CNAME, 300],
      [SECTION.ANSWER, 'safe.example.net', QTYPE.A, 60],
      [SECTION.ANSWER, 'safe.example.net', QTYPE.AAAA, 60],
      [SECTION.ANSWER, 'info.example', 16, 5],
      [SECTION.AUTHORITY, 'example.org', QTYPE.SOA, 10],
    ]);
    assert.deepEqual(answerTargets(out), { names: ['safe.example.net'], addresses: ['192.0.2.10', '2001:db8::10'] });
    assert.equal(optOf(out), null, 'no OPT for a client without EDNS');
  });

  it('makes an NXDOMAIN with a synthetic SOA that is cached briefly, and an OPT with an Extended DNS Error', () => {
    const { packet, query } = clientQuery('casino.example', QTYPE.A, { edns: { do: true } });
    const out = new ResponseBuilder(packet, query).setRcode(RCODE.NXDOMAIN).addSoa(SECTION.AUTHORITY, QUESTION_NAME, 10).setExtendedError(EDE.BLOCKED, 'Blocked: gambling').finish();
    assert.equal(out[3] & 0x0f, RCODE.NXDOMAIN);
    assert.equal(minTtl(out), 10);
    assert.deepEqual(optOf(out), { udpSize: 1232, ext: 0, version: 0, dnssecOk: true, rdata: [...edeOption(EDE.BLOCKED, 'Blocked: gambling')] });
    assert.deepEqual([...edeOption(EDE.BLOCKED, 'ok')], [0, 15, 0, 4, 0, 15, 0x6f, 0x6b]);
    assert.equal(clientSubnetScope(out), -1);
  });

  it('grows its buffer, and refuses records out of section order or bad input', () => {
    const { packet, query } = clientQuery('example.org');
    const b = new ResponseBuilder(packet, query);
    for (let i = 0; i < 200; i++) b.addA(SECTION.ANSWER, QUESTION_NAME, 60, `10.0.0.${i}`);
    b.addSoa(SECTION.AUTHORITY, QUESTION_NAME, 60);
    assert.throws(() => b.addA(SECTION.ANSWER, QUESTION_NAME, 1, '10.0.0.1'), /order/);
    assert.throws(() => b.addA(SECTION.ADDITIONAL, QUESTION_NAME, 1, '10.0.0.256'), /IPv4/);
    assert.throws(() => b.addCname(SECTION.ADDITIONAL, QUESTION_NAME, 1, 'a..b'), /domain name/);
    const out = b.finish();
    assert.equal(counts(out)[1], 200);
    assert.equal(walkRecords(out), out.length);
  });
});

describe('ResponseBuilder buffers', () => {
  it('builds answers side by side without mixing them up, and after a refused record', () => {
    const a = clientQuery('a.example');
    const b = clientQuery('bb.example', QTYPE.AAAA);
    const first = new ResponseBuilder(a.packet, a.query).addA(SECTION.ANSWER, QUESTION_NAME, 60, '192.0.2.1');
    const second = new ResponseBuilder(b.packet, b.query).addAaaa(SECTION.ANSWER, QUESTION_NAME, 60, '2001:db8::2');
    first.addA(SECTION.ANSWER, QUESTION_NAME, 60, '192.0.2.3');
    const one = first.finish();
    const two = second.finish();
    assert.deepEqual(answerTargets(one), { names: [], addresses: ['192.0.2.1', '192.0.2.3'] });
    assert.deepEqual(answerTargets(two), { names: [], addresses: ['2001:db8::2'] });
    assert.equal(one.length, walkRecords(one));

    const refused = new ResponseBuilder(a.packet, a.query).addA(SECTION.ANSWER, QUESTION_NAME, 60, '192.0.2.4');
    assert.throws(() => refused.addA(SECTION.ANSWER, QUESTION_NAME, 60, 'not-an-address'), /IPv4/);
    const next = new ResponseBuilder(b.packet, b.query).addAaaa(SECTION.ANSWER, QUESTION_NAME, 60, '2001:db8::5').finish();
    assert.deepEqual(answerTargets(refused.addA(SECTION.ANSWER, QUESTION_NAME, 60, '192.0.2.6').finish()), { names: [], addresses: ['192.0.2.4', '192.0.2.6'] });
    assert.deepEqual(answerTargets(next), { names: [], addresses: ['2001:db8::5'] });
    assert.deepEqual(answerTargets(two), { names: [], addresses: ['2001:db8::2'] }, 'a finished answer is its own copy');
  });
});

describe('malformed input', () => {
  it('never throws on thousands of mutated answers, through every function', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const pick = (n: number) => Math.floor(random() * n);
    const bases = [
      message({ answer: [CNAME(12, suffix('cdn', 16)), A(12, '192.0.2.1')], authority: [SOA('example.org', 3600, 300)], additional: [opt({ data: [...ednsOption(8, [0, 1, 24, 24, 1, 2, 3]), ...ednsOption(15, [0, 3])] })] }),
      message({ flags: [0x81, 0x83], authority: [SOA(12, 60, 30)], additional: [opt()] }),
      new ResponseBuilder(...(() => {
        const q = clientQuery('www.example.org', QTYPE.HTTPS, { edns: {} });
        return [q.packet, q.query] as [Uint8Array, Query];
      })()).addRecord(SECTION.ANSWER, QUESTION_NAME, QTYPE.HTTPS, 60, Uint8Array.from([0, 1, 0, 0, 4, 0, 4, 1, 2, 3, 4])).finish().slice(),
    ];
    const clients = [clientQuery('www.example.org'), clientQuery('WWW.example.org', QTYPE.A, { edns: { udpSize: 600, ecs: true, do: true } })];
    for (let i = 0; i < 5000; i++) {
      const base = bases[i % bases.length];
      let packet: Uint8Array;
      if (i % 5 === 4) packet = Uint8Array.from({ length: pick(80) }, () => pick(256));
      else {
        packet = base.slice(0, base.length - (i % 3 === 0 ? pick(base.length) : 0));
        for (let m = 1 + pick(3); m > 0 && packet.length > 0; m--) packet[pick(packet.length)] = i % 2 ? pick(256) : 0xc0;
      }
      walkRecords(packet, () => {});
      readName(packet, pick(packet.length + 2));
      minTtl(packet);
      isNegativeAnswer(packet);
      answerTargets(packet);
      clientSubnetScope(packet);
      fullRcode(packet);
      matchesQuestion(clients[0].packet, packet);
      ageTtls(packet.slice(), 5);
      capTtls(packet.slice(), 5);
      for (const client of clients) {
        for (const transport of ['udp', 'stream'] as const) {
          const out = prepareForClient(packet.slice(), client.packet, client.query, { transport, inPlace: i % 2 === 0 });
          if (out) {
            assert.ok(walkRecords(out) >= 0, 'what we send is well formed');
            if (transport === 'udp') assert.ok(out.length <= (client.query.edns ? 600 : 512));
          }
        }
      }
      const parsed = parseQuery(packet);
      if (parsed.ok) buildUpstreamQuery(packet, parsed.query, 1, { forwardClientSubnet: true });
    }
  });
});
