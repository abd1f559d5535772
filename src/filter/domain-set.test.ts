import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainSet, DomainTable, normalizeDomainEntry } from './domain-set.ts';

describe('normalizeDomainEntry', () => {
  it('lower-cases, drops the trailing dot and reads = as exact', () => {
    assert.deepEqual(normalizeDomainEntry(' Example.COM. '), { name: 'example.com', exact: false, text: 'example.com' });
    assert.deepEqual(normalizeDomainEntry('=www.Example.com'), { name: 'www.example.com', exact: true, text: '=www.example.com' });
  });

  it('turns a Unicode name into the form it has on the wire', () => {
    assert.equal(normalizeDomainEntry('bücher.de')?.name, 'xn--bcher-kva.de');
  });

  it('treats IP addresses as exact', () => {
    assert.deepEqual(normalizeDomainEntry('192.0.2.1'), { name: '192.0.2.1', exact: true, text: '=192.0.2.1' });
    assert.equal(normalizeDomainEntry('2001:DB8:0:0::1')?.name, '2001:db8::1');
  });

  it('refuses what is not a domain name', () => {
    for (const bad of ['', '=', '*.example.com', 'exa mple.com', 'http://example.com', 'a..b', '-x.com', `${'a'.repeat(64)}.com`, '300.1.1.1', 'zz::zz']) {
      assert.equal(normalizeDomainEntry(bad), null, bad);
    }
  });
});

describe('DomainSet', () => {
  const set = new DomainSet(['example.com', '=exact.org', 'deep.sub.example.net', 'Bad Entry']);

  it('covers the name and its subdomains, and only the name for = entries', () => {
    assert.equal(set.match('example.com'), 'example.com');
    assert.equal(set.match('a.b.example.com'), 'example.com');
    assert.equal(set.match('exact.org'), '=exact.org');
    assert.equal(set.match('www.exact.org'), null);
    assert.equal(set.match('deep.sub.example.net'), 'deep.sub.example.net');
    assert.equal(set.match('x.deep.sub.example.net'), 'deep.sub.example.net');
  });

  it('matches on label boundaries only', () => {
    assert.equal(set.match('notexample.com'), null);
    assert.equal(set.match('com'), null);
    assert.equal(set.match('sub.example.net'), null);
    assert.equal(set.match(''), null);
  });

  it('reports entries it could not use', () => {
    assert.deepEqual(set.rejected, ['Bad Entry']);
    assert.equal(set.size, 3);
  });
});

describe('DomainTable', () => {
  it('answers several lists in one walk with the most specific entry of each', () => {
    const table = new DomainTable<string>([['example.com'], ['www.example.com', 'example.com'], ['=www.example.com']], (list, e) => `${list}:${e.text}`);
    assert.equal(table.match('a.www.example.com'), 0b011);
    assert.equal(table.value(0), '0:example.com');
    assert.equal(table.value(1), '1:www.example.com');
    assert.equal(table.match('www.example.com'), 0b111);
    assert.equal(table.value(2), '2:=www.example.com');
    assert.equal(table.match('example.org'), 0);
  });

  it('matches exact entries only when asked (addresses)', () => {
    const table = new DomainTable<string>([['2.1', '=192.0.2.1']], (_, e) => e.text);
    assert.equal(table.match('192.0.2.1', true), 1);
    assert.equal(table.value(0), '=192.0.2.1');
    assert.equal(table.match('10.0.2.1', true), 0);
  });

  it('agrees with a plain implementation on many random names', () => {
    // Small alphabet so that suffixes collide often.
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const label = () => ['a', 'b', 'ab', 'ba', 'x-y', 'z9'][Math.floor(random() * 6)];
    const name = () => Array.from({ length: 1 + Math.floor(random() * 4) }, label).join('.');
    const entries = Array.from({ length: 400 }, () => (random() < 0.3 ? `=${name()}` : name()));
    const set = new DomainSet(entries);
    const plain = (n: string): string | null => {
      let best: string | null = null;
      for (const e of entries) {
        const exact = e.startsWith('=');
        const base = exact ? e.slice(1) : e;
        const hit = n === base || (!exact && n.endsWith(`.${base}`));
        if (hit && (!best || base.length > best.replace(/^=/, '').length || (base.length === best.replace(/^=/, '').length && exact))) best = e;
      }
      return best;
    };
    for (let i = 0; i < 3000; i++) {
      const n = name();
      const expected = plain(n);
      const got = set.match(n);
      // Same covering name; when both `x` and `=x` exist either text is a correct answer.
      assert.equal(got?.replace(/^=/, '') ?? null, expected?.replace(/^=/, '') ?? null, n);
    }
  });
});
