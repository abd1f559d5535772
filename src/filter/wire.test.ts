import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyResponse, parseQuery, QTYPE, RCODE, setId } from './wire.ts';

/** Builds a query packet the way a stub resolver does (a test builder, not used by the server). */
function query(name: string, qtype: number = QTYPE.A, options: { id?: number; edns?: { udpSize?: number; do?: boolean; ecs?: boolean }; qdcount?: number } = {}) {
  const labels = name ? name.split('.') : [];
  const bytes: number[] = [];
  const id = options.id ?? 0xbeef;
  bytes.push(id >> 8, id & 0xff, 0x01, 0x00, 0, options.qdcount ?? 1, 0, 0, 0, 0, 0, options.edns ? 1 : 0);
  for (const label of labels) bytes.push(label.length, ...Buffer.from(label, 'latin1'));
  bytes.push(0, qtype >> 8, qtype & 0xff, 0, 1);
  if (options.edns) {
    const size = options.edns.udpSize ?? 4096;
    const rdata = options.edns.ecs ? [0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2] : [];
    bytes.push(0, 0, QTYPE.OPT, size >> 8, size & 0xff, 0, 0, options.edns.do ? 0x80 : 0, 0, 0, rdata.length, ...rdata);
  }
  return Uint8Array.from(bytes);
}

describe('parseQuery', () => {
  it('reads id, flags, the question and no EDNS', () => {
    const result = parseQuery(query('WWW.Example.ORG', QTYPE.AAAA));
    assert.ok(result.ok);
    assert.deepEqual(
      { ...result.query },
      { id: 0xbeef, opcode: 0, recursionDesired: true, checkingDisabled: false, name: 'www.example.org', qtype: QTYPE.AAAA, qclass: 1, questionEnd: 12 + 17 + 4, edns: null },
    );
  });

  it('reads the client’s EDNS buffer size, DO bit and client-subnet option', () => {
    const result = parseQuery(query('example.org', QTYPE.A, { edns: { udpSize: 1232, do: true, ecs: true } }));
    assert.ok(result.ok);
    assert.deepEqual(result.query.edns, { udpSize: 1232, version: 0, dnssecOk: true, offset: 12 + 13 + 4, hasClientSubnet: true });
    const small = parseQuery(query('example.org', QTYPE.A, { edns: { udpSize: 100 } }));
    assert.ok(small.ok);
    assert.equal(small.query.edns?.udpSize, 512, 'sizes below 512 count as 512 (RFC 6891 §6.2.5)');
  });

  it('reads the root and escapes odd bytes in names', () => {
    const root = parseQuery(query('', QTYPE.NS));
    assert.ok(root.ok);
    assert.equal(root.query.name, '');
    const odd = parseQuery(query('a b.example', QTYPE.A));
    assert.ok(odd.ok);
    assert.equal(odd.query.name, 'a\\032b.example');
  });

  const cases: [string, Uint8Array, 'drop' | 'formerr', RegExp][] = [
    ['a packet shorter than a header', Uint8Array.of(1, 2, 3), 'drop', /shorter/],
    ['a response', (() => { const p = query('x.org'); p[2] |= 0x80; return p; })(), 'drop', /response/],
    ['two questions', query('x.org', QTYPE.A, { qdcount: 2 }), 'formerr', /one question/],
    ['a compression pointer in the question', Uint8Array.of(0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1), 'formerr', /pointer/],
    ['a name cut short', query('example.org').subarray(0, 16), 'formerr', /past the end/],
    ['a missing type and class', query('example.org').subarray(0, 12 + 13 + 2), 'formerr', /type and class/],
    ['a name over 255 bytes', query(Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.')), 'formerr', /255/],
    ['an EDNS option longer than its record', (() => { const p = query('x.org', QTYPE.A, { edns: { ecs: true } }); p[p.length - 9] = 99; return p; })(), 'formerr', /option/],
    ['two OPT records', (() => { const p = query('x.org', QTYPE.A, { edns: {} }); const opt = p.subarray(p.length - 11); const q = new Uint8Array([...p, ...opt]); q[11] = 2; return q; })(), 'formerr', /more than one OPT/],
  ];
  for (const [what, packet, action, reason] of cases) {
    it(`refuses ${what} (${action})`, () => {
      const result = parseQuery(packet);
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.action, action);
        assert.match(result.reason, reason);
      }
    });
  }

  it('never throws on random or mutated packets', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const base = query('www.example.org', QTYPE.A, { edns: { ecs: true } });
    for (let i = 0; i < 20_000; i++) {
      const packet = i % 2 ? new Uint8Array(Math.floor(random() * 64)).map(() => Math.floor(random() * 256)) : base.slice(0, Math.floor(random() * (base.length + 1)));
      if (i % 2 === 0) packet[Math.floor(random() * packet.length)] = Math.floor(random() * 256);
      const result = parseQuery(packet);
      assert.equal(typeof result.ok, 'boolean');
    }
  });
});

describe('emptyResponse', () => {
  it('answers with the id, the question in the client’s case, the rcode, RA set, AD clear and an OPT when asked', () => {
    const packet = query('WWW.Example.org', QTYPE.A, { id: 0x1234, edns: { udpSize: 4096 } });
    packet[3] |= 0x20 | 0x10; // AD and CD set by the client
    const parsed = parseQuery(packet);
    assert.ok(parsed.ok);
    const out = emptyResponse(packet, parsed.query, RCODE.NXDOMAIN, { authoritative: true });
    assert.equal((out[0] << 8) | out[1], 0x1234);
    assert.equal(out[2] & 0x80, 0x80, 'QR');
    assert.equal(out[2] & 0x04, 0x04, 'AA');
    assert.equal(out[2] & 0x01, 0x01, 'RD kept');
    assert.equal(out[3] & 0x80, 0x80, 'RA');
    assert.equal(out[3] & 0x20, 0, 'AD cleared on a made-up answer');
    assert.equal(out[3] & 0x10, 0x10, 'CD kept');
    assert.equal(out[3] & 0x0f, RCODE.NXDOMAIN);
    assert.deepEqual([...out.subarray(4, 12)], [0, 1, 0, 0, 0, 0, 0, 1]);
    assert.equal(Buffer.from(out.subarray(13, 16)).toString('latin1'), 'WWW', 'letter case echoed');
    assert.equal(out.length, parsed.query.questionEnd + 11);
    const again = parseQuery(Uint8Array.from([...out.subarray(0, 2), out[2] & 0x7f, ...out.subarray(3)]));
    assert.ok(again.ok && again.query.edns, 'the OPT record we add is well formed');
  });

  it('answers FORMERR with the header alone when the question is unreadable', () => {
    const packet = query('x.org', QTYPE.A, { qdcount: 2 });
    const out = emptyResponse(packet, null, RCODE.FORMERR);
    assert.equal(out.length, 12);
    assert.equal(out[3] & 0x0f, RCODE.FORMERR);
    assert.equal((out[4] << 8) | out[5], 0);
  });

  it('sets the id of a relayed answer', () => {
    const packet = query('x.org');
    setId(packet, 0xa1b2);
    assert.deepEqual([packet[0], packet[1]], [0xa1, 0xb2]);
  });
});
