import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DDR_NAME, ILLEGAL_TEST_NAME, isIllegalTestName, LOCAL_ZONES, SpecialNames } from './special-names.ts';

describe('special names', () => {
  const special = new SpecialNames();

  it('answers the Firefox canary and iCloud Private Relay with NXDOMAIN, as bypass attempts', () => {
    for (const name of ['use-application-dns.net', 'mask.icloud.com', 'mask-h2.icloud.com']) {
      const d = special.decide(name);
      assert.equal(d?.kind, 'bypass_blocked', name);
      assert.equal(d?.rule, 'bypass');
      assert.equal(d?.answer, 'nxdomain');
      assert.equal(d?.matched, name);
    }
    assert.equal(special.decide('www.icloud.com'), null);
    assert.equal(special.decide('sub.use-application-dns.net'), null);
  });

  it('answers DDR with no data as a local answer, not a bypass event', () => {
    assert.deepEqual({ ...special.decide(DDR_NAME) }, {
      kind: 'allowed',
      rule: 'local',
      reason: 'answered here: this network offers no other resolver to upgrade to',
      category: null,
      matched: '_dns.resolver.arpa',
      answer: 'nodata',
    });
  });

  it('answers reverse names of local addresses here (RFC 6303): NXDOMAIN below a zone, no data at its apex', () => {
    const cases: [string, 'nxdomain' | 'nodata', string][] = [
      ['1.0.0.10.in-addr.arpa', 'nxdomain', '10.in-addr.arpa'],
      ['5.4.16.172.in-addr.arpa', 'nxdomain', '16.172.in-addr.arpa'],
      ['5.4.31.172.in-addr.arpa', 'nxdomain', '31.172.in-addr.arpa'],
      ['1.1.168.192.in-addr.arpa', 'nxdomain', '168.192.in-addr.arpa'],
      ['1.0.0.127.in-addr.arpa', 'nxdomain', '127.in-addr.arpa'],
      ['9.9.254.169.in-addr.arpa', 'nxdomain', '254.169.in-addr.arpa'],
      ['1.2.64.100.in-addr.arpa', 'nxdomain', '64.100.in-addr.arpa'],
      ['1.2.127.100.in-addr.arpa', 'nxdomain', '127.100.in-addr.arpa'],
      [`1.${'0.'.repeat(31)}ip6.arpa`, 'nodata', `1.${'0.'.repeat(31)}ip6.arpa`], // ::1 is the zone itself
      [`${'0.'.repeat(29)}0.8.e.f.ip6.arpa`, 'nxdomain', '8.e.f.ip6.arpa'], // fe80::
      [`${'1.'.repeat(29)}b.e.f.ip6.arpa`, 'nxdomain', 'b.e.f.ip6.arpa'], // febf:…
      [`${'0.'.repeat(30)}d.f.ip6.arpa`, 'nxdomain', 'd.f.ip6.arpa'], // fd00::
      [`${'0.'.repeat(30)}c.f.ip6.arpa`, 'nxdomain', 'c.f.ip6.arpa'], // fc00::
      ['10.in-addr.arpa', 'nodata', '10.in-addr.arpa'],
      ['resolver.arpa', 'nodata', 'resolver.arpa'],
    ];
    for (const [name, answer, zone] of cases) {
      const d = special.decide(name);
      assert.equal(d?.kind, 'allowed', name);
      assert.equal(d?.rule, 'local', name);
      assert.equal(d?.answer, answer, name);
      assert.equal(d?.matched, zone, name);
    }
  });

  it('forwards public reverse names and everything else', () => {
    for (const name of ['8.8.8.8.in-addr.arpa', '1.1.15.172.in-addr.arpa', '1.1.32.172.in-addr.arpa', '1.2.63.100.in-addr.arpa', '1.2.128.100.in-addr.arpa', 'in-addr.arpa', 'arpa', `${'0.'.repeat(30)}e.f.ip6.arpa`, `${'0.'.repeat(28)}8.8.4.0.1.0.0.2.ip6.arpa`, 'example.com', 'home.arpa']) {
      assert.equal(special.decide(name), null, name);
    }
  });

  it('leaves a local zone to the school’s conditional forwarder when they overlap', () => {
    const school = new SpecialNames(['10.10.in-addr.arpa', '168.192.IN-ADDR.ARPA.']);
    assert.equal(school.decide('5.5.10.10.in-addr.arpa'), null);
    assert.equal(school.decide('5.5.9.10.in-addr.arpa'), null); // the whole 10/8 zone goes to the forwarder
    assert.equal(school.decide('1.1.168.192.in-addr.arpa'), null);
    assert.equal(school.decide('1.1.16.172.in-addr.arpa')?.answer, 'nxdomain');
    assert.ok(!school.localZones.includes('10.in-addr.arpa'));
  });

  it('holds no zone twice and shares its decisions', () => {
    assert.equal(new Set(LOCAL_ZONES).size, LOCAL_ZONES.length);
    assert.ok(Object.isFrozen(special.decide('mask.icloud.com')));
    assert.equal(special.decide('1.0.0.10.in-addr.arpa'), special.decide('2.0.0.10.in-addr.arpa'));
  });

  it('knows the built-in illegal test name and names below it', () => {
    assert.equal(ILLEGAL_TEST_NAME.endsWith('.invalid'), true);
    assert.equal(isIllegalTestName(ILLEGAL_TEST_NAME), true);
    assert.equal(isIllegalTestName(`x7f3.${ILLEGAL_TEST_NAME}`), true);
    assert.equal(isIllegalTestName(`not${ILLEGAL_TEST_NAME}`), false);
  });
});
