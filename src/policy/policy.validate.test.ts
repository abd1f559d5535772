import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClockTime, parseDomainEntry, parseServerAddress, parseTimestamp } from './policy.validate.ts';

const value = <T>(r: { ok: true; value: T } | { ok: false; message: string }) => (r.ok ? r.value : `ERROR ${r.message}`);

describe('policy validation helpers', () => {
  it('normalises domain entries: case, trailing dot, exact mark, international names', () => {
    assert.equal(value(parseDomainEntry(' Example.COM. ')), 'example.com');
    assert.equal(value(parseDomainEntry('=Sub.Example.com')), '=sub.example.com');
    assert.equal(value(parseDomainEntry('= spaced.example')), '=spaced.example');
    assert.equal(value(parseDomainEntry('bücher.example')), 'xn--bcher-kva.example');
    assert.equal(value(parseDomainEntry('_dmarc.example.org')), '_dmarc.example.org');
    assert.equal(value(parseDomainEntry('com')), 'com', 'a whole top-level domain can be an entry');
  });

  it('refuses what is not a domain name, saying why', () => {
    const cases: [string, RegExp][] = [
      ['', /must be a domain name/],
      ['=', /must be a domain name/],
      ['https://example.com', /without http/],
      ['*.example.com', /write example\.com/],
      ['example.com/path', /no spaces, paths/],
      ['exa mple.com', /no spaces/],
      ['a..b.com', /empty part/],
      ['.example.com', /empty part/],
      ['-bad.example.com', /not allowed/],
      ['bad-.example.com', /not allowed/],
      ['ex!ample.com', /not allowed/],
      ['192.0.2.1', /IP address/],
      ['[2001:db8::1]', /IP address/],
      ['example.com:443', /without a port/],
      [`${'a'.repeat(64)}.com`, /longer than 63/],
      [Array.from({ length: 60 }, () => 'abcd').join('.'), /253/],
    ];
    for (const [input, message] of cases) {
      const result = parseDomainEntry(input);
      assert.equal(result.ok, false, input);
      if (!result.ok) assert.match(result.message, message, input);
    }
  });

  it('reads clock times, with 24:00 only as an end', () => {
    assert.equal(value(parseClockTime('08:30', { endOfDay: false })), '08:30');
    assert.equal(value(parseClockTime('23:59', { endOfDay: false })), '23:59');
    assert.equal(value(parseClockTime('24:00', { endOfDay: true })), '24:00');
    for (const bad of ['24:00', '8:30', '08:60', '25:00', '0830', '']) assert.equal(parseClockTime(bad, { endOfDay: false }).ok, false, bad);
    assert.equal(parseClockTime('24:01', { endOfDay: true }).ok, false);
  });

  it('reads forwarder addresses as IP and port', () => {
    assert.equal(value(parseServerAddress('10.0.0.5:53')), '10.0.0.5:53');
    assert.equal(value(parseServerAddress('[2001:DB8::5]:5353')), '[2001:db8::5]:5353');
    for (const bad of ['10.0.0.5', 'dc1.school.local:53', '2001:db8::5:53', '10.0.0.5:0', '10.0.0.5:70000', '[10.0.0.5]:53', '10.0.0.256:53']) {
      assert.equal(parseServerAddress(bad).ok, false, bad);
    }
  });

  it('reads timestamps with a zone only', () => {
    assert.equal(value(parseTimestamp('2026-03-01T15:30:00+01:00')), '2026-03-01T14:30:00.000Z');
    assert.equal(value(parseTimestamp('2026-03-01T15:30Z')), '2026-03-01T15:30:00.000Z');
    for (const bad of ['2026-03-01', '2026-03-01T15:30:00', 'tomorrow', '2026-13-01T00:00:00Z']) assert.equal(parseTimestamp(bad).ok, false, bad);
  });
});
