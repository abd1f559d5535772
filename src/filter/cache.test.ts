import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cacheKey, createAnswerCache } from './cache.ts';
import { QUESTION_NAME, ResponseBuilder, SECTION, walkRecords } from './message.ts';
import { parseQuery, QTYPE, type Query, RCODE } from './wire.ts';

function clientQuery(name: string, options: { do?: boolean; cd?: boolean } = {}): { packet: Uint8Array; query: Query } {
  const bytes = [0x12, 0x34, 0x01, options.cd ? 0x10 : 0, 0, 1, 0, 0, 0, 0, 0, options.do ? 1 : 0];
  for (const label of name.split('.')) bytes.push(label.length, ...Buffer.from(label, 'latin1'));
  bytes.push(0, 0, QTYPE.A, 0, 1);
  if (options.do) bytes.push(0, 0, QTYPE.OPT, 4, 0xd0, 0, 0, 0x80, 0, 0, 0);
  const packet = Uint8Array.from(bytes);
  const parsed = parseQuery(packet);
  assert.ok(parsed.ok);
  return { packet, query: parsed.query };
}

/** An upstream answer for `name`: A records with the given TTLs, or a negative answer. */
function answer(name: string, spec: { ttls?: number[]; rcode?: number; soa?: { ttl: number; minimum: number } | null; ecsScope?: number } = {}): Uint8Array {
  const { packet, query } = clientQuery(name);
  const b = new ResponseBuilder(packet, query).setRcode(spec.rcode ?? RCODE.NOERROR);
  (spec.ttls ?? []).forEach((ttl, i) => b.addA(SECTION.ANSWER, QUESTION_NAME, ttl, `192.0.2.${i + 1}`));
  if (spec.soa) b.addSoa(SECTION.AUTHORITY, 'example.org', spec.soa.ttl, { minimum: spec.soa.minimum });
  if (spec.ecsScope !== undefined) {
    // An OPT record carrying a client-subnet option: family 1, source /24, the given scope, 192.0.2.
    b.addRecord(SECTION.ADDITIONAL, '', QTYPE.OPT, 0, Uint8Array.from([0, 8, 0, 7, 0, 1, 24, spec.ecsScope, 192, 0, 2]));
  }
  return b.finish().slice();
}

/** The TTLs of every record, in order. */
function ttls(packet: Uint8Array): number[] {
  const out: number[] = [];
  assert.ok(walkRecords(packet, (_s, _o, fixed) => void out.push(packet[fixed + 4] * 0x1000000 + ((packet[fixed + 5] << 16) | (packet[fixed + 6] << 8) | packet[fixed + 7]))) >= 0);
  return out;
}

const T0 = 1_700_000_000_000;
/** A key for the name alone (type A, class IN, no DO or CD), as most tests need. */
const k = (name: string) => ({ name, variant: (1 * 0x10000 + 1) * 4 });
const s = (seconds: number) => T0 + seconds * 1000;

describe('answer cache', () => {
  it('keys by name, type, class and the DO and CD bits', () => {
    assert.deepEqual(cacheKey(clientQuery('Example.ORG').query), { name: 'example.org', variant: (1 * 0x10000 + 1) * 4 });
    assert.notEqual(cacheKey(clientQuery('example.org', { do: true }).query), cacheKey(clientQuery('example.org').query));
    assert.notEqual(cacheKey(clientQuery('example.org', { cd: true }).query), cacheKey(clientQuery('example.org').query));
  });

  it('hands out copies with TTLs aged by the time spent in the cache', () => {
    const cache = createAnswerCache();
    const original = answer('example.org', { ttls: [300, 120] });
    assert.equal(cache.set(k('k'), original, T0), 'stored');
    original.fill(0); // the caller may reuse its buffer: the cache kept its own copy
    const hit = cache.get(k('k'), s(50.9));
    assert.ok(hit);
    assert.equal(hit.stale, false);
    assert.equal(hit.ttl, 70);
    assert.deepEqual(ttls(hit.answer), [70, 70], 'aged by 50 s, then no record outlives the entry');
    hit.answer.fill(0);
    assert.deepEqual(ttls(cache.get(k('k'), s(60))!.answer), [60, 60], 'changing a copy does not change the entry');
    assert.equal(cache.get(k('k'), s(120)), null, 'expired');
    assert.equal(cache.get(k('missing'), T0), null);
    const stats = cache.stats();
    assert.equal(stats.hits, 2);
    assert.equal(stats.misses, 2);
  });

  it('applies the minimum and maximum TTL', () => {
    const cache = createAnswerCache({ minTtl: 5, maxTtl: 86_400 });
    cache.set(k('short'), answer('a.example', { ttls: [1] }), T0);
    assert.ok(cache.get(k('short'), s(4)), 'kept 5 s although the TTL was 1');
    assert.deepEqual(ttls(cache.get(k('short'), s(4))!.answer), [0], 'the record’s own TTL is never raised');
    assert.equal(cache.get(k('short'), s(5)), null);
    cache.set(k('long'), answer('b.example', { ttls: [7 * 86_400] }), T0);
    assert.deepEqual(ttls(cache.get(k('long'), s(3600))!.answer), [86_400 - 3600]);
    assert.equal(cache.get(k('long'), s(86_400)), null, 'a week’s TTL is kept one day');
  });

  it('caches negative answers for min(SOA TTL, MINIMUM), capped by the negative maximum (RFC 2308)', () => {
    const cache = createAnswerCache({ negativeTtl: 3600, negativeDefaultTtl: 20 });
    cache.set(k('nx'), answer('gone.example', { rcode: RCODE.NXDOMAIN, soa: { ttl: 900, minimum: 300 } }), T0);
    assert.ok(cache.get(k('nx'), s(299)));
    assert.equal(cache.get(k('nx'), s(300)), null);
    cache.set(k('nodata'), answer('gone.example', { soa: { ttl: 86_400, minimum: 86_400 } }), T0);
    assert.equal(cache.get(k('nodata'), s(3599))!.ttl, 1);
    assert.equal(cache.get(k('nodata'), s(3600)), null);
    cache.set(k('nosoa'), answer('gone.example', { rcode: RCODE.NXDOMAIN }), T0);
    assert.ok(cache.get(k('nosoa'), s(19)));
    assert.equal(cache.get(k('nosoa'), s(20)), null);
  });

  it('serves an expired answer only when asked for stale, with TTL 30, within the stale window (RFC 8767)', () => {
    const cache = createAnswerCache({ staleSeconds: 3600 });
    cache.set(k('k'), answer('example.org', { ttls: [60, 600] }), T0);
    const fresh = cache.getStale(k('k'), s(10));
    assert.equal(fresh?.stale, false, 'a fresh entry is served fresh');
    assert.equal(cache.get(k('k'), s(61)), null, 'get never serves stale');
    const stale = cache.getStale(k('k'), s(61));
    assert.ok(stale);
    assert.equal(stale.stale, true);
    assert.equal(stale.ttl, 30);
    assert.deepEqual(ttls(stale.answer), [30, 30]);
    assert.ok(cache.getStale(k('k'), s(60 + 3599)));
    assert.equal(cache.getStale(k('k'), s(60 + 3600)), null, 'past the stale window');
    assert.equal(cache.stats().entries, 0, 'and dropped');
    assert.equal(cache.stats().staleHits, 2);
  });

  it('serves no stale answers when the window is 0, and prunes entries past it', () => {
    const cache = createAnswerCache({ staleSeconds: 0 });
    cache.set(k('a'), answer('a.example', { ttls: [10] }), T0);
    cache.set(k('b'), answer('b.example', { ttls: [100] }), T0);
    assert.equal(cache.getStale(k('a'), s(10)), null);
    assert.equal(cache.prune(s(50)), 0, 'a was dropped on access; b is fresh');
    assert.equal(cache.prune(s(100)), 1);
    assert.equal(cache.stats().entries, 0);
  });

  it('keeps within its byte budget by evicting names not used lately first (each hit gives a second chance)', () => {
    const size = answer('n0.example', { ttls: [300] }).length;
    const perEntry = size + 'n0'.length * 2 + 160; // the documented estimate
    const cache = createAnswerCache({ maxBytes: perEntry * 3 });
    for (const name of ['n0', 'n1', 'n2']) cache.set(k(name), answer(`${name}.example`, { ttls: [300] }), T0);
    assert.equal(cache.stats().entries, 3);
    assert.ok(cache.get(k('n0'), s(1)), 'n0 used: now n1 is the oldest');
    cache.set(k('n3'), answer('n3.example', { ttls: [300] }), T0);
    assert.equal(cache.get(k('n1'), s(1)), null, 'evicted');
    for (const name of ['n0', 'n2', 'n3']) assert.ok(cache.get(k(name), s(1)), name);
    const stats = cache.stats();
    assert.equal(stats.evictions, 1);
    assert.ok(stats.bytes <= perEntry * 3);
    cache.set(k('n4'), answer('n4.example', { ttls: [300] }), T0);
    cache.set(k('n5'), answer('n5.example', { ttls: [300] }), T0);
    assert.equal(cache.stats().evictions, 3);
    assert.equal(cache.stats().entries, 3);
    assert.equal(createAnswerCache({ maxBytes: 100 }).set(k('x'), answer('x.example', { ttls: [60] }), T0), 'too_large');
  });

  it('keeps the types and DO/CD variants of one name apart, and drops each on its own', () => {
    const cache = createAnswerCache({ staleSeconds: 0 });
    const plain = cacheKey(clientQuery('example.org').query);
    const withDo = cacheKey(clientQuery('example.org', { do: true }).query);
    const aaaa = { name: 'example.org', variant: plain.variant + 27 * 4 }; // type 28
    cache.set(plain, answer('example.org', { ttls: [60] }), T0);
    cache.set(withDo, answer('example.org', { ttls: [30, 30] }), T0);
    cache.set(aaaa, answer('example.org', { ttls: [10] }), T0);
    assert.equal(cache.stats().entries, 3);
    assert.deepEqual([plain, withDo, aaaa].map((key) => ttls(cache.get(key, T0)!.answer)), [[60], [30, 30], [10]]);
    assert.equal(cache.prune(s(10)), 1, 'the AAAA entry expired alone');
    assert.equal(cache.get(aaaa, s(10)), null);
    assert.ok(cache.get(plain, s(10)) && cache.get(withDo, s(10)));
    assert.equal(cache.delete(withDo), true);
    assert.equal(cache.delete(withDo), false);
    assert.ok(cache.get(plain, s(10)));
    assert.equal(cache.stats().entries, 1);
  });

  it('hands out the names and addresses to re-check with each hit, read once when stored', () => {
    const cache = createAnswerCache();
    cache.set(k('example.org'), answer('example.org', { ttls: [60, 60] }), T0);
    const first = cache.get(k('example.org'), s(1))!;
    assert.deepEqual(first.targets, { names: [], addresses: ['192.0.2.1', '192.0.2.2'] });
    assert.equal(cache.get(k('example.org'), s(2))!.targets, first.targets, 'the same arrays, not read again');
    assert.deepEqual(cache.getStale(k('example.org'), s(61))!.targets, first.targets);
  });

  it('never stores truncated, SERVFAIL, REFUSED, client-subnet-scoped or zero-TTL answers', () => {
    const cache = createAnswerCache();
    const truncated = answer('example.org', { ttls: [60] });
    truncated[2] |= 0x02;
    assert.equal(cache.set(k('tc'), truncated, T0), 'truncated');
    assert.equal(cache.set(k('sf'), answer('example.org', { rcode: RCODE.SERVFAIL }), T0), 'not_cacheable_rcode');
    assert.equal(cache.set(k('rf'), answer('example.org', { rcode: RCODE.REFUSED }), T0), 'not_cacheable_rcode');
    assert.equal(cache.set(k('ecs'), answer('example.org', { ttls: [60], ecsScope: 24 }), T0), 'client_subnet');
    assert.equal(cache.set(k('ecs0'), answer('example.org', { ttls: [60], ecsScope: 0 }), T0), 'stored', 'scope 0: good for everyone');
    assert.equal(cache.set(k('zero'), answer('example.org', { ttls: [0] }), T0), 'zero_ttl');
    assert.equal(cache.set(k('bad'), Uint8Array.of(1, 2, 3), T0), 'malformed');
    const query = clientQuery('example.org').packet;
    assert.equal(cache.set(k('query'), query, T0), 'malformed', 'a query is not an answer');
    for (const key of ['tc', 'sf', 'rf', 'ecs', 'zero', 'bad', 'query']) assert.equal(cache.get(k(key), T0), null, key);
    assert.equal(cache.stats().rejected, 7);
  });

  it('keeps the older answer when a newer one may not be cached (serve-stale needs it)', () => {
    const cache = createAnswerCache();
    cache.set(k('k'), answer('example.org', { ttls: [60] }), T0);
    assert.equal(cache.set(k('k'), answer('example.org', { rcode: RCODE.SERVFAIL }), s(61)), 'not_cacheable_rcode');
    assert.equal(cache.getStale(k('k'), s(61))?.stale, true);
  });
});
