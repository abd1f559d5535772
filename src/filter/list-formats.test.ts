import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type ListFormat, normalizeName, parseListLine } from './list-formats.ts';

/** The names a line yields, as `name` (subtree) or `=name` (exact). */
function names(format: ListFormat, line: string, exact = false): string[] {
  return parseListLine(format, line, exact).names.map((n) => (n.exact ? `=${n.name}` : n.name));
}

/** The problems of a line, as `kind: reason`. */
function problems(format: ListFormat, line: string): string[] {
  return parseListLine(format, line).problems.map((p) => `${p.kind}: ${p.reason}`);
}

describe('normalizeName', () => {
  it('lower-cases, drops one trailing dot, converts internationalised names and canonicalises addresses', () => {
    assert.deepEqual(normalizeName('Ehentai.TO.'), { ok: true, name: 'ehentai.to', ip: false });
    assert.deepEqual(normalizeName('bücher.de'), { ok: true, name: 'xn--bcher-kva.de', ip: false });
    assert.deepEqual(normalizeName('192.0.2.1'), { ok: true, name: '192.0.2.1', ip: true });
    assert.deepEqual(normalizeName('2001:DB8:0:0:0:0:0:1'), { ok: true, name: '2001:db8::1', ip: true });
    assert.deepEqual(normalizeName('_video-bagarre.com'), { ok: true, name: '_video-bagarre.com', ip: false }, 'underscores are real');
  });

  it('refuses what is not a name, saying why', () => {
    const reason = (raw: string, single = false) => {
      const result = normalizeName(raw, single);
      assert.equal(result.ok, false, raw);
      return result.ok ? '' : result.reason;
    };
    assert.match(reason('a..b.com'), /empty label/);
    assert.match(reason(`${'a'.repeat(64)}.com`), /64 characters long; the most a label can have is 63/);
    assert.match(reason(`${'abcdefghi.'.repeat(26)}com`), /263 characters long; the most a domain name can have is 253/);
    assert.match(reason('exa mple.com'), /spaces/);
    assert.match(reason('ex!ample.com'), /character '!'/);
    assert.match(reason('a\\032b.com'), /'\\'/);
    assert.match(reason('wfbdevicemanagement'), /single label 'wfbdevicemanagement'/);
    assert.deepEqual(normalizeName('zip', true), { ok: true, name: 'zip', ip: false }, 'a TLD list may name one label');
    assert.match(reason('010.1.1.1'), /not a valid IPv4 address/);
    assert.match(reason('1.2.3'), /not a valid IPv4 address/);
    assert.match(reason('example.123'), /last label is all digits/);
    assert.match(reason('example.com:443'), /':' is not allowed/);
    assert.match(reason('.'), /empty name/);
  });
});

describe('plain lists', () => {
  it('reads names, comments, inline comments, BOM, CRLF, upper case and trailing dots', () => {
    assert.deepEqual(names('plain', '\uFEFFexample.com\r'), ['example.com']);
    assert.deepEqual(names('plain', '  Ehentai.to.  '), ['ehentai.to']);
    assert.deepEqual(names('plain', 'combocleaner.com                 #Software - Computer Cleaner '), ['combocleaner.com']);
    assert.deepEqual(names('plain', '# a comment'), []);
    assert.deepEqual(names('plain', '! a comment'), []);
    assert.deepEqual(names('plain', '; a comment'), []);
    assert.deepEqual(names('plain', '   '), []);
    assert.deepEqual(parseListLine('plain', '').problems, []);
  });

  it('covers subdomains unless the source is exact; markers and addresses decide for themselves', () => {
    assert.deepEqual(names('plain', 'example.com'), ['example.com']);
    assert.deepEqual(names('plain', 'example.com', true), ['=example.com']);
    assert.deepEqual(names('plain', '*.example.com', true), ['example.com'], '*.x covers x and its subdomains even in an exact source');
    assert.deepEqual(names('plain', '.abb'), ['abb'], 'a leading dot names a whole suffix, a TLD included');
    assert.deepEqual(names('plain', '192.0.2.1'), ['=192.0.2.1'], 'a bare address is stored as an exact address entry');
    assert.deepEqual(names('plain', '2001:0db8::0001'), ['=2001:db8::1']);
  });

  it('reports lines it cannot use', () => {
    assert.deepEqual(problems('plain', 'ping1.tnt-ea.com     Plants vs Zombies: Heros'), ['invalid: more than one word on the line']);
    assert.deepEqual(problems('plain', '0.0.0.0 example.com'), ["invalid: looks like a hosts line (an address, then names): use format 'hosts'"]);
    assert.deepEqual(problems('plain', '||example.com^'), ["invalid: an adblock rule: use format 'adblock'"]);
    assert.deepEqual(problems('plain', 'https://example.com/page'), ['invalid: a URL, not a name (a DNS filter cannot block a single page)']);
    assert.deepEqual(problems('plain', '192.0.2.0/24'), ['invalid: an address range (CIDR), not a name']);
    assert.match(problems('plain', '=====================')[0], /character '='/);
    assert.match(problems('plain', 'snapchat-com')[0], /single label/);
    assert.match(problems('plain', 'ads*.example.com')[0], /'\*' is a pattern/);
    assert.match(problems('plain', 'bad#name.com')[0], /character '#'/, 'a # inside a word is not a comment');
  });
});

describe('hosts lists', () => {
  it('reads an address then one or more names, ignoring the address', () => {
    assert.deepEqual(names('hosts', '0.0.0.0 example.com'), ['example.com']);
    assert.deepEqual(names('hosts', '127.0.0.1\tA.example.com   b.example.com # two'), ['a.example.com', 'b.example.com']);
    assert.deepEqual(names('hosts', '127.0.0.7 p19-sign.tiktokcdn-us.com'), ['p19-sign.tiktokcdn-us.com'], 'an unusual address is still a hosts line');
    assert.deepEqual(names('hosts', ':: example.org'), ['example.org']);
    assert.deepEqual(names('hosts', '0.0.0.0 example.com', true), ['=example.com']);
    assert.deepEqual(names('hosts', 'example.net'), ['example.net'], 'a bare name is clear enough');
  });

  it('skips localhost and friends without a report', () => {
    for (const line of ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback', 'fe80::1%lo0 localhost', '255.255.255.255 broadcasthost', '0.0.0.0 0.0.0.0', '127.0.0.1 localhost.localdomain']) {
      assert.deepEqual(parseListLine('hosts', line), { names: [], problems: [] }, line);
    }
  });

  it('reports bad names one by one and keeps the good ones on the line', () => {
    const line = parseListLine('hosts', '0.0.0.0 xxxhindi.to en');
    assert.deepEqual(line.names, [{ name: 'xxxhindi.to', exact: false }]);
    assert.equal(line.problems.length, 1);
    assert.match(line.problems[0].reason, /single label 'en'/);
    assert.match(problems('hosts', '127.0.0.1 snapchat-com')[0], /single label 'snapchat-com'/);
    assert.deepEqual(problems('hosts', '0.0.0.0'), ['invalid: an address with no names']);
    assert.match(problems('hosts', 'example.com other.com')[0], /expected an address before the names/);
  });
});

describe('adblock lists', () => {
  it('reads ||x^ as x and subdomains, |x^ as x only, and skips comments and headers', () => {
    assert.deepEqual(names('adblock', '||example.com^'), ['example.com']);
    assert.deepEqual(names('adblock', '||example.com^', true), ['example.com'], '|| always covers subdomains');
    assert.deepEqual(names('adblock', '||Example.COM^$important'), ['example.com']);
    assert.deepEqual(names('adblock', '||example.com^|'), ['example.com']);
    assert.deepEqual(names('adblock', '|example.com^'), ['=example.com']);
    assert.deepEqual(names('adblock', 'example.org'), ['example.org']);
    assert.deepEqual(names('adblock', '0.0.0.0 example.net'), ['example.net'], 'hosts syntax in an adblock list');
    for (const line of ['! Title: x', '[Adblock Plus 2.0]', '# comment', '#', '!']) assert.deepEqual(parseListLine('adblock', line), { names: [], problems: [] }, line);
  });

  it('reports exceptions, cosmetic, path, regex and modifier rules as not used', () => {
    assert.deepEqual(problems('adblock', '@@||example.com^'), ['unsupported: exception rule (@@): allow rules from lists are not used yet']);
    assert.match(problems('adblock', 'example.com##.ad-banner')[0], /^unsupported: cosmetic rule/);
    assert.match(problems('adblock', '##.ad-banner')[0], /^unsupported: cosmetic rule/);
    assert.match(problems('adblock', 'example.com#@#.ad')[0], /^unsupported: cosmetic rule/);
    assert.match(problems('adblock', 'example.com#?#div:has(.ad)')[0], /^unsupported: cosmetic rule/);
    assert.match(problems('adblock', '||example.com/ads/*')[0], /^unsupported: a path rule/);
    assert.match(problems('adblock', '/banner[0-9]+/')[0], /^unsupported: regular-expression rule/);
    assert.match(problems('adblock', '||example.com^$third-party')[0], /^unsupported: modifier \$third-party/);
    assert.match(problems('adblock', '||ads*.example.com^')[0], /^unsupported: a pattern rule/);
    assert.match(problems('adblock', '||https://example.com^')[0], /^unsupported: a URL rule/);
    assert.match(problems('adblock', '||248047-konto identity.tk^')[0], /^invalid: expected an address/);
  });
});

describe('dnsmasq lists', () => {
  it('reads server=/x/, local=/x/ and address=/x/... as blocks of x and its subdomains', () => {
    assert.deepEqual(names('dnsmasq', 'server=/example.com/'), ['example.com']);
    assert.deepEqual(names('dnsmasq', 'server=/example.com/', true), ['example.com'], 'dnsmasq entries always cover subdomains');
    assert.deepEqual(names('dnsmasq', 'local=/example.com/'), ['example.com']);
    assert.deepEqual(names('dnsmasq', 'address=/example.com/0.0.0.0'), ['example.com']);
    assert.deepEqual(names('dnsmasq', 'address=/example.com/#'), ['example.com']);
    assert.deepEqual(names('dnsmasq', 'address=/a.example/b.example/'), ['a.example', 'b.example']);
    assert.deepEqual(names('dnsmasq', 'address=/zip/'), ['zip'], 'dnsmasq syntax is explicit: a TLD is allowed');
    assert.deepEqual(names('dnsmasq', '# comment'), []);
  });

  it('does not block forwards, and refuses address=/#/', () => {
    assert.deepEqual(names('dnsmasq', 'server=/example.com/1.2.3.4'), []);
    assert.deepEqual(problems('dnsmasq', 'server=/example.com/1.2.3.4'), ['unsupported: forwards to 1.2.3.4: not a block']);
    assert.match(problems('dnsmasq', 'server=/example.com/#')[0], /normal upstream servers: not a block/);
    assert.deepEqual(names('dnsmasq', 'address=/#/0.0.0.0'), []);
    assert.deepEqual(problems('dnsmasq', 'address=/#/0.0.0.0'), ['invalid: address=/#/ matches every name: refused']);
    assert.match(problems('dnsmasq', 'server=8.8.8.8')[0], /^unsupported: server= without \/domain\//);
    assert.match(problems('dnsmasq', 'bogus-nxdomain=1.2.3.4')[0], /^unsupported: dnsmasq option 'bogus-nxdomain'/);
    assert.match(problems('dnsmasq', 'address=/example.com')[0], /^invalid: address= with no closing/);
  });
});

describe('wildcard and TLD lists', () => {
  it('reads *.x and x as x and its subdomains (the apex included)', () => {
    assert.deepEqual(names('wildcard', '*.example.com'), ['example.com']);
    assert.deepEqual(names('wildcard', 'example.com', true), ['example.com']);
    assert.match(problems('wildcard', '*example.com')[0], /'\*' is a pattern/);
  });

  it('reads whole top-level domains with or without a leading dot', () => {
    assert.deepEqual(names('tld', '.zip'), ['zip']);
    assert.deepEqual(names('tld', 'ZIP'), ['zip']);
    assert.deepEqual(names('tld', '.ru.com      #Asia / Europe - Russia'), ['ru.com']);
    assert.deepEqual(names('tld', '#  .com'), []);
  });
});

describe('URL lists (licensed feeds)', () => {
  it('blocks a whole site named by a URL without a path, with or without a scheme, port or user', () => {
    assert.deepEqual(names('urls', 'http://Bad.Example.com/'), ['bad.example.com']);
    assert.deepEqual(names('urls', 'https://bad.example.org'), ['bad.example.org']);
    assert.deepEqual(names('urls', 'bad.example.net'), ['bad.example.net']);
    assert.deepEqual(names('urls', 'http://user:pw@bad.example.com:8080/'), ['bad.example.com']);
    assert.deepEqual(names('urls', 'http://[2001:db8::1]/'), ['=2001:db8::1']);
    assert.deepEqual(names('urls', '# a comment'), []);
  });

  it('reports a page URL as left to URL-level filtering instead of blocking its whole host', () => {
    for (const line of ['http://host.example.com/some/page.html', 'host.example.com/dir/', 'https://host.example.com/?id=3', 'http://host.example.com#frag']) {
      assert.deepEqual(names('urls', line), [], line);
      assert.match(problems('urls', line)[0], /^unsupported: a page URL: a DNS filter can only block whole sites/, line);
    }
  });

  it('refuses other schemes and lines with several words, saying why', () => {
    assert.match(problems('urls', 'ftp://files.example.com/')[0], /scheme ftp: only http and https/);
    assert.match(problems('urls', 'http://a.example.com/ http://b.example.com/')[0], /one URL a line/);
    assert.match(problems('urls', 'http://exa mple/')[0], /one URL a line/);
    assert.match(problems('urls', 'http://bad_host!.com/')[0], /character '!'/);
  });
});

const MESSY = '/work/shared/data/fixtures/formats-sample/messy-lines.tsv';
const messyMissing = existsSync(MESSY) ? false : `the shared fixtures (${MESSY}) are not on this machine`;

describe('the catalogue of odd lines from real lists (shared/data fixtures)', { skip: messyMissing }, () => {
  it('turns every line into names or reasons, never nothing, and reads each kind sensibly', () => {
    const rows = readFileSync(MESSY, 'utf8').trim().split('\n').slice(1).map((line) => line.split('\t'));
    assert.ok(rows.length > 300);
    const formatOf = (list: string, file: string): ListFormat => {
      if (list.endsWith(':adguard')) return 'adblock';
      if (list.endsWith(':dnsmasq')) return 'dnsmasq';
      if (list === 'sw:Top_Level') return 'tld';
      return file.includes('/hosts/') || file.startsWith('sinfonietta/') ? 'hosts' : 'plain';
    };
    for (const [kind, list, file, lineNo, repr] of rows) {
      const line = JSON.parse(repr) as string;
      const parsed = parseListLine(formatOf(list, file), line);
      const where = `${file}:${lineNo} ${line.slice(0, 60)}`;
      assert.ok(parsed.names.length + parsed.problems.length > 0, `${where} yields something`);
      // A label starting or ending with '-' breaks the hostname rule (RFC 952) but DNS carries it and
      // resolvers answer it, so `w-w-i-s-.com` is kept as a name; everything else of this kind is refused.
      if (kind === 'invalid-name' && !/-\./.test(line)) assert.deepEqual(parsed.names, [], where);
      if (kind === 'ip-address') assert.ok(parsed.names.every((n) => n.exact && /^[\d.]+$/.test(n.name)), where);
      if (kind === 'uppercase' || kind === 'inline-comment' || kind === 'surrounding-whitespace' || kind === 'unusual-hosts-address') {
        assert.equal(parsed.names.length, 1, where);
        assert.match(parsed.names[0].name, /^[a-z0-9._-]+$/, where);
      }
      if (kind === 'tld-only') assert.match(parsed.names[0]?.name ?? '', /^[a-z0-9-]+$/, where);
    }
  });
});
