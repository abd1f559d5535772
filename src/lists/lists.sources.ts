/**
 * The built-in catalogue of public category sources, and the one table that
 * maps each of their lists onto Schoolgate's taxonomy. Source names (UT1's
 * `drogue`, `agressif`, `redirector`) stop here: policy screens only ever see
 * category keys.
 *
 * Every list says what it is for:
 * - `block`: names in a category; compiled into the filter's catalog when the
 *   list is enabled (most are by default; some are off because they overlap
 *   another list or would block too much);
 * - `allow`: known-good names (UT1 marks these "white": libraries, sites for
 *   children, sex education). They never block; the over-blocking report
 *   checks policies against them;
 * - `ignore`: never used to block: lists whose purpose is something else
 *   (UT1's `examen_pix` and `tricheur_pix` say "DO NOT USE" outside a French
 *   exam), topics schools do not filter (cooking, banks), or lists that would
 *   break the school (operating system and font hosts).
 *
 * The data itself is never shipped with Schoolgate: it is downloaded from the
 * URLs here (or read from a mirror laid out as `mirrorPath` says) under each
 * source's licence.
 */
import type { CategoryKey } from '../filter/categories.ts';
import type { ListFormat } from '../filter/list-formats.ts';

export type ListUse = 'block' | 'allow' | 'ignore';

export interface BuiltInList {
  /** `<source>:<list>`, stable: stored in settings and shown in "why". */
  id: string;
  /** The list's name at its source. */
  name: string;
  use: ListUse;
  /** The category it blocks (`block` lists only). */
  category: CategoryKey | null;
  format: ListFormat;
  /** Where to download it. */
  url: string;
  /** Where it is in an offline mirror (`schoolgate lists sync --mirror DIR`), gzip allowed. */
  mirrorPath: string;
  /** Whether a new install uses it: a block list blocks, an allow list is read as known-good names. */
  enabledByDefault: boolean;
  /** Why it is off, ignored, or mapped as it is. */
  note?: string;
}

export interface BuiltInSource {
  key: 'ut1' | 'blocklistproject' | 'shadowwhisperer' | 'sinfonietta' | 'hipo';
  name: string;
  homepage: string;
  licence: string;
  /** The notice a school must keep with the data (shown in the app and docs). */
  attribution: string;
  lists: BuiltInList[];
}

type Row = [name: string, use: ListUse, category: CategoryKey | null, enabled: boolean, note?: string];

const UT1_RAW = 'https://raw.githubusercontent.com/olbat/ut1-blacklists/master/blacklists';
const ut1 = ([name, use, category, enabled, note]: Row): BuiltInList => ({
  id: `ut1:${name}`,
  name,
  use,
  category,
  format: 'plain',
  url: `${UT1_RAW}/${name}/domains`,
  mirrorPath: `ut1/${name}/domains.gz`,
  enabledByDefault: use !== 'ignore' && enabled,
  ...(note ? { note } : {}),
});

const NOT_FILTERED = 'a topic schools do not filter by category';
const WHITE = 'UT1 marks it white: names it does not consider harmful; never blocked, and off as a known-good source (too broad to say teachers rely on it)';
const KNOWN_GOOD = 'UT1 marks it white: known-good names, never blocked; checked by the over-blocking report';

const UT1_LISTS: Row[] = [
  ['agressif', 'block', 'discrimination', true, 'racist, antisemitic and hate sites (UT1 describes it in French as inciting hatred)'],
  ['ai', 'block', 'ai_chat', true],
  ['arjel', 'block', 'gambling', true, 'betting sites licensed in France'],
  ['associations_religieuses', 'ignore', null, false, NOT_FILTERED],
  ['astrology', 'ignore', null, false, NOT_FILTERED],
  ['audio-video', 'block', 'streaming', true],
  ['bank', 'allow', null, false, WHITE],
  ['bitcoin', 'ignore', null, false, 'cryptocurrency sites: not a category schools filter; mining scripts are in cryptojacking'],
  ['blog', 'ignore', null, false, NOT_FILTERED],
  ['celebrity', 'ignore', null, false, NOT_FILTERED],
  ['chat', 'block', 'chat', true],
  ['child', 'allow', null, true, KNOWN_GOOD],
  ['cleaning', 'allow', null, false, WHITE],
  ['cooking', 'ignore', null, false, NOT_FILTERED],
  ['cryptojacking', 'block', 'malware', true, 'in-browser coin mining'],
  ['dangerous_material', 'block', 'violence', true, 'bomb-making and poisons'],
  ['dating', 'block', 'dating', true],
  ['ddos', 'block', 'malware', true, 'attack-for-hire services'],
  ['dialer', 'block', 'malware', true],
  ['doh', 'block', 'public_dns', true],
  ['download', 'allow', null, false, WHITE],
  ['drogue', 'block', 'drugs', true],
  ['dynamic-dns', 'block', 'vpn_proxy', false, 'dynamic DNS hosts: used to reach home servers and proxies, but also by legitimate services; off until a school chooses it'],
  ['educational_games', 'allow', null, true, KNOWN_GOOD],
  ['examen_pix', 'ignore', null, false, 'UT1: DO NOT USE outside the French PIX exam'],
  ['exceptions_liste_bu', 'ignore', null, false, 'an exception list for French university libraries'],
  ['fakenews', 'ignore', null, false, 'misinformation: a judgement call better made per site than by list'],
  ['filehosting', 'block', 'file_sharing', true],
  ['financial', 'ignore', null, false, NOT_FILTERED],
  ['forums', 'ignore', null, false, NOT_FILTERED],
  ['gambling', 'block', 'gambling', true],
  ['games', 'block', 'games', true],
  ['hacking', 'block', 'malware', true],
  ['jobsearch', 'allow', null, false, WHITE],
  ['lingerie', 'block', 'adult_themes', true],
  ['liste_blanche', 'allow', null, true, KNOWN_GOOD],
  ['liste_bu', 'allow', null, true, 'French university library resources: known-good'],
  ['malware', 'block', 'malware', true],
  ['manga', 'ignore', null, false, NOT_FILTERED],
  ['marketingware', 'block', 'advertising', true],
  ['mixed_adult', 'block', 'adult_themes', true, 'sites with some adult content among other things'],
  ['mobile-phone', 'ignore', null, false, NOT_FILTERED],
  ['phishing', 'block', 'phishing', true],
  ['press', 'allow', null, false, WHITE],
  ['publicite', 'block', 'advertising', true],
  ['radio', 'block', 'streaming', true],
  ['reaffected', 'ignore', null, false, 'domains that changed owner: informational'],
  ['redirector', 'block', 'vpn_proxy', true, 'proxies, anonymisers and other ways round a filter'],
  ['remote-control', 'block', 'remote_access', true],
  ['residential-proxies', 'block', 'vpn_proxy', true],
  ['sect', 'ignore', null, false, 'sects and cults: UT1 follows French definitions; schools decide per site'],
  ['sexual_education', 'allow', null, true, 'sex-education sites that porn lists wrongly catch: known-good'],
  ['shopping', 'block', 'shopping', true],
  ['shortener', 'allow', null, false, WHITE],
  ['social_networks', 'block', 'social_networks', true],
  ['special', 'ignore', null, false, 'UT1 internal'],
  ['sports', 'ignore', null, false, NOT_FILTERED],
  ['stalkerware', 'block', 'malware', true],
  ['strict_redirector', 'block', 'vpn_proxy', false, 'a stricter variant of redirector (same size here); off to avoid double counting'],
  ['strong_redirector', 'block', 'vpn_proxy', false, 'a stronger variant of redirector; off to avoid double counting'],
  ['translation', 'allow', null, false, WHITE],
  ['tricheur', 'ignore', null, false, 'exam-cheating sites for French exams'],
  ['tricheur_pix', 'ignore', null, false, 'UT1: DO NOT USE outside the French PIX exam'],
  ['update', 'allow', null, false, 'software update hosts: never block them'],
  ['vpn', 'block', 'vpn_proxy', true],
  ['warez', 'block', 'piracy', true],
  ['webhosting', 'ignore', null, false, NOT_FILTERED],
  ['webmail', 'ignore', null, false, 'web mail: schools decide per service'],
];

const BP = 'https://blocklistproject.github.io/Lists';
/** One Block List Project list in hosts format (its main format) and, where the mirror has them, the same list in other formats (off). */
function bp(name: string, use: ListUse, category: CategoryKey | null, enabled: boolean, note?: string, otherFormats = false): BuiltInList[] {
  const base: BuiltInList = {
    id: `bp:${name}`,
    name,
    use,
    category,
    format: 'hosts',
    url: `${BP}/${name}.txt`,
    mirrorPath: `blocklistproject/hosts/${name}.txt.gz`,
    enabledByDefault: use !== 'ignore' && enabled,
    ...(note ? { note } : {}),
  };
  if (!otherFormats) return [base];
  const same = `the same list as bp:${name} in another format`;
  return [
    base,
    { ...base, id: `bp:${name}:domains`, format: 'plain', url: `${BP}/alt-version/${name}-nl.txt`, mirrorPath: `blocklistproject/domains/${name}-nl.txt.gz`, enabledByDefault: false, note: same },
    { ...base, id: `bp:${name}:adguard`, format: 'adblock', url: `${BP}/adguard/${name}-ags.txt`, mirrorPath: `blocklistproject/adguard/${name}-ags.txt.gz`, enabledByDefault: false, note: same },
    { ...base, id: `bp:${name}:dnsmasq`, format: 'dnsmasq', url: `${BP}/dnsmasq-version/${name}-dnsmasq.txt`, mirrorPath: `blocklistproject/dnsmasq/${name}-dnsmasq.txt.gz`, enabledByDefault: false, note: same },
  ];
}

const BP_LISTS: BuiltInList[] = [
  ...bp('adobe', 'ignore', null, false, 'blocks Adobe product hosts: not a content category'),
  ...bp('basic', 'block', 'advertising', false, 'a mix of ads, trackers and malware; off by default (overlaps the dedicated lists)'),
  ...bp('crypto', 'block', 'malware', true, 'coin-mining hosts', true),
  ...bp('drugs', 'block', 'drugs', true, undefined, true),
  ...bp('facebook', 'block', 'social_networks', true),
  ...bp('fortnite', 'block', 'games', true),
  ...bp('piracy', 'block', 'piracy', true, undefined, true),
  ...bp('ransomware', 'block', 'malware', true),
  ...bp('redirect', 'ignore', null, false, 'nearly all of UT1 redirector under another name'),
  ...bp('scam', 'block', 'phishing', true),
  ...bp('smart-tv', 'ignore', null, false, 'smart TV telemetry: not a content category'),
  ...bp('tiktok', 'block', 'social_networks', true),
  ...bp('torrent', 'block', 'piracy', true, 'torrent sites and trackers', true),
  ...bp('twitter', 'block', 'social_networks', true),
  ...bp('vaping', 'block', 'adult_themes', true, 'vaping shops: age-restricted sales', true),
  ...bp('whatsapp', 'block', 'chat', true),
  ...bp('youtube', 'block', 'streaming', false, 'every YouTube host: off by default, since YouTube has its own strict/moderate setting per group'),
  {
    id: 'bp:phishing',
    name: 'phishing',
    use: 'block',
    category: 'phishing',
    format: 'plain',
    url: `${BP}/alt-version/phishing-nl.txt`,
    mirrorPath: 'blocklistproject/domains/phishing-nl.txt.gz',
    enabledByDefault: true,
  },
];

const SW_RAW = 'https://raw.githubusercontent.com/ShadowWhisperer/BlockLists/master';
function sw(name: string, use: ListUse, category: CategoryKey | null, enabled: boolean, note?: string): BuiltInList {
  const format: ListFormat = name.startsWith('Wild_') ? 'wildcard' : name === 'Top_Level' ? 'tld' : 'plain';
  const folder = name === 'Whitelist' ? 'Whitelists' : 'Lists';
  return {
    id: `sw:${name}`,
    name,
    use,
    category,
    format,
    url: `${SW_RAW}/${folder}/${name}`,
    mirrorPath: `shadowwhisperer/${folder}/${name}.gz`,
    enabledByDefault: use !== 'ignore' && enabled,
    ...(note ? { note } : {}),
  };
}

const BREAKS = 'lists hosts of a vendor or service that schools depend on: never used to block';
const SW_LISTS: BuiltInList[] = [
  sw('Adult', 'block', 'pornography', true),
  sw('AI', 'block', 'ai_chat', true),
  sw('Ads', 'block', 'advertising', true),
  sw('Apple', 'ignore', null, false, BREAKS),
  sw('Chat', 'ignore', null, false, 'customer-service chat widgets on shop sites, not chat services'),
  sw('Cryptocurrency', 'ignore', null, false, 'cryptocurrency sites: not a category schools filter'),
  sw('DNS', 'block', 'public_dns', true),
  sw('Dating', 'block', 'dating', true),
  sw('Dynamic', 'block', 'vpn_proxy', false, 'dynamic DNS hosts: off until a school chooses it'),
  sw('Fonts', 'ignore', null, false, BREAKS),
  sw('Free', 'ignore', null, false, 'free web hosting: too broad to block by list'),
  sw('Gambling', 'block', 'gambling', true),
  sw('Junk', 'ignore', null, false, 'low-quality sites: not a content category'),
  sw('Malware', 'block', 'malware', true),
  sw('Marketing', 'block', 'advertising', true),
  sw('Microsoft', 'ignore', null, false, BREAKS),
  sw('Remote', 'block', 'remote_access', true),
  sw('Risk', 'block', 'malware', false, 'risky but not known-bad hosts: off by default'),
  sw('Scam', 'block', 'phishing', true),
  sw('Shock', 'block', 'violence', true, 'gore and shock sites'),
  sw('Top_Level', 'block', 'malware', false, 'whole top-level domains with mostly abusive registrations: off by default, it blocks every name under them'),
  sw('Tracking', 'block', 'advertising', true),
  sw('Tunnels', 'block', 'vpn_proxy', true),
  sw('Typo', 'block', 'phishing', true, 'typo-squatting look-alikes of popular names'),
  sw('UrlShortener', 'ignore', null, false, 'link shorteners: blocking them breaks links in mail and documents'),
  sw('Wild_Ads', 'block', 'advertising', true),
  sw('Wild_Apple', 'ignore', null, false, BREAKS),
  sw('Wild_Chat', 'ignore', null, false, 'customer-service chat widgets'),
  sw('Wild_Fonts', 'ignore', null, false, BREAKS),
  sw('Wild_Microsoft', 'ignore', null, false, BREAKS),
  sw('Wild_Tracking', 'block', 'advertising', true),
  sw('Wild_Tunnel', 'block', 'vpn_proxy', true),
  sw('Whitelist', 'allow', null, true, 'ShadowWhisperer’s own allow list'),
];

const SINF_RAW = 'https://raw.githubusercontent.com/Sinfonietta/hostfiles/master';
const sinf = (name: string, category: CategoryKey, note?: string): BuiltInList => ({
  id: `sinf:${name}-hosts`,
  name: `${name}-hosts`,
  use: 'block',
  category,
  format: 'hosts',
  url: `${SINF_RAW}/${name}-hosts`,
  mirrorPath: `sinfonietta/${name}-hosts.gz`,
  enabledByDefault: true,
  ...(note ? { note } : {}),
});

/** Every built-in source, in the order the app shows them. */
export const BUILT_IN_SOURCES: readonly BuiltInSource[] = [
  {
    key: 'ut1',
    name: 'UT1 blacklists (Université Toulouse Capitole)',
    homepage: 'https://dsi.ut-capitole.fr/blacklists/',
    licence: 'CC BY-SA 4.0',
    attribution: 'UT1 blacklists, Université Toulouse Capitole (Fabrice Prigent and contributors), https://dsi.ut-capitole.fr/blacklists/, CC BY-SA 4.0.',
    lists: UT1_LISTS.map(ut1),
  },
  {
    key: 'blocklistproject',
    name: 'The Block List Project',
    homepage: 'https://github.com/blocklistproject/Lists',
    licence: 'Unlicense',
    attribution: 'The Block List Project (blocklistproject/Lists), Unlicense.',
    lists: BP_LISTS,
  },
  {
    key: 'shadowwhisperer',
    name: 'ShadowWhisperer BlockLists',
    homepage: 'https://github.com/ShadowWhisperer/BlockLists',
    licence: 'Unlicense',
    attribution: 'ShadowWhisperer BlockLists, Unlicense.',
    lists: SW_LISTS,
  },
  {
    key: 'sinfonietta',
    name: 'Sinfonietta hostfiles',
    homepage: 'https://github.com/Sinfonietta/hostfiles',
    licence: 'MIT',
    attribution: 'Sinfonietta hostfiles, MIT licence, Copyright (c) 2016 Sinfonietta.',
    lists: [sinf('gambling', 'gambling'), sinf('pornography', 'pornography'), sinf('social', 'social_networks'), sinf('snuff', 'violence', 'gore')],
  },
  {
    key: 'hipo',
    name: 'Hipo university domains',
    homepage: 'https://github.com/Hipo/university-domains-list',
    licence: 'MIT',
    attribution: 'University Domains and Names Data List, Hipo (github.com/Hipo/university-domains-list), MIT licence.',
    lists: [
      {
        id: 'hipo:universities',
        name: 'world_universities_and_domains',
        use: 'allow',
        category: null,
        format: 'domains-json',
        url: 'https://raw.githubusercontent.com/Hipo/university-domains-list/master/world_universities_and_domains.json',
        mirrorPath: 'known-good/hipo-world_universities_and_domains.json.gz',
        enabledByDefault: true,
        note: 'the web domains of universities worldwide: known-good, checked by the over-blocking report',
      },
    ],
  },
];

/** Every built-in list by id. */
export const BUILT_IN_LISTS: ReadonlyMap<string, BuiltInList & { source: BuiltInSource['key'] }> = new Map(
  BUILT_IN_SOURCES.flatMap((source) => source.lists.map((list) => [list.id, { ...list, source: source.key }] as const)),
);

/**
 * The built-in lists a sync brings in: block lists (compiled into the
 * catalog) and allow lists (kept as known-good names), each on by default
 * unless `choices` (the school's switches, by list id) says otherwise.
 * `ignore` lists never come in.
 */
export function enabledLists(choices: ReadonlyMap<string, boolean> = new Map()): BuiltInList[] {
  return [...BUILT_IN_LISTS.values()].filter((l) => isEnabled(l, choices.get(l.id)));
}

/** Whether a built-in list is in use: the school's switch (`chosen`) if there is one, else its default; `ignore` lists never are. */
export function isEnabled(list: BuiltInList, chosen: boolean | undefined): boolean {
  return list.use !== 'ignore' && (chosen ?? list.enabledByDefault);
}
