import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeDomainEntry } from './domain-set.ts';
import {
  GOOGLE_SAFE_HOST,
  GOOGLE_SEARCH_DOMAINS,
  rewritesType,
  SAFE_ENGINES,
  SafeSearchRewrites,
  UNFORCEABLE_ENGINES,
  unforceableEngine,
  YOUTUBE_HOSTS,
  YOUTUBE_TARGETS,
} from './safe-search.ts';
import { QTYPE } from './wire.ts';

describe('safe search data', () => {
  it('has every Google search domain once, all well formed', () => {
    assert.ok(GOOGLE_SEARCH_DOMAINS.length >= 185, `${GOOGLE_SEARCH_DOMAINS.length}`);
    assert.equal(new Set(GOOGLE_SEARCH_DOMAINS).size, GOOGLE_SEARCH_DOMAINS.length);
    for (const d of GOOGLE_SEARCH_DOMAINS) assert.equal(normalizeDomainEntry(d)?.text, d);
    for (const d of ['google.com', 'google.co.uk', 'google.ie', 'google.fr', 'google.de', 'google.com.au', 'google.co.in', 'google.com.br', 'google.co.jp', 'google.ca', 'google.com.pk', 'google.co.za', 'google.com.ng', 'google.pl', 'google.ro', 'google.cat']) {
      assert.ok(GOOGLE_SEARCH_DOMAINS.includes(d), d);
    }
  });

  it('can never loop: no target is a rewritten host or covered by an unforceable engine', () => {
    const hosts = new Set([...SAFE_ENGINES.flatMap((e) => e.hosts), ...YOUTUBE_HOSTS]);
    const targets = [...SAFE_ENGINES.map((e) => e.target), ...Object.values(YOUTUBE_TARGETS)];
    for (const target of targets) {
      assert.ok(!hosts.has(target), target);
      assert.equal(unforceableEngine(target), null, target);
    }
    for (const host of hosts) assert.equal(unforceableEngine(host), null, host);
  });

  it('rewrites only the record types that carry addresses', () => {
    assert.deepEqual(
      [QTYPE.A, QTYPE.AAAA, QTYPE.HTTPS, QTYPE.SVCB, QTYPE.CNAME, QTYPE.PTR, 16, QTYPE.ANY].map(rewritesType),
      [true, true, true, true, false, false, false, false],
    );
  });

  it('lists unforceable engines with entries that cover their subdomains', () => {
    assert.equal(unforceableEngine('www.startpage.com')?.engine, 'Startpage');
    assert.equal(unforceableEngine('uk.search.yahoo.com')?.engine, 'Yahoo Search');
    assert.equal(unforceableEngine('yandex.ru')?.engine, 'Yandex');
    assert.equal(unforceableEngine('html.duckduckgo.com')?.engine, 'DuckDuckGo (HTML and Lite)');
    assert.equal(unforceableEngine('mail.yahoo.com'), null);
    assert.equal(unforceableEngine('duckduckgo.com'), null);
    assert.equal(unforceableEngine('search.brave.com'), null); // forced, not blocked
    for (const { entries } of UNFORCEABLE_ENGINES) for (const e of entries) assert.ok(normalizeDomainEntry(e), e);
  });
});

describe('SafeSearchRewrites', () => {
  it('is shared per combination of settings', () => {
    assert.equal(SafeSearchRewrites.of(true, 'strict'), SafeSearchRewrites.of(true, 'strict'));
    assert.notEqual(SafeSearchRewrites.of(true, 'strict'), SafeSearchRewrites.of(true, 'moderate'));
    assert.equal(SafeSearchRewrites.of(false, 'off').active, false);
  });

  it('rewrites search hosts exactly, never their other subdomains or the safe hosts', () => {
    const on = SafeSearchRewrites.of(true, 'off');
    assert.equal(on.rewrite('www.google.co.uk', QTYPE.A)?.rewriteName, GOOGLE_SAFE_HOST);
    assert.equal(on.rewrite('google.co.uk', QTYPE.A), null);
    assert.equal(on.rewrite('mail.google.com', QTYPE.A), null);
    assert.equal(on.rewrite(GOOGLE_SAFE_HOST, QTYPE.A), null);
    assert.equal(on.rewrite('www.bing.com', QTYPE.AAAA)?.rewriteName, 'strict.bing.com');
    assert.equal(on.rewrite('search.brave.com', QTYPE.A)?.rewriteName, 'forcesafe.search.brave.com');
    assert.equal(on.rewrite('forcesafe.search.brave.com', QTYPE.A), null);
    assert.equal(on.rewrite('www.youtube.com', QTYPE.A), null);
  });

  it('answers YouTube with the strict or moderate host', () => {
    assert.equal(SafeSearchRewrites.of(false, 'strict').rewrite('m.youtube.com', QTYPE.A)?.rewriteName, 'restrict.youtube.com');
    assert.equal(SafeSearchRewrites.of(false, 'moderate').rewrite('youtubei.googleapis.com', QTYPE.HTTPS)?.rewriteName, 'restrictmoderate.youtube.com');
    assert.equal(SafeSearchRewrites.of(false, 'moderate').rewrite('www.google.com', QTYPE.A), null);
  });
});
