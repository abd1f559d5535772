import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CategoryKey, categoryMask } from './categories.ts';
import type { CategoryLookup, Decision } from './decision.ts';
import { type ClientIdentity, compilePolicy, MIN_EXEMPTION_TTL_CAP, SCHEDULED_TTL_CAP } from './policy.ts';
import type { GroupPolicy, PolicySnapshot } from './policy.types.ts';
import { GOOGLE_SAFE_HOST } from './safe-search.ts';
import { ILLEGAL_TEST_NAME } from './special-names.ts';
import { QTYPE } from './wire.ts';

/** A tiny catalog: entries cover their subdomains; the real one is `catalog.ts`. */
function catalog(entries: Record<string, CategoryKey[]>): CategoryLookup {
  const map = new Map(Object.entries(entries).map(([name, keys]) => [name, categoryMask(keys)]));
  const suffixes = (name: string) => name.split('.').map((_, i, labels) => labels.slice(i).join('.'));
  return {
    lookup: (name) => suffixes(name).reduce((bits, s) => bits | (map.get(s) ?? 0), 0),
    matchedEntry: (name, mask) => suffixes(name).find((s) => (map.get(s) ?? 0) & mask) ?? null,
  };
}

const CATALOG = catalog({
  'illegal.example': ['illegal'],
  'porn.example': ['pornography'],
  'bet.example': ['gambling'],
  'vpn.example': ['vpn_proxy'],
  'doh.example': ['public_dns'],
  'social.example': ['social_networks'],
  'game.example': ['games'],
  'chat.example': ['chat'],
  'allowed.example': ['gambling'],
  'captive.example': ['illegal'],
  'updates.example': ['malware'],
  'cdn-bet.example': ['gambling'],
  'vpn-and-porn.example': ['pornography', 'vpn_proxy'],
  'social-game.example': ['social_networks', 'games'],
  '203.0.113.9': ['public_dns'],
  'www.bing.com': [],
});

const at = (iso: string) => Date.parse(iso);
// Monday 2 March 2026, in term, GMT (London = UTC).
const MONDAY_LESSON = at('2026-03-02T10:00:00Z');
const MONDAY_EVENING = at('2026-03-02T18:00:00Z');
const COMPILED_AT = at('2026-03-02T07:00:00Z');

function group(id: string, overrides: Partial<GroupPolicy> = {}): GroupPolicy {
  return { groupId: id, name: id, priority: 50, blocked: [], scheduled: [], allow: [], deny: [], safeSearch: false, youtube: 'off', filterOff: false, ...overrides };
}

function snapshot(overrides: Partial<PolicySnapshot> = {}): PolicySnapshot {
  return {
    version: 7,
    schoolId: 'school-1',
    timeZone: 'Europe/London',
    calendar: {
      terms: [
        { start: '2026-01-05', end: '2026-03-27' },
        { start: '2026-04-13', end: '2026-07-22' },
        { start: '2026-09-02', end: '2026-12-18' },
      ],
      closures: [{ date: '2026-03-06', label: 'INSET day' }],
    },
    groups: [
      group('pupils', {
        name: 'Pupils',
        priority: 10,
        blocked: ['pornography', 'gambling', 'vpn_proxy', 'public_dns', 'malware'],
        scheduled: [
          { category: 'social_networks', scheduleId: 'lessons', mode: 'block_during' },
          { category: 'games', scheduleId: 'lunch', mode: 'allow_during' },
          { category: 'chat', scheduleId: 'nights', mode: 'block_during' },
        ],
        allow: ['allowed.example', '=exact.example'],
        deny: ['denied.example', 'x.allowed.example', 'exact.example'],
        safeSearch: true,
        youtube: 'strict',
      }),
      group('staff', { name: 'Staff', priority: 20, blocked: ['pornography'], youtube: 'off' }),
      group('a-sixth', { name: 'Sixth form', priority: 10, blocked: ['pornography'], safeSearch: true, youtube: 'moderate' }),
      group('head', { name: 'Head', priority: 1, filterOff: true, safeSearch: true, youtube: 'strict' }),
    ],
    schedules: [
      { id: 'lessons', name: 'Lessons', windows: [{ days: [1, 2, 3, 4, 5], start: '08:30', end: '15:30' }], schoolDaysOnly: true },
      { id: 'lunch', name: 'Lunch', windows: [{ days: [1, 2, 3, 4, 5], start: '12:00', end: '13:00' }], schoolDaysOnly: true },
      { id: 'nights', name: 'Nights', windows: [{ days: [1, 2, 3, 4, 5, 6, 7], start: '22:00', end: '06:00' }], schoolDaysOnly: false },
    ],
    defaultGroupId: null,
    networks: [],
    people: [],
    devices: [],
    tokens: [],
    chromeosSalt: null,
    schoolAllow: ['school-allow.example', 'www.bing.com'],
    schoolDeny: ['school-deny.example', 'bet2.example'],
    neverBlock: ['updates.example', 'captive.example', 'classroom.example'],
    exemptions: [
      { id: 'e-bet', domain: 'bet.example', category: null, groupId: null, personId: 'p-exempt', deviceId: null, until: '2026-03-02T15:40:00Z', reason: 'Maths lesson on probability' },
      { id: 'e-denied', domain: 'denied.example', category: null, groupId: null, personId: 'p-exempt', deviceId: null, until: '2026-03-02T15:40:00Z', reason: '' },
      { id: 'e-illegal', domain: 'illegal.example', category: null, groupId: null, personId: 'p-exempt', deviceId: null, until: '2026-03-02T15:40:00Z', reason: 'must never work' },
      { id: 'e-social', domain: null, category: 'social_networks', groupId: 'year9', personId: null, deviceId: null, until: '2026-03-02T11:00:00Z', reason: 'Media studies' },
      { id: 'e-device', domain: 'game.example', category: null, groupId: null, personId: 'p-exempt', deviceId: 'd-lab', until: '2026-03-02T15:40:00Z', reason: 'lab only' },
      { id: 'e-old', domain: 'porn.example', category: null, groupId: 'pupils', personId: null, deviceId: null, until: '2026-03-01T00:00:00Z', reason: 'expired' },
    ],
    sanctions: [
      { id: 's-1', personId: 'p-sanctioned', deviceId: null, until: '2026-03-02T15:30:00Z', allow: ['learning.example', 'allowed.example', 'porn.example'], reason: 'Behaviour incident 12' },
      { id: 's-2', personId: null, deviceId: 'd-sanctioned', until: '2026-03-03T15:30:00Z', allow: ['learning.example'], reason: 'Device misuse' },
    ],
    blocking: { answer: 'address', ipv4: '192.0.2.53', ipv6: '2001:db8::53', ttl: 10 },
    trustedForwarders: [],
    conditionalForwarders: [],
    answerAnyClient: false,
    ...overrides,
  };
}

const POLICY = compilePolicy(snapshot(), { now: () => COMPILED_AT });

function who(groupIds: string[], personId: string | null = null, deviceId: string | null = null): ClientIdentity {
  return { personId, deviceId, networkId: null, groupIds };
}

const PUPIL = who(['pupils'], 'p-1');
const EXEMPT_PUPIL = who(['pupils'], 'p-exempt');
const YEAR9_PUPIL = who(['year9', 'pupils'], 'p-9');
const SANCTIONED_PUPIL = who(['pupils'], 'p-sanctioned');
const HEAD = who(['head'], 'p-head');
const STAFF = who(['staff'], 'p-staff');
const NOBODY = who([]);

function decide(identity: ClientIdentity, name: string, nowMs = MONDAY_LESSON, qtype: number = QTYPE.A, policy = POLICY): Decision {
  return policy.decide(name, qtype, policy.client(identity), CATALOG, nowMs);
}

/** The parts of a decision a case pins down. */
function pick(d: Decision, keys: readonly (keyof Decision)[]) {
  return Object.fromEntries(keys.map((k) => [k, d[k]]));
}

describe('compilePolicy: precedence, end to end', () => {
  const cases: { title: string; who: ClientIdentity; name: string; at?: number; expect: Partial<Decision> }[] = [
    // 1. Illegal beats everything.
    { title: 'illegal for a pupil', who: PUPIL, name: 'www.illegal.example', expect: { kind: 'blocked', rule: 'illegal', category: 'illegal', matched: 'illegal.example', answer: 'block_page' } },
    { title: 'illegal under filter-off', who: HEAD, name: 'illegal.example', expect: { kind: 'blocked', rule: 'illegal' } },
    { title: 'illegal with an exemption for it', who: EXEMPT_PUPIL, name: 'illegal.example', expect: { kind: 'blocked', rule: 'illegal' } },
    { title: 'illegal on the never-block list', who: PUPIL, name: 'captive.example', expect: { kind: 'blocked', rule: 'illegal' } },
    { title: 'illegal for a client in no group', who: NOBODY, name: 'illegal.example', expect: { kind: 'blocked', rule: 'illegal' } },
    { title: 'the built-in test name, with no catalog entry', who: STAFF, name: ILLEGAL_TEST_NAME, expect: { kind: 'blocked', rule: 'illegal', category: 'illegal', matched: ILLEGAL_TEST_NAME } },
    { title: 'below the built-in test name', who: HEAD, name: `r4nd0m.${ILLEGAL_TEST_NAME}`, expect: { kind: 'blocked', rule: 'illegal' } },
    // 2. Bypass switches and local names, for everyone.
    { title: 'Firefox canary for staff', who: STAFF, name: 'use-application-dns.net', expect: { kind: 'bypass_blocked', rule: 'bypass', answer: 'nxdomain' } },
    { title: 'Private Relay under filter-off', who: HEAD, name: 'mask.icloud.com', expect: { kind: 'bypass_blocked', rule: 'bypass', answer: 'nxdomain' } },
    { title: 'Private Relay h2 for no group', who: NOBODY, name: 'mask-h2.icloud.com', expect: { kind: 'bypass_blocked', rule: 'bypass', answer: 'nxdomain' } },
    { title: 'DDR', who: PUPIL, name: '_dns.resolver.arpa', expect: { kind: 'allowed', rule: 'local', answer: 'nodata' } },
    { title: 'RFC 6303 reverse name', who: SANCTIONED_PUPIL, name: '4.3.2.10.in-addr.arpa', expect: { kind: 'allowed', rule: 'local', answer: 'nxdomain' } },
    // 3. Sanctions beat allow entries, exemptions and everything below.
    { title: 'sanction blocks an ordinary site', who: SANCTIONED_PUPIL, name: 'news.example', expect: { kind: 'blocked', rule: 'sanction', reason: 'network access is removed until 15:30', answer: 'block_page' } },
    { title: 'sanction beats the school allow list', who: SANCTIONED_PUPIL, name: 'school-allow.example', expect: { kind: 'blocked', rule: 'sanction' } },
    { title: 'sanction lets its allow list through', who: SANCTIONED_PUPIL, name: 'www.learning.example', expect: { kind: 'allowed', rule: 'default' } },
    { title: 'sanction allow list still meets the normal policy', who: SANCTIONED_PUPIL, name: 'allowed.example', expect: { kind: 'allowed', rule: 'allow_entry' } },
    { title: 'a sanction’s allow list never unblocks a category', who: SANCTIONED_PUPIL, name: 'porn.example', expect: { kind: 'blocked', rule: 'category' } },
    { title: 'sanction lets the never-block list through', who: SANCTIONED_PUPIL, name: 'updates.example', expect: { kind: 'allowed', rule: 'never_block' } },
    { title: 'sanction on a VPN is a bypass attempt', who: SANCTIONED_PUPIL, name: 'vpn.example', expect: { kind: 'bypass_blocked', rule: 'sanction', category: 'vpn_proxy' } },
    { title: 'sanction ends at its time', who: SANCTIONED_PUPIL, name: 'news.example', at: at('2026-03-02T15:30:00Z'), expect: { kind: 'allowed', rule: 'default' } },
    { title: 'sanction a second before its end', who: SANCTIONED_PUPIL, name: 'news.example', at: at('2026-03-02T15:29:59Z'), expect: { kind: 'blocked', rule: 'sanction' } },
    { title: 'device sanction, whoever uses it', who: who(['staff'], 'p-staff', 'd-sanctioned'), name: 'news.example', expect: { kind: 'blocked', rule: 'sanction', reason: 'network access is removed until 15:30 on 3 Mar 2026' } },
    { title: 'two sanctions: a name must pass both', who: who(['pupils'], 'p-sanctioned', 'd-sanctioned'), name: 'allowed.example', expect: { kind: 'blocked', rule: 'sanction' } },
    { title: 'sanction applies to a client in no group', who: who([], 'p-sanctioned'), name: 'news.example', expect: { kind: 'blocked', rule: 'sanction' } },
    { title: 'sanction under filter-off', who: who(['head'], 'p-sanctioned'), name: 'news.example', expect: { kind: 'blocked', rule: 'sanction' } },
    // 4. Never-block, allow entries, exemptions.
    { title: 'never-block beats a category', who: PUPIL, name: 'www.updates.example', expect: { kind: 'allowed', rule: 'never_block', matched: 'updates.example' } },
    { title: 'group allow beats a category', who: PUPIL, name: 'allowed.example', expect: { kind: 'allowed', rule: 'allow_entry', matched: 'allowed.example', reason: 'allowed for Pupils by the allow entry allowed.example' } },
    { title: 'allow beats deny (deny on a subdomain)', who: PUPIL, name: 'x.allowed.example', expect: { kind: 'allowed', rule: 'allow_entry' } },
    { title: 'allow beats deny (exact allow)', who: PUPIL, name: 'exact.example', expect: { kind: 'allowed', rule: 'allow_entry', matched: '=exact.example' } },
    { title: 'an exact allow does not cover subdomains', who: PUPIL, name: 'www.exact.example', expect: { kind: 'blocked', rule: 'deny_entry', matched: 'exact.example' } },
    { title: 'school allow', who: PUPIL, name: 'school-allow.example', expect: { kind: 'allowed', rule: 'allow_entry', reason: 'allowed by the school’s allow list (school-allow.example)' } },
    { title: 'exemption beats a category', who: EXEMPT_PUPIL, name: 'www.bet.example', expect: { kind: 'allowed', rule: 'exemption', matched: 'bet.example', reason: 'allowed by an exemption until 15:40 (Maths lesson on probability)', ttlCap: 20400 } },
    { title: 'exemption beats a deny entry', who: EXEMPT_PUPIL, name: 'denied.example', expect: { kind: 'allowed', rule: 'exemption', reason: 'allowed by an exemption until 15:40' } },
    { title: 'exemption is only for its person', who: PUPIL, name: 'bet.example', expect: { kind: 'blocked', rule: 'category', category: 'gambling' } },
    { title: 'exemption a second before its end', who: EXEMPT_PUPIL, name: 'bet.example', at: at('2026-03-02T15:39:59Z'), expect: { kind: 'allowed', rule: 'exemption', ttlCap: MIN_EXEMPTION_TTL_CAP } },
    { title: 'exemption at its end', who: EXEMPT_PUPIL, name: 'bet.example', at: at('2026-03-02T15:40:00Z'), expect: { kind: 'blocked', rule: 'category' } },
    { title: 'exemption naming person and device needs both', who: EXEMPT_PUPIL, name: 'game.example', at: at('2026-03-02T12:30:00Z'), expect: { kind: 'allowed', rule: 'schedule' } },
    { title: 'an exemption that ended before compiling is gone', who: PUPIL, name: 'porn.example', expect: { kind: 'blocked', rule: 'category' } },
    { title: 'group category exemption, for any of the client’s groups', who: YEAR9_PUPIL, name: 'social.example', expect: { kind: 'allowed', rule: 'exemption', category: 'social_networks', ttlCap: 3600 } },
    { title: 'a category exemption lifts only its category', who: YEAR9_PUPIL, name: 'social-game.example', expect: { kind: 'blocked', rule: 'schedule', category: 'games' } },
    { title: 'group category exemption ended', who: YEAR9_PUPIL, name: 'social.example', at: at('2026-03-02T11:00:00Z'), expect: { kind: 'blocked', rule: 'schedule' } },
    // 5. Deny entries.
    { title: 'group deny', who: PUPIL, name: 'www.denied.example', expect: { kind: 'blocked', rule: 'deny_entry', matched: 'denied.example', reason: 'blocked for Pupils by the deny entry denied.example', answer: 'block_page' } },
    { title: 'school deny applies to every group', who: STAFF, name: 'school-deny.example', expect: { kind: 'blocked', rule: 'deny_entry', reason: 'blocked by the school’s deny list (school-deny.example)' } },
    { title: 'school deny on a name in no category', who: STAFF, name: 'bet2.example', expect: { kind: 'blocked', rule: 'deny_entry', category: null } },
    // 6. Categories.
    { title: 'always-blocked category', who: PUPIL, name: 'porn.example', expect: { kind: 'blocked', rule: 'category', category: 'pornography', matched: 'porn.example', reason: 'pornography is blocked for Pupils' } },
    { title: 'bypass category', who: PUPIL, name: 'a.vpn.example', expect: { kind: 'bypass_blocked', rule: 'category', category: 'vpn_proxy', reason: 'VPNs and proxies is blocked for Pupils' } },
    { title: 'public DNS category', who: PUPIL, name: 'doh.example', expect: { kind: 'bypass_blocked', rule: 'category', category: 'public_dns' } },
    { title: 'a bypass category names the block even beside another', who: PUPIL, name: 'vpn-and-porn.example', expect: { kind: 'bypass_blocked', category: 'vpn_proxy' } },
    { title: 'staff are not blocked from gambling', who: STAFF, name: 'bet.example', expect: { kind: 'allowed', rule: 'default' } },
    { title: 'filter-off allows everything not illegal', who: HEAD, name: 'porn.example', expect: { kind: 'allowed', rule: 'filter_off' } },
    { title: 'filter-off skips deny entries', who: HEAD, name: 'school-deny.example', expect: { kind: 'allowed', rule: 'filter_off' } },
    { title: 'no group, no default: allowed, and it says why', who: NOBODY, name: 'porn.example', expect: { kind: 'allowed', rule: 'default', reason: 'allowed: no filtering group applies to this client, so only illegal content is blocked' } },
    { title: 'unknown groups count as no group', who: who(['gone']), name: 'porn.example', expect: { kind: 'allowed', rule: 'default' } },
    // 8. Default.
    { title: 'an ordinary site', who: PUPIL, name: 'news.example', expect: { kind: 'allowed', rule: 'default', category: null, matched: null } },
  ];

  for (const c of cases) {
    it(c.title, () => {
      const d = decide(c.who, c.name, c.at ?? MONDAY_LESSON);
      assert.deepEqual(pick(d, Object.keys(c.expect) as (keyof Decision)[]), c.expect);
    });
  }

  it('compiles the snapshot without problems', () => {
    assert.deepEqual(POLICY.problems, []);
    assert.equal(POLICY.version, 7);
  });
});

describe('compilePolicy: schedules', () => {
  const social = (iso: string) => decide(PUPIL, 'social.example', at(iso));

  it('blocks a block_during category inside the window and caps allowed TTLs outside it', () => {
    assert.deepEqual(pick(social('2026-03-02T08:29:00Z'), ['kind', 'rule', 'ttlCap']), { kind: 'allowed', rule: 'schedule', ttlCap: SCHEDULED_TTL_CAP });
    assert.deepEqual(pick(social('2026-03-02T08:30:00Z'), ['kind', 'rule', 'reason']), { kind: 'blocked', rule: 'schedule', reason: 'social networks is blocked for Pupils at this time' });
    assert.equal(social('2026-03-02T15:29:00Z').kind, 'blocked');
    assert.equal(social('2026-03-02T15:30:00Z').kind, 'allowed');
  });

  it('follows the wall clock in summer time', () => {
    assert.equal(social('2026-06-15T07:29:00Z').kind, 'allowed'); // 08:29 BST
    assert.equal(social('2026-06-15T07:30:00Z').kind, 'blocked'); // 08:30 BST
  });

  it('does not block on an INSET day, in the holidays or at the weekend (school days only)', () => {
    assert.equal(social('2026-03-06T10:00:00Z').kind, 'allowed'); // INSET
    assert.equal(social('2026-04-01T09:00:00Z').kind, 'allowed'); // Easter holidays (BST)
    assert.equal(social('2026-03-07T10:00:00Z').kind, 'allowed'); // Saturday
  });

  it('blocks an allow_during category except in its window', () => {
    const game = (iso: string) => decide(PUPIL, 'game.example', at(iso));
    assert.equal(game('2026-03-02T11:59:00Z').kind, 'blocked');
    assert.deepEqual(pick(game('2026-03-02T12:00:00Z'), ['kind', 'rule', 'category', 'ttlCap']), { kind: 'allowed', rule: 'schedule', category: 'games', ttlCap: 60 });
    assert.equal(game('2026-03-02T12:59:00Z').kind, 'allowed');
    assert.equal(game('2026-03-02T13:00:00Z').kind, 'blocked');
    assert.equal(game('2026-03-07T12:30:00Z').kind, 'blocked'); // Saturday: the lunch window is never on
  });

  it('runs an overnight window across midnight, Sunday into Monday', () => {
    const chat = (iso: string) => decide(PUPIL, 'chat.example', at(iso)).kind;
    assert.equal(chat('2026-03-01T21:59:00Z'), 'allowed'); // Sunday 21:59
    assert.equal(chat('2026-03-01T22:00:00Z'), 'blocked');
    assert.equal(chat('2026-03-02T00:00:00Z'), 'blocked'); // Monday
    assert.equal(chat('2026-03-02T05:59:00Z'), 'blocked');
    assert.equal(chat('2026-03-02T06:00:00Z'), 'allowed');
  });

  it('handles both clock changes in Europe/London', () => {
    const chat = (iso: string) => decide(PUPIL, 'chat.example', at(iso)).kind;
    // 29 March 2026: 01:00 GMT becomes 02:00 BST; the window ends at 06:00 BST = 05:00 UTC.
    assert.equal(chat('2026-03-29T00:59:00Z'), 'blocked');
    assert.equal(chat('2026-03-29T01:00:00Z'), 'blocked');
    assert.equal(chat('2026-03-29T04:59:00Z'), 'blocked');
    assert.equal(chat('2026-03-29T05:00:00Z'), 'allowed');
    // 25 October 2026: 02:00 BST becomes 01:00 GMT; the window ends at 06:00 GMT = 06:00 UTC.
    assert.equal(chat('2026-10-24T20:59:00Z'), 'allowed'); // 21:59 BST
    assert.equal(chat('2026-10-24T21:00:00Z'), 'blocked'); // 22:00 BST
    assert.equal(chat('2026-10-25T00:30:00Z'), 'blocked'); // 01:30 BST
    assert.equal(chat('2026-10-25T01:30:00Z'), 'blocked'); // 01:30 GMT
    assert.equal(chat('2026-10-25T05:59:00Z'), 'blocked');
    assert.equal(chat('2026-10-25T06:00:00Z'), 'allowed');
  });

  it('reports which categories a group blocks at an instant', () => {
    assert.equal(POLICY.blockedCategories('pupils', MONDAY_LESSON) & categoryMask(['social_networks', 'games']), categoryMask(['social_networks', 'games']));
    assert.equal(POLICY.blockedCategories('pupils', MONDAY_EVENING) & categoryMask(['social_networks']), 0);
  });
});

describe('compilePolicy: which group applies', () => {
  it('takes the whole policy of the highest-priority group', () => {
    const both = who(['staff', 'pupils'], 'p-2');
    assert.equal(POLICY.client(both).groupId, 'pupils');
    assert.deepEqual(pick(decide(both, 'bet.example'), ['kind', 'reason']), { kind: 'blocked', reason: 'gambling is blocked for Pupils' });
  });

  it('breaks a priority tie by group id', () => {
    assert.equal(POLICY.client(who(['pupils', 'a-sixth'])).groupId, 'a-sixth');
    assert.equal(POLICY.client(who(['a-sixth', 'pupils'])).groupId, 'a-sixth');
    assert.equal(decide(who(['pupils', 'a-sixth']), 'bet.example').kind, 'allowed');
  });

  it('falls back to the default group, and group exemptions follow it', () => {
    const withDefault = compilePolicy(
      snapshot({
        defaultGroupId: 'pupils',
        exemptions: [{ id: 'e', domain: 'bet.example', category: null, groupId: 'pupils', personId: null, deviceId: null, until: '2026-03-02T12:00:00Z', reason: 'r' }],
      }),
      { now: () => COMPILED_AT },
    );
    const client = withDefault.client(who(['nope']));
    assert.equal(client.groupName, 'Pupils');
    assert.equal(withDefault.decide('porn.example', QTYPE.A, client, CATALOG, MONDAY_LESSON).rule, 'category');
    assert.equal(withDefault.decide('bet.example', QTYPE.A, client, CATALOG, MONDAY_LESSON).rule, 'exemption');
  });

  it('re-resolves a client made by an older policy', () => {
    const older = compilePolicy(snapshot({ version: 6 }), { now: () => COMPILED_AT });
    const stale = older.client(PUPIL);
    assert.equal(POLICY.decide('porn.example', QTYPE.A, stale, CATALOG, MONDAY_LESSON).rule, 'category');
  });
});

describe('compilePolicy: answers', () => {
  it('answers A and AAAA with the block page and other types with no data', () => {
    assert.equal(decide(PUPIL, 'porn.example', MONDAY_LESSON, QTYPE.A).answer, 'block_page');
    assert.equal(decide(PUPIL, 'porn.example', MONDAY_LESSON, QTYPE.AAAA).answer, 'block_page');
    assert.equal(decide(PUPIL, 'porn.example', MONDAY_LESSON, QTYPE.HTTPS).answer, 'nodata');
    assert.equal(decide(PUPIL, 'porn.example', MONDAY_LESSON, QTYPE.SVCB).answer, 'nodata');
    assert.equal(decide(PUPIL, 'porn.example', MONDAY_LESSON, 16).answer, 'nodata');
  });

  it('answers NXDOMAIN for every type when the school chose it', () => {
    const nx = compilePolicy(snapshot({ blocking: { answer: 'nxdomain', ipv4: null, ipv6: null, ttl: 5 } }), { now: () => COMPILED_AT });
    for (const qtype of [QTYPE.A, QTYPE.AAAA, QTYPE.HTTPS, 16]) assert.equal(decide(PUPIL, 'porn.example', MONDAY_LESSON, qtype, nx).answer, 'nxdomain');
  });

  it('answers no data for a family without a block page address, and the null address in null mode', () => {
    const v4only = compilePolicy(snapshot({ blocking: { answer: 'address', ipv4: '192.0.2.53', ipv6: null, ttl: 5 } }), { now: () => COMPILED_AT });
    assert.equal(decide(PUPIL, 'porn.example', MONDAY_LESSON, QTYPE.AAAA, v4only).answer, 'nodata');
    const nullMode = compilePolicy(snapshot({ blocking: { answer: 'null', ipv4: null, ipv6: null, ttl: 5 } }), { now: () => COMPILED_AT });
    assert.equal(decide(PUPIL, 'porn.example', MONDAY_LESSON, QTYPE.AAAA, nullMode).answer, 'block_page');
  });

  it('returns shared frozen decisions on the common allowed path', () => {
    const a = decide(PUPIL, 'news.example');
    assert.equal(a, decide(PUPIL, 'other.example'));
    assert.ok(Object.isFrozen(a));
  });
});

describe('compilePolicy: safe search', () => {
  const googles = ['www.google.com', 'www.google.co.uk', 'www.google.ie', 'www.google.fr', 'www.google.de', 'www.google.es', 'www.google.com.au', 'www.google.ca', 'www.google.co.in', 'www.google.com.br', 'www.google.co.jp', 'www.google.co.za', 'www.google.pl', 'www.google.com.pk'];

  it('answers every Google search domain with the safe host for A, AAAA, HTTPS and SVCB', () => {
    for (const name of googles) {
      for (const qtype of [QTYPE.A, QTYPE.AAAA, QTYPE.HTTPS, QTYPE.SVCB]) {
        assert.deepEqual(pick(decide(PUPIL, name, MONDAY_LESSON, qtype), ['kind', 'rule', 'rewriteName', 'matched']), { kind: 'safe_search', rule: 'safe_search', rewriteName: GOOGLE_SAFE_HOST, matched: name }, `${name} ${qtype}`);
      }
    }
  });

  it('leaves other record types, other Google hosts and the safe host alone', () => {
    assert.equal(decide(PUPIL, 'www.google.co.uk', MONDAY_LESSON, 16).kind, 'allowed');
    assert.equal(decide(PUPIL, 'mail.google.com').kind, 'allowed');
    assert.equal(decide(PUPIL, GOOGLE_SAFE_HOST).rule, 'default');
    assert.equal(decide(PUPIL, 'restrict.youtube.com').rule, 'default');
  });

  it('answers Bing, DuckDuckGo, Ecosia, Pixabay and Brave with their safe hosts', () => {
    const expected: Record<string, string> = {
      'www.bing.com': 'strict.bing.com',
      'edgeservices.bing.com': 'strict.bing.com',
      'duckduckgo.com': 'safe.duckduckgo.com',
      'www.duckduckgo.com': 'safe.duckduckgo.com',
      'start.duckduckgo.com': 'safe.duckduckgo.com',
      'www.ecosia.org': 'strict-safe-search.ecosia.org',
      'pixabay.com': 'safesearch.pixabay.com',
      'search.brave.com': 'forcesafe.search.brave.com',
    };
    for (const [name, target] of Object.entries(expected)) assert.equal(decide(PUPIL, name).rewriteName, target, name);
  });

  it('rewrites even a name an allow entry lets through (www.bing.com is on the school allow list)', () => {
    assert.equal(decide(PUPIL, 'www.bing.com').kind, 'safe_search');
    assert.equal(decide(STAFF, 'www.bing.com').rule, 'allow_entry');
  });

  it('answers YouTube strict, moderate or not at all, per group', () => {
    for (const host of ['www.youtube.com', 'm.youtube.com', 'youtubei.googleapis.com', 'youtube.googleapis.com', 'www.youtube-nocookie.com']) {
      assert.equal(decide(PUPIL, host).rewriteName, 'restrict.youtube.com', host);
      assert.equal(decide(who(['a-sixth']), host).rewriteName, 'restrictmoderate.youtube.com', host);
      assert.equal(decide(STAFF, host).kind, 'allowed', host);
    }
  });

  it('blocks engines that cannot be locked, only while safe search is on', () => {
    assert.deepEqual(pick(decide(PUPIL, 'www.startpage.com'), ['kind', 'rule', 'matched', 'answer']), { kind: 'blocked', rule: 'safe_search', matched: 'startpage.com', answer: 'block_page' });
    assert.equal(decide(PUPIL, 'yandex.ru', MONDAY_LESSON, QTYPE.HTTPS).answer, 'nodata');
    assert.equal(decide(STAFF, 'www.startpage.com').kind, 'allowed');
  });

  it('does not apply under filter-off or for a client in no group', () => {
    assert.equal(decide(HEAD, 'www.google.com').rule, 'filter_off');
    assert.equal(decide(NOBODY, 'www.google.com').kind, 'allowed');
  });

  it('never rewrites a name that a block decided first', () => {
    const denied = compilePolicy(snapshot({ schoolDeny: ['www.google.com'] }), { now: () => COMPILED_AT });
    assert.equal(decide(PUPIL, 'www.google.com', MONDAY_LESSON, QTYPE.A, denied).rule, 'deny_entry');
  });
});

describe('compilePolicy: recheck of upstream answers', () => {
  const client = POLICY.client(PUPIL);
  const asked = (name: string) => POLICY.decide(name, QTYPE.A, client, CATALOG, MONDAY_LESSON);

  it('blocks a CNAME target in a blocked category after an ordinary question', () => {
    const q = asked('news.example');
    const d = POLICY.recheck('edge.cdn-bet.example', client, CATALOG, MONDAY_LESSON, q, QTYPE.AAAA);
    assert.deepEqual(pick(d!, ['kind', 'rule', 'category', 'matched', 'answer']), { kind: 'blocked', rule: 'upstream_answer', category: 'gambling', matched: 'cdn-bet.example', answer: 'block_page' });
    assert.match(d!.reason, /^the answer led to edge\.cdn-bet\.example: gambling is blocked for Pupils$/);
  });

  it('lets a CDN through after an allow entry or exemption, but never illegal content', () => {
    const q = asked('allowed.example');
    assert.equal(q.rule, 'allow_entry');
    assert.equal(POLICY.recheck('cdn-bet.example', client, CATALOG, MONDAY_LESSON, q), null);
    assert.equal(POLICY.recheck('illegal.example', client, CATALOG, MONDAY_LESSON, q)?.category, 'illegal');
    assert.equal(POLICY.recheck(`a.${ILLEGAL_TEST_NAME}`, client, CATALOG, MONDAY_LESSON, q)?.rule, 'upstream_answer');
  });

  it('checks everything when the question is not given', () => {
    assert.equal(POLICY.recheck('cdn-bet.example', client, CATALOG, MONDAY_LESSON)?.kind, 'blocked');
    assert.equal(POLICY.recheck('news2.example', client, CATALOG, MONDAY_LESSON), null);
  });

  it('checks addresses against the catalog and exact deny entries only', () => {
    const q = asked('news.example');
    assert.deepEqual(pick(POLICY.recheck('203.0.113.9', client, CATALOG, MONDAY_LESSON, q)!, ['kind', 'category']), { kind: 'bypass_blocked', category: 'public_dns' });
    const withIp = compilePolicy(snapshot({ schoolDeny: ['=198.51.100.7', '100.7'] }), { now: () => COMPILED_AT });
    const c = withIp.client(PUPIL);
    assert.equal(withIp.recheck('198.51.100.7', c, CATALOG, MONDAY_LESSON, q)?.rule, 'upstream_answer');
    assert.equal(withIp.recheck('10.0.100.7', c, CATALOG, MONDAY_LESSON, q), null); // `100.7` covers names, not addresses
    assert.equal(withIp.recheck('2001:db8::1', c, CATALOG, MONDAY_LESSON, q), null);
  });

  it('respects allow entries and exemptions for the target itself, and filter-off', () => {
    const q = asked('news.example');
    assert.equal(POLICY.recheck('allowed.example', client, CATALOG, MONDAY_LESSON, q), null);
    const exempt = POLICY.client(EXEMPT_PUPIL);
    assert.equal(POLICY.recheck('bet.example', exempt, CATALOG, MONDAY_LESSON, q), null);
    const head = POLICY.client(HEAD);
    const hq = POLICY.decide('news.example', QTYPE.A, head, CATALOG, MONDAY_LESSON);
    assert.equal(POLICY.recheck('porn.example', head, CATALOG, MONDAY_LESSON, hq), null);
    assert.equal(POLICY.recheck('illegal.example', head, CATALOG, MONDAY_LESSON, hq)?.kind, 'blocked');
  });

  it('has nothing to recheck after a blocked question', () => {
    assert.equal(POLICY.recheck('illegal.example', client, CATALOG, MONDAY_LESSON, asked('porn.example')), null);
  });
});

describe('compilePolicy: problems in a snapshot', () => {
  it('reports what it could not use and keeps going', () => {
    const policy = compilePolicy(
      snapshot({
        defaultGroupId: 'missing',
        schoolAllow: ['not a name'],
        groups: [group('g', { blocked: ['nonsense' as CategoryKey], scheduled: [{ category: 'games', scheduleId: 'nope', mode: 'allow_during' }] })],
        exemptions: [
          { id: 'x1', domain: null, category: null, groupId: 'g', personId: null, deviceId: null, until: '2030-01-01T00:00:00Z', reason: '' },
          { id: 'x2', domain: 'a.example', category: null, groupId: null, personId: null, deviceId: null, until: '2030-01-01T00:00:00Z', reason: '' },
          { id: 'x3', domain: null, category: 'illegal', groupId: 'g', personId: null, deviceId: null, until: '2030-01-01T00:00:00Z', reason: '' },
          { id: 'x4', domain: 'a.example', category: null, groupId: 'g', personId: null, deviceId: null, until: 'soon', reason: '' },
        ],
        sanctions: [],
      }),
      { now: () => COMPILED_AT },
    );
    assert.deepEqual(policy.problems, [
      'school allow list: not a domain name: not a name',
      'group g: unknown category nonsense',
      'group g: unknown schedule nope for games',
      'default group missing does not exist',
      'exemption x1: names neither a domain nor a known category',
      'exemption x2: names no group, person or device',
      'exemption x3: illegal content cannot be exempted',
      'exemption x4: until is not a time: soon',
    ]);
    // allow_during with an unknown schedule: never allowed, so always blocked.
    assert.equal(policy.decide('game.example', QTYPE.A, policy.client(who(['g'])), CATALOG, MONDAY_EVENING).kind, 'blocked');
  });

  it('refuses an unknown time zone', () => {
    assert.throws(() => compilePolicy(snapshot({ timeZone: 'Mars/Olympus' })), /unknown time zone: Mars\/Olympus/);
  });
});
