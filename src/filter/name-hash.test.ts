import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalIp, hashName, ipText, parseIpv6, sortKeys } from './name-hash.ts';

function key(name: string, exact = false): bigint {
  const out = new Uint32Array(2);
  hashName(name, exact, out);
  return (BigInt(out[0]) << 32n) | BigInt(out[1]);
}

describe('name keys', () => {
  it('are deterministic and differ for exact and subtree entries of the same name', () => {
    assert.equal(key('example.com'), key('example.com'));
    assert.notEqual(key('example.com'), key('example.com', true));
    assert.notEqual(key('example.com'), key('www.example.com'));
    assert.notEqual(key('ab.c'), key('a.bc'), 'the dot is part of the hash');
  });

  it('give 2^20 similar names distinct 64-bit keys, and their high words collide as often as random ones', () => {
    // Names in the shapes lists hold: counters, shared parents, one-character changes.
    const n = 1 << 20;
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    const out = new Uint32Array(2);
    for (let i = 0; i < n; i++) {
      const name = i % 3 === 0 ? `${i}.example.com` : i % 3 === 1 ? `site${i.toString(36)}.co.uk` : `a${i}b.x${i % 7}.net`;
      hashName(name, false, out);
      hi[i] = out[0];
      lo[i] = out[1];
    }
    const order = sortKeys(hi, lo, n);
    let full = 0;
    let high = 0;
    for (let i = 1; i < n; i++) {
      const a = order[i - 1];
      const b = order[i];
      if (hi[a] === hi[b]) {
        high++;
        if (lo[a] === lo[b]) full++;
      }
    }
    assert.equal(full, 0, 'no two names share a 64-bit key');
    // Random 32-bit values: n^2 / 2^33 = 128 expected pairs; a weak mix gives thousands (or none at all if it is not spreading).
    assert.ok(high > 60 && high < 260, `high-word collisions: ${high}, expected about 128`);
  });

  it('sortKeys orders by (hi, lo) unsigned and keeps equal keys in input order', () => {
    const hi = Uint32Array.from([5, 0xffffffff, 5, 0, 5, 0x80000000]);
    const lo = Uint32Array.from([2, 0, 1, 9, 2, 0]);
    assert.deepEqual([...sortKeys(hi, lo, hi.length)], [3, 2, 0, 4, 5, 1]);
    assert.deepEqual([...sortKeys(hi, lo, 0)], []);
  });
});

describe('IP address text', () => {
  it('writes IPv4 in dotted decimal and refuses leading zeros and bad octets', () => {
    assert.equal(canonicalIp('192.0.2.1'), '192.0.2.1');
    assert.equal(canonicalIp('0.0.0.0'), '0.0.0.0');
    assert.equal(canonicalIp('192.000.2.1'), null);
    assert.equal(canonicalIp('256.1.1.1'), null);
    assert.equal(canonicalIp('1.2.3'), null);
    assert.equal(canonicalIp('1.2.3.4.5'), null);
    assert.equal(canonicalIp('example.com'), null);
  });

  it('writes IPv6 per RFC 5952', () => {
    assert.equal(canonicalIp('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(canonicalIp('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1', 'the longest zero run is compressed');
    assert.equal(canonicalIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1', 'the first of equal runs');
    assert.equal(canonicalIp('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1', 'a single zero group is not compressed');
    assert.equal(canonicalIp('::'), '::');
    assert.equal(canonicalIp('::1'), '::1');
    assert.equal(canonicalIp('fe80::'), 'fe80::');
    assert.equal(canonicalIp('::ffff:192.0.2.1'), '::ffff:c000:201');
    assert.equal(canonicalIp('1::2::3'), null);
    assert.equal(canonicalIp('1:2:3:4:5:6:7:8:9'), null);
    assert.equal(canonicalIp('1:2:3:4:5:6:7'), null);
    assert.equal(canonicalIp('fe80::1%lo0'), null, 'zone ids are not addresses in a list');
    assert.equal(canonicalIp('12345::'), null);
  });

  it('writes answer bytes the same way as list text, so addresses in answers match list entries', () => {
    assert.equal(ipText(Uint8Array.from([9, 192, 0, 2, 1]), 1, 4), '192.0.2.1');
    const bytes = parseIpv6('2001:db8::1');
    assert.ok(bytes);
    assert.equal(ipText(bytes, 0, 16), '2001:db8::1');
  });
});
