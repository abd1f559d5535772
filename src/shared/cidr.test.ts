import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIp, matchNetwork, parseCidr, parseIp } from './cidr.ts';

const ok = (text: string) => {
  const parsed = parseCidr(text);
  assert.ok(parsed.ok, `${text}: ${parsed.ok ? '' : parsed.message}`);
  return parsed.cidr.text;
};
const refused = (text: string) => {
  const parsed = parseCidr(text);
  assert.equal(parsed.ok, false, `${text} should be refused`);
  return parsed.ok ? '' : parsed.message;
};

describe('parseCidr', () => {
  it('accepts and normalises IPv4 and IPv6 ranges', () => {
    assert.equal(ok('10.10.0.0/16'), '10.10.0.0/16');
    assert.equal(ok(' 192.168.1.0/24 '), '192.168.1.0/24');
    assert.equal(ok('0.0.0.0/0'), '0.0.0.0/0');
    assert.equal(ok('10.1.2.3'), '10.1.2.3/32');
    assert.equal(ok('2001:DB8:0:0::/32'), '2001:db8::/32');
    assert.equal(ok('2001:0db8:00ab:0000:0000:0000:0000:0000/48'), '2001:db8:ab::/48');
    assert.equal(ok('fd00:0:0:1::/64'), 'fd00:0:0:1::/64');
    assert.equal(ok('::/0'), '::/0');
    assert.equal(ok('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1/128');
    assert.equal(ok('::ffff:10.0.0.0/104'), '::ffff:10.0.0.0/104');
  });

  it('refuses host bits and names the network it would be', () => {
    const message = refused('10.1.2.3/16');
    assert.match(message, /host bits/);
    assert.match(message, /10\.1\.0\.0\/16/);
    assert.match(refused('2001:db8::1/32'), /2001:db8::\/32/);
  });

  it('refuses what is not an address or prefix', () => {
    assert.match(refused('10.1.2/24'), /not an IPv4 or IPv6 address/);
    assert.match(refused('256.1.1.1/32'), /not an IPv4/);
    assert.match(refused('010.1.1.0/24'), /not an IPv4/);
    assert.match(refused('10.0.0.0/33'), /0 to 32/);
    assert.match(refused('2001:db8::/129'), /0 to 128/);
    assert.match(refused('10.0.0.0/x'), /prefix length/);
    assert.match(refused('1:2:3:4:5:6:7:8:9/64'), /not an IPv4 or IPv6/);
    assert.match(refused('1::2::3/64'), /not an IPv4 or IPv6/);
    assert.match(refused('fe80::%eth0/64'), /not an IPv4 or IPv6/);
    assert.match(refused(''), /Enter a range/);
  });
});

describe('parseIp / formatIp', () => {
  it('round-trips canonical text', () => {
    for (const [input, canonical] of [
      ['1.2.3.4', '1.2.3.4'],
      ['2001:db8::1', '2001:db8::1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['::1', '::1'],
      ['1::', '1::'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['fe80::1%eth0', 'fe80::1'],
    ]) {
      const ip = parseIp(input);
      assert.ok(ip, input);
      assert.equal(formatIp(ip), canonical);
    }
  });
});

describe('matchNetwork', () => {
  const networks = [
    { id: 'all-v4', cidr: '10.0.0.0/8' },
    { id: 'pupils', cidr: '10.10.0.0/16' },
    { id: 'lab', cidr: '10.10.5.0/24' },
    { id: 'staff', cidr: '10.20.0.0/16' },
    { id: 'v6-site', cidr: '2001:db8:10::/48' },
    { id: 'v6-pupils', cidr: '2001:db8:10:1::/64' },
    { id: 'broken', cidr: 'not a range' },
  ];
  it('picks the most specific IPv4 range', () => {
    assert.equal(matchNetwork(networks, '10.10.5.7')?.id, 'lab');
    assert.equal(matchNetwork(networks, '10.10.6.7')?.id, 'pupils');
    assert.equal(matchNetwork(networks, '10.20.0.1')?.id, 'staff');
    assert.equal(matchNetwork(networks, '10.99.0.1')?.id, 'all-v4');
    assert.equal(matchNetwork(networks, '192.168.0.1'), undefined);
  });
  it('picks the most specific IPv6 range', () => {
    assert.equal(matchNetwork(networks, '2001:db8:10:1::abcd')?.id, 'v6-pupils');
    assert.equal(matchNetwork(networks, '2001:db8:10:2::1')?.id, 'v6-site');
    assert.equal(matchNetwork(networks, '2001:db8:11::1'), undefined);
  });
  it('treats IPv4-mapped IPv6 as IPv4', () => {
    assert.equal(matchNetwork(networks, '::ffff:10.10.5.7')?.id, 'lab');
    assert.equal(matchNetwork(networks, '::FFFF:10.20.1.1')?.id, 'staff');
    assert.equal(matchNetwork(networks, '::ffff:a14:101')?.id, 'staff');
    assert.equal(matchNetwork(networks, '::ffff:192.168.0.1'), undefined);
  });
  it('does not mix families and ignores garbage', () => {
    assert.equal(matchNetwork([{ cidr: '::/0' }], '10.0.0.1'), undefined);
    assert.equal(matchNetwork([{ cidr: '0.0.0.0/0' }], '2001:db8::1'), undefined);
    assert.equal(matchNetwork(networks, 'nonsense'), undefined);
    assert.equal(matchNetwork([], '10.0.0.1'), undefined);
  });
});
