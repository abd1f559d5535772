/**
 * Safe search over DNS: the search engines that publish a "safe" host are
 * answered with a CNAME to it (the caller then answers the addresses of that
 * host), and engines that cannot be locked are blocked while safe search is
 * on. YouTube is separate: strict, moderate or off per group.
 *
 * The rewritten hosts are matched exactly (a subdomain such as
 * `mail.google.com` is not a search page), and no target is itself a
 * rewritten or blocked host, so a rewrite can never loop; the tests check both.
 *
 * Only the record types that carry addresses are rewritten: A, AAAA, and the
 * HTTPS/SVCB types (RFC 9460), whose answers also steer a browser to an
 * address. Other types (TXT, MX …) of these names pass as usual.
 */
import type { Decision } from './decision.ts';
import type { YouTubeMode } from './policy.types.ts';
import { DomainTable } from './domain-set.ts';
import { QTYPE } from './wire.ts';

/** Google's safe host: one address for every Google search domain. */
export const GOOGLE_SAFE_HOST = 'forcesafesearch.google.com';

/** Country codes of Google's search domains, in three shapes: `google.<cc>`, `google.co.<cc>`, `google.com.<cc>`. */
const GOOGLE_CC = [
  'ad', 'ae', 'al', 'am', 'as', 'at', 'az', 'ba', 'be', 'bf', 'bg', 'bi', 'bj', 'bs', 'bt', 'by', 'ca', 'cat', 'cd', 'cf',
  'cg', 'ch', 'ci', 'cl', 'cm', 'cn', 'co', 'cv', 'cz', 'de', 'dj', 'dk', 'dm', 'dz', 'ee', 'es', 'fi', 'fm', 'fr', 'ga',
  'ge', 'gg', 'gl', 'gm', 'gp', 'gr', 'gy', 'hn', 'hr', 'ht', 'hu', 'ie', 'im', 'iq', 'is', 'it', 'je', 'jo', 'kg', 'ki',
  'kz', 'la', 'li', 'lk', 'lt', 'lu', 'lv', 'md', 'me', 'mg', 'mk', 'ml', 'mn', 'ms', 'mu', 'mv', 'mw', 'ne', 'nl', 'no',
  'nr', 'nu', 'pl', 'pn', 'ps', 'pt', 'ro', 'rs', 'ru', 'rw', 'sc', 'se', 'sh', 'si', 'sk', 'sm', 'sn', 'so', 'sr', 'st',
  'td', 'tg', 'tk', 'tl', 'tm', 'tn', 'to', 'tt', 'vg', 'vu', 'ws',
];
const GOOGLE_CO_CC = [
  'ao', 'bw', 'ck', 'cr', 'id', 'il', 'in', 'jp', 'ke', 'kr', 'ls', 'ma', 'mz', 'nz', 'th', 'tz', 'ug', 'uk', 'uz', 've',
  'vi', 'za', 'zm', 'zw',
];
const GOOGLE_COM_CC = [
  'af', 'ag', 'ai', 'ar', 'au', 'bd', 'bh', 'bn', 'bo', 'br', 'bz', 'co', 'cu', 'cy', 'do', 'ec', 'eg', 'et', 'fj', 'gh',
  'gi', 'gt', 'hk', 'jm', 'kh', 'kw', 'lb', 'ly', 'mm', 'mt', 'mx', 'my', 'na', 'nf', 'ng', 'ni', 'np', 'om', 'pa', 'pe',
  'pg', 'ph', 'pk', 'pr', 'py', 'qa', 'sa', 'sb', 'sg', 'sl', 'sv', 'tj', 'tr', 'tw', 'ua', 'uy', 'vc', 'vn',
];

/** Every Google search domain (`google.com`, `google.co.uk`, … ), without `www.`. */
export const GOOGLE_SEARCH_DOMAINS: readonly string[] = [
  'google.com',
  ...GOOGLE_CC.map((cc) => `google.${cc}`),
  ...GOOGLE_CO_CC.map((cc) => `google.co.${cc}`),
  ...GOOGLE_COM_CC.map((cc) => `google.com.${cc}`),
];

/** An engine that publishes a safe host, the hosts answered with it, and the host. */
export interface SafeEngine {
  engine: string;
  hosts: readonly string[];
  target: string;
}

/**
 * Engines locked by a CNAME to their safe host. Only `www.` for Google: the
 * bare domain redirects there (Google's own instructions name `www.` only).
 * Brave publishes `forcesafe.search.brave.com` for networks; it is a
 * subdomain of the rewritten host, which is safe because hosts match exactly.
 */
export const SAFE_ENGINES: readonly SafeEngine[] = [
  { engine: 'Google', hosts: GOOGLE_SEARCH_DOMAINS.map((d) => `www.${d}`), target: GOOGLE_SAFE_HOST },
  { engine: 'Bing', hosts: ['www.bing.com', 'edgeservices.bing.com'], target: 'strict.bing.com' },
  { engine: 'DuckDuckGo', hosts: ['duckduckgo.com', 'www.duckduckgo.com', 'start.duckduckgo.com'], target: 'safe.duckduckgo.com' },
  { engine: 'Ecosia', hosts: ['www.ecosia.org'], target: 'strict-safe-search.ecosia.org' },
  { engine: 'Pixabay', hosts: ['pixabay.com'], target: 'safesearch.pixabay.com' },
  { engine: 'Brave Search', hosts: ['search.brave.com'], target: 'forcesafe.search.brave.com' },
];

/** The hosts YouTube's restricted mode is applied to (Google's published list). */
export const YOUTUBE_HOSTS: readonly string[] = [
  'www.youtube.com',
  'm.youtube.com',
  'youtubei.googleapis.com',
  'youtube.googleapis.com',
  'www.youtube-nocookie.com',
];

/** YouTube's restricted-mode hosts. */
export const YOUTUBE_TARGETS: Readonly<Record<Exclude<YouTubeMode, 'off'>, string>> = {
  strict: 'restrict.youtube.com',
  moderate: 'restrictmoderate.youtube.com',
};

/**
 * Search engines with no way for a network to lock safe search on; blocked
 * while safe search is on (NextDNS does the same). Entries cover subdomains.
 * Yandex does publish a "family" address, but only as a fixed IP that has
 * changed before; a stale address would send pupils to whoever holds it next,
 * so Yandex is blocked rather than rewritten. DuckDuckGo's `html.` and
 * `lite.` front ends are not covered by its safe host.
 */
export const UNFORCEABLE_ENGINES: readonly { engine: string; entries: readonly string[] }[] = [
  { engine: 'Startpage', entries: ['startpage.com', 'startpage.nl', 'ixquick.com'] },
  {
    engine: 'Yandex',
    entries: ['yandex.ru', 'yandex.com', 'yandex.by', 'yandex.kz', 'yandex.uz', 'yandex.ua', 'yandex.com.tr', 'yandex.com.am', 'yandex.com.ge', 'yandex.az', 'yandex.kg', 'yandex.tj', 'yandex.tm', 'yandex.md', 'yandex.ee', 'yandex.lt', 'yandex.lv', 'yandex.fr', 'yandex.co.il', 'ya.ru'],
  },
  { engine: 'Yahoo Search', entries: ['search.yahoo.com'] },
  { engine: 'AOL Search', entries: ['search.aol.com'] },
  { engine: 'Ask', entries: ['ask.com'] },
  { engine: 'Qwant', entries: ['qwant.com'] },
  { engine: 'Mojeek', entries: ['mojeek.com', 'mojeek.co.uk'] },
  { engine: 'Kagi', entries: ['kagi.com'] },
  { engine: 'Presearch', entries: ['presearch.com', 'presearch.org'] },
  { engine: 'Yep', entries: ['yep.com'] },
  { engine: 'Baidu', entries: ['baidu.com'] },
  { engine: 'DuckDuckGo (HTML and Lite)', entries: ['html.duckduckgo.com', 'lite.duckduckgo.com'] },
];

/** Whether safe-search rewrites apply to a record type: A, AAAA, SVCB and HTTPS. */
export function rewritesType(qtype: number): boolean {
  return qtype === QTYPE.A || qtype === QTYPE.AAAA || qtype === QTYPE.HTTPS || qtype === QTYPE.SVCB;
}

function rewriteDecision(engine: string, host: string, target: string, what: string): Decision {
  return Object.freeze({
    kind: 'safe_search',
    rule: 'safe_search',
    reason: `${engine} is answered with ${what}`,
    category: null,
    matched: host,
    rewriteName: target,
  } satisfies Decision);
}

/** What an unforceable engine's entry gives when it matches. */
export interface UnforceableMatch {
  engine: string;
  entry: string;
}

const unforceable = new DomainTable<UnforceableMatch>(
  [UNFORCEABLE_ENGINES.flatMap((e) => e.entries)],
  (_, entry) => ({ engine: UNFORCEABLE_ENGINES.find((e) => e.entries.includes(entry.name))!.engine, entry: entry.text }),
);

/** The unforceable engine covering a name, or null. */
export function unforceableEngine(name: string): UnforceableMatch | null {
  return unforceable.match(name) ? unforceable.value(0) : null;
}

/**
 * The rewrites of one combination of settings (safe search on or off ×
 * YouTube mode): six at most, built once and shared by every group with the
 * same settings.
 */
export class SafeSearchRewrites {
  readonly safeSearch: boolean;
  readonly youtube: YouTubeMode;
  private readonly rewrites = new Map<string, Decision>();

  private constructor(safeSearch: boolean, youtube: YouTubeMode) {
    this.safeSearch = safeSearch;
    this.youtube = youtube;
    if (safeSearch) {
      for (const { engine, hosts, target } of SAFE_ENGINES) {
        for (const host of hosts) this.rewrites.set(host, rewriteDecision(engine, host, target, 'safe search locked on'));
      }
    }
    if (youtube !== 'off') {
      const target = YOUTUBE_TARGETS[youtube];
      for (const host of YOUTUBE_HOSTS) this.rewrites.set(host, rewriteDecision('YouTube', host, target, `${youtube} restricted mode`));
    }
  }

  private static readonly cache = new Map<string, SafeSearchRewrites>();

  /** The shared rewrites for a combination of settings. */
  static of(safeSearch: boolean, youtube: YouTubeMode): SafeSearchRewrites {
    const key = `${safeSearch}:${youtube}`;
    let found = SafeSearchRewrites.cache.get(key);
    if (!found) {
      found = new SafeSearchRewrites(safeSearch, youtube);
      SafeSearchRewrites.cache.set(key, found);
    }
    return found;
  }

  /** Whether these settings change anything at all. */
  get active(): boolean {
    return this.safeSearch || this.youtube !== 'off';
  }

  /** The rewrite for a name and record type, or null. */
  rewrite(name: string, qtype: number): Decision | null {
    if (!rewritesType(qtype)) return null;
    return this.rewrites.get(name) ?? null;
  }
}
