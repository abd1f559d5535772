/**
 * Names the filter answers itself, for every client, before any group policy:
 * the switches that turn on a way round the filter (Firefox's DNS-over-HTTPS
 * canary, iCloud Private Relay, Discovery of Designated Resolvers) and the
 * reverse zones that must never leave the school (RFC 6303). Also the
 * built-in name that is always in the `illegal` category, for checking that
 * enforcement works without touching real illegal content.
 *
 * Every decision here is a frozen object shared by all queries.
 */
import type { BlockAnswer, Decision } from './decision.ts';
import { DomainTable } from './domain-set.ts';

/**
 * A name in the `illegal` category with no catalog entry, so an auditor can
 * check that illegal content is blocked for every group. `.invalid` is reserved
 * (RFC 6761 §6.4): no real list will ever hold it and it never resolves.
 * Subdomains count too, so a checker can add a random label to defeat caches.
 */
export const ILLEGAL_TEST_NAME = 'illegal-test.schoolgate.invalid';
const ILLEGAL_TEST_SUFFIX = `.${ILLEGAL_TEST_NAME}`;

/** Whether a query name is the built-in illegal test name or below it. */
export function isIllegalTestName(name: string): boolean {
  return name === ILLEGAL_TEST_NAME || name.endsWith(ILLEGAL_TEST_SUFFIX);
}

function frozen(decision: Decision): Decision {
  return Object.freeze(decision);
}

function bypass(answer: BlockAnswer, reason: string, matched: string): Decision {
  return frozen({ kind: 'bypass_blocked', rule: 'bypass', reason, category: null, matched, answer });
}

/**
 * Bypass switches, matched exactly. Firefox turns its own DNS-over-HTTPS off
 * when the canary does not exist; Apple turns Private Relay off for the
 * network when these names do not exist.
 */
const BYPASS_NAMES: ReadonlyMap<string, Decision> = new Map([
  ['use-application-dns.net', bypass('nxdomain', 'Firefox’s own DNS-over-HTTPS is switched off on this network', 'use-application-dns.net')],
  ['mask.icloud.com', bypass('nxdomain', 'iCloud Private Relay is not available on this network', 'mask.icloud.com')],
  ['mask-h2.icloud.com', bypass('nxdomain', 'iCloud Private Relay is not available on this network', 'mask-h2.icloud.com')],
]);

/** The DDR name (RFC 9462 §4): a client asks it for the SVCB records of an encrypted resolver to upgrade to. */
export const DDR_NAME = '_dns.resolver.arpa';

/**
 * DDR is answered "no such data" so clients stay on this resolver. It is an
 * `allowed` local answer, not a bypass event: Windows 11, Apple and Android
 * systems ask it on every network join without anyone trying to get round
 * anything, so counting it would fill the safeguarding log with noise.
 */
const DDR_DECISION = frozen({
  kind: 'allowed',
  rule: 'local',
  reason: 'answered here: this network offers no other resolver to upgrade to',
  category: null,
  matched: DDR_NAME,
  answer: 'nodata',
});

/**
 * Locally served reverse zones: RFC 6303 §4 (private, loopback, link-local,
 * documentation and other special ranges), RFC 7793 (100.64.0.0/10) and RFC
 * 9462 (`resolver.arpa`). Queries for them must never reach the internet.
 */
export const LOCAL_ZONES: readonly string[] = [
  '0.in-addr.arpa', // 0.0.0.0/8
  '10.in-addr.arpa', // 10.0.0.0/8
  ...Array.from({ length: 64 }, (_, i) => `${64 + i}.100.in-addr.arpa`), // 100.64.0.0/10
  '127.in-addr.arpa', // 127.0.0.0/8
  '254.169.in-addr.arpa', // 169.254.0.0/16
  ...Array.from({ length: 16 }, (_, i) => `${16 + i}.172.in-addr.arpa`), // 172.16.0.0/12
  '2.0.192.in-addr.arpa', // 192.0.2.0/24 TEST-NET-1
  '168.192.in-addr.arpa', // 192.168.0.0/16
  '100.51.198.in-addr.arpa', // 198.51.100.0/24 TEST-NET-2
  '113.0.203.in-addr.arpa', // 203.0.113.0/24 TEST-NET-3
  '255.255.255.255.in-addr.arpa', // broadcast
  `${'0.'.repeat(32)}ip6.arpa`, // :: (unspecified)
  `1.${'0.'.repeat(31)}ip6.arpa`, // ::1 (loopback)
  'c.f.ip6.arpa', // fc00::/8 (unique local)
  'd.f.ip6.arpa', // fd00::/8 (unique local)
  '8.e.f.ip6.arpa', // fe80::/10 (link-local) …
  '9.e.f.ip6.arpa',
  'a.e.f.ip6.arpa',
  'b.e.f.ip6.arpa',
  '8.b.d.0.1.0.0.2.ip6.arpa', // 2001:db8::/32 (documentation)
  'resolver.arpa', // RFC 9462: special-use, answered by the resolver itself
];

/** The two local answers of a zone: its apex exists but holds nothing asked for; names below it do not exist. */
function localAnswers(zone: string): readonly [apex: Decision, below: Decision] {
  return [
    frozen({ kind: 'allowed', rule: 'local', reason: 'answered here: a locally served zone (RFC 6303)', category: null, matched: zone, answer: 'nodata' }),
    frozen({
      kind: 'allowed',
      rule: 'local',
      reason: 'answered here: an address that only exists inside a local network (RFC 6303)',
      category: null,
      matched: zone,
      answer: 'nxdomain',
    }),
  ];
}

function isInside(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/**
 * The special names of one school. A locally served zone that overlaps one of
 * the school's conditional forwarders (say `168.192.in-addr.arpa`, or a
 * `10.10.in-addr.arpa` served by Active Directory) is left to the forwarder,
 * whole, so the school's own reverse lookups keep working.
 */
export class SpecialNames {
  /** The locally served zones in force (after conditional forwarders took theirs). */
  readonly localZones: readonly string[];
  private readonly zones: DomainTable<readonly [apex: Decision, below: Decision]>;

  constructor(conditionalForwarderZones: readonly string[] = []) {
    const forwarded = conditionalForwarderZones.map((zone) => zone.trim().toLowerCase().replace(/\.$/, ''));
    this.localZones = LOCAL_ZONES.filter((zone) => !forwarded.some((f) => isInside(f, zone) || isInside(zone, f)));
    this.zones = new DomainTable([this.localZones], (_, entry) => localAnswers(entry.name));
  }

  /**
   * The local answer for a name, or null when the name is not special. An
   * `allowed` decision with `answer` set means "answer here with this empty
   * answer and do not forward"; a `bypass_blocked` one is answered the same
   * way and recorded as a bypass attempt.
   */
  decide(name: string): Decision | null {
    const bypassed = BYPASS_NAMES.get(name);
    if (bypassed) return bypassed;
    if (!name.endsWith('.arpa') && name !== 'arpa') return null;
    if (name === DDR_NAME) return DDR_DECISION;
    if (!this.zones.match(name)) return null;
    const [apex, below] = this.zones.value(0);
    return apex.matched === name ? apex : below;
  }
}
