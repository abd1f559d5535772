/**
 * The line formats of category lists, read one line at a time. Each line
 * yields the names it lists (normalised to catalog form) and, for anything it
 * cannot use, a reason a person can act on. Nothing is dropped silently
 * except blank lines, comments and the `localhost` boilerplate of hosts files.
 *
 * Semantics (shared/research/dns-peers.md §3 compares what peers do):
 * - a name with no marker covers itself and its subdomains, unless its source
 *   is marked exact (then it matches only itself);
 * - explicit markers win over the source's flag: `||x^`, `*.x`, `.x`,
 *   dnsmasq `/x/` and TLD entries always cover subdomains; adblock `|x^`
 *   is always exact;
 * - `*.x` covers x itself too (the apex), as Blocky does: list makers who
 *   write `*.x` mean the site, and a list that wants only the subdomains is
 *   rare enough not to need a third kind of entry;
 * - IP addresses are always exact, stored in canonical text (`canonicalIp`).
 */
import { domainToASCII } from 'node:url';
import { canonicalIp } from './name-hash.ts';

/** The list formats the builder reads. */
export const LIST_FORMATS = ['plain', 'hosts', 'adblock', 'dnsmasq', 'wildcard', 'tld', 'urls', 'domains-json'] as const;
/** One of LIST_FORMATS. */
export type ListFormat = (typeof LIST_FORMATS)[number];

/** Whether a string names a list format. */
export function isListFormat(value: string): value is ListFormat {
  return (LIST_FORMATS as readonly string[]).includes(value);
}

/** A name a line lists, in catalog form. `exact`: matches only itself (not its subdomains). */
export interface ParsedName {
  name: string;
  exact: boolean;
}

/** Something on a line that was not used: `invalid` is bad input, `unsupported` is a rule a DNS filter does not use (yet). */
export interface LineProblem {
  kind: 'invalid' | 'unsupported';
  reason: string;
}

/** What one line yields. */
export interface ParsedLine {
  names: ParsedName[];
  problems: LineProblem[];
}

/** The result of checking one name. */
export type NameCheck = { ok: true; name: string; ip: boolean } | { ok: false; reason: string };

const NOTHING: ParsedLine = Object.freeze({ names: Object.freeze([]) as unknown as ParsedName[], problems: Object.freeze([]) as unknown as LineProblem[] });

/** Names hosts files map for the machine itself: skipped without a report (every hosts file starts with them). */
const HOSTS_BOILERPLATE = new Set([
  'localhost',
  'localhost.localdomain',
  'local',
  'broadcasthost',
  'ip6-localhost',
  'ip6-loopback',
  'ip6-localnet',
  'ip6-mcastprefix',
  'ip6-allnodes',
  'ip6-allrouters',
  'ip6-allhosts',
  '0.0.0.0',
]);

/**
 * Normalises a name to catalog form: one trailing dot removed, lower case,
 * internationalised names to their `xn--` form, IP literals to canonical
 * text. Refuses what cannot be a DNS name a browser asks for. Underscores and
 * labels starting or ending with '-' are allowed: they break the hostname
 * rules, but real lists hold them (`client_monitor.x`, `w-w-i-s-.com`) and
 * resolvers answer them, so blocking them is right.
 */
export function normalizeName(raw: string, allowSingleLabel = false): NameCheck {
  let name = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (name === '') return { ok: false, reason: 'empty name' };
  let ascii = true;
  let upper = false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0x7e) ascii = false;
    else if (c >= 0x41 && c <= 0x5a) upper = true;
  }
  if (!ascii) {
    const converted = domainToASCII(name);
    if (!converted) return { ok: false, reason: 'not a valid internationalised domain name' };
    name = converted;
  } else if (upper) {
    name = name.toLowerCase();
  }
  const first = name.charCodeAt(0);
  if (name.includes(':') || (first >= 0x30 && first <= 0x39 && /^[0-9.]+$/.test(name))) {
    const ip = canonicalIp(name);
    if (ip) return { ok: true, name: ip, ip: true };
    if (name.includes(':')) return { ok: false, reason: "':' is not allowed in a domain name (a port number, or a malformed IPv6 address?)" };
  }
  if (name.length > 253) return { ok: false, reason: `name is ${name.length} characters long; the most a domain name can have is 253` };
  let labels = 0;
  let labelStart = 0;
  let lastLabelDigits = true;
  for (let i = 0; i <= name.length; i++) {
    const c = i < name.length ? name.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      const length = i - labelStart;
      if (length === 0) return { ok: false, reason: 'empty label (two dots together, or a leading dot)' };
      if (length > 63) return { ok: false, reason: `label '${name.slice(labelStart, i).slice(0, 20)}…' is ${length} characters long; the most a label can have is 63` };
      labels++;
      labelStart = i + 1;
      if (i < name.length) lastLabelDigits = true;
      continue;
    }
    const isDigit = c >= 0x30 && c <= 0x39;
    if (!isDigit) lastLabelDigits = false;
    if ((c >= 0x61 && c <= 0x7a) || isDigit || c === 0x2d || c === 0x5f) continue;
    return { ok: false, reason: describeBadCharacter(name[i]) };
  }
  if (lastLabelDigits) {
    return {
      ok: false,
      reason: /^[0-9.]+$/.test(name) ? 'not a valid IPv4 address (four numbers 0-255 without leading zeros)' : 'the last label is all digits, which no top-level domain is',
    };
  }
  if (labels === 1 && !allowSingleLabel) {
    return { ok: false, reason: `single label '${name}': a whole top-level domain is listed only by a 'tld' list or with a leading dot ('.${name}')` };
  }
  return { ok: true, name, ip: false };
}

function describeBadCharacter(ch: string): string {
  if (ch === '*') return "'*' is a pattern, not a name (wildcard lists use format 'wildcard')";
  if (ch === '/') return "'/' is not allowed in a domain name (a URL or a path?)";
  if (ch === ' ' || ch === '\t') return 'spaces are not allowed in a domain name';
  if (ch === '\\') return "'\\' is not allowed in a domain name";
  const code = ch.charCodeAt(0);
  if (code < 0x20 || code === 0x7f) return `control character U+${code.toString(16).padStart(4, '0')} is not allowed in a domain name`;
  return `character '${ch}' is not allowed in a domain name`;
}

type Scope = 'default' | 'subtree' | 'exact';

/** Where a line's names go while it is parsed. */
class LineBuilder {
  names: ParsedName[] = [];
  problems: LineProblem[] = [];
  readonly sourceExact: boolean;
  constructor(sourceExact: boolean) {
    this.sourceExact = sourceExact;
  }
  add(raw: string, scope: Scope, allowSingleLabel = false) {
    const check = normalizeName(raw, allowSingleLabel);
    if (!check.ok) {
      this.invalid(check.reason);
      return;
    }
    const exact = check.ip || scope === 'exact' || (scope === 'default' && this.sourceExact);
    this.names.push({ name: check.name, exact });
  }
  invalid(reason: string) {
    this.problems.push({ kind: 'invalid', reason });
  }
  unsupported(reason: string) {
    this.problems.push({ kind: 'unsupported', reason });
  }
  result(): ParsedLine {
    return this.names.length === 0 && this.problems.length === 0 ? NOTHING : { names: this.names, problems: this.problems };
  }
}

/** Removes an inline `#` comment (one at the start or after white space; `a#b` is left for the name check to refuse). */
function stripHashComment(line: string): string {
  const at = line.indexOf('#');
  if (at < 0) return line;
  for (let i = at; i >= 0; i = line.indexOf('#', i + 1)) {
    if (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t') return line.slice(0, i);
  }
  return line;
}

function clean(line: string): string {
  return (line.charCodeAt(0) === 0xfeff ? line.slice(1) : line).trim();
}

const WHITESPACE = /\s+/;

/**
 * Reads one line of a list. `sourceExact`: the source is marked exact (its
 * unmarked names match only themselves). Never throws.
 */
export function parseListLine(format: ListFormat, line: string, sourceExact = false): ParsedLine {
  const text = clean(line);
  if (text === '') return NOTHING;
  const out = new LineBuilder(sourceExact);
  switch (format) {
    case 'plain':
    case 'wildcard':
    case 'tld':
      parseDomainLine(format, text, out);
      break;
    case 'hosts':
      parseHostsLine(text, out);
      break;
    case 'adblock':
      parseAdblockLine(text, out);
      break;
    case 'dnsmasq':
      parseDnsmasqLine(text, out);
      break;
    case 'urls':
      parseUrlLine(text, out);
      break;
    case 'domains-json':
      parseDomainsJsonLine(text, out);
      break;
  }
  return out.result();
}

const JSON_STRING = /"((?:[^"\\]|\\.)*)"/g;

/**
 * `domains-json`: a pretty-printed JSON array of records with a `domains`
 * array, as Hipo's university list publishes it, read a line at a time so a
 * large file never has to be parsed whole. The names are the strings on a
 * `"domains": [...]` line, and lone strings on their own line (a `domains`
 * array broken over lines); every other key is the record's description.
 */
function parseDomainsJsonLine(text: string, out: LineBuilder) {
  const key = /^"([^"]*)"\s*:\s*(.*)$/.exec(text);
  let values: string;
  if (key) {
    if (key[1] !== 'domains') return;
    values = key[2];
  } else if (text[0] === '"') values = text;
  else return;
  for (const match of values.matchAll(JSON_STRING)) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(match[1])) continue; // a web page in a broken-up array
    out.add(match[1], 'default');
  }
}

/** Why a page URL in a `urls` list is not used (shown in reports and the feed's status). */
export const PAGE_URL_REASON = 'a page URL: a DNS filter can only block whole sites, so this page is left to URL-level filtering (such as the broadband provider’s)';

/**
 * `urls` (licensed feeds such as the IWF and CTIRU lists are URL lists): one
 * URL a line, with or without `http://` or `https://`. A URL naming a whole
 * site (no path, or `/`) blocks that host; a URL of a page is reported, not
 * used: blocking its whole host would take down every other page there, and
 * the IWF asks its members to block page by page.
 */
function parseUrlLine(text: string, out: LineBuilder) {
  if (text[0] === '#' || text[0] === ';' || text[0] === '!') return;
  const body = stripHashComment(text).trim();
  if (body === '') return;
  if (WHITESPACE.test(body)) {
    out.invalid('more than one word on the line (one URL a line)');
    return;
  }
  let rest = body;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (scheme) {
    if (!/^https?$/i.test(scheme[1])) {
      out.invalid(`scheme ${scheme[1]}: only http and https URLs are read`);
      return;
    }
    rest = rest.slice(scheme[0].length);
  }
  const end = rest.search(/[/?#]/);
  let host = end < 0 ? rest : rest.slice(0, end);
  const after = end < 0 ? '' : rest.slice(end);
  host = host.slice(host.lastIndexOf('@') + 1); // user:password@host
  if (host.startsWith('[')) host = host.slice(1, host.indexOf(']') > 0 ? host.indexOf(']') : undefined);
  else host = host.replace(/:\d+$/, '');
  if (after !== '' && after !== '/') {
    out.unsupported(PAGE_URL_REASON);
    return;
  }
  out.add(host, 'default');
}

/** `plain` (one name a line), `wildcard` (`*.x` or `x`: x and its subdomains) and `tld` (`zip`, `.zip`: everything under it). */
function parseDomainLine(format: 'plain' | 'wildcard' | 'tld', text: string, out: LineBuilder) {
  const first = text[0];
  if (first === '#' || first === '!' || first === ';') return;
  const body = stripHashComment(text).trim();
  if (body === '') return;
  const tokens = body.split(WHITESPACE);
  if (tokens.length > 1) {
    if (canonicalIp(tokens[0]) !== null) out.invalid("looks like a hosts line (an address, then names): use format 'hosts'");
    else out.invalid('more than one word on the line');
    return;
  }
  addDomainToken(tokens[0], format === 'plain' ? 'default' : 'subtree', format === 'tld', out);
}

/** One name with its optional marker: `*.x` and `.x` cover x and its subdomains. */
function addDomainToken(token: string, scope: Scope, allowSingleLabel: boolean, out: LineBuilder) {
  if (token.startsWith('||') || token.startsWith('@@') || token.endsWith('^')) {
    out.invalid("an adblock rule: use format 'adblock'");
    return;
  }
  if (token.includes('://')) {
    out.invalid('a URL, not a name (a DNS filter cannot block a single page)');
    return;
  }
  if (token.includes('/') && /^[0-9a-fA-F.:]+\/\d+$/.test(token)) {
    out.invalid('an address range (CIDR), not a name');
    return;
  }
  if (token.startsWith('*.')) {
    out.add(token.slice(2), 'subtree', allowSingleLabel);
    return;
  }
  if (token.startsWith('.') && token.length > 1) {
    out.add(token.slice(1), 'subtree', true);
    return;
  }
  out.add(token, scope, allowSingleLabel);
}

function isHostsAddress(token: string): boolean {
  const percent = token.indexOf('%'); // fe80::1%lo0
  return canonicalIp(percent > 0 ? token.slice(0, percent) : token) !== null;
}

/** `hosts`: an address, then one or more names (`0.0.0.0 x`, `127.0.0.1 x y`); the address is ignored. */
function parseHostsLine(text: string, out: LineBuilder) {
  if (text[0] === '#' || text[0] === ';') return;
  const body = stripHashComment(text).trim();
  if (body === '') return;
  const tokens = body.split(WHITESPACE);
  if (!isHostsAddress(tokens[0])) {
    // A bare name is clear enough; anything else is not a hosts line.
    if (tokens.length === 1) addHostsName(tokens[0], out);
    else out.invalid(`expected an address before the names, found '${tokens[0].slice(0, 40)}'`);
    return;
  }
  if (tokens.length === 1) {
    out.invalid('an address with no names');
    return;
  }
  for (let i = 1; i < tokens.length; i++) addHostsName(tokens[i], out);
}

function addHostsName(token: string, out: LineBuilder) {
  const lower = token.toLowerCase();
  if (HOSTS_BOILERPLATE.has(lower) || HOSTS_BOILERPLATE.has(lower.replace(/\.$/, ''))) return;
  out.add(token, 'default');
}

/** Element-hiding and scriptlet markers: `##`, `#@#`, `#?#`, `#$#`, `#%#`, `#@$?#` ... */
const COSMETIC = /#@?(?:\$\?|[?$%])?#/;
const ADBLOCK_OK_MODIFIERS = new Set(['important', '']);

/**
 * `adblock` (AdGuard / uBlock / ABP): `||x^` covers x and its subdomains,
 * `|x^` is x only; a bare name follows the source's flag; a hosts-style line
 * is read as a hosts line. Exceptions (`@@`), cosmetic rules, path and regex
 * rules and modifiers a DNS filter cannot honour are reported as not used.
 */
function parseAdblockLine(text: string, out: LineBuilder) {
  const first = text[0];
  if (first === '!' || first === '[') return; // comments and the `[Adblock Plus 2.0]` header
  if (first === '#' && /^#+(\s|$)/.test(text)) return; // a `# comment`
  if (COSMETIC.test(text)) {
    out.unsupported('cosmetic rule (hides page elements): not used by a DNS filter');
    return;
  }
  if (first === '#') return; // some other `#…` comment
  if (text.startsWith('@@')) {
    out.unsupported('exception rule (@@): allow rules from lists are not used yet');
    return;
  }
  if (first === '/' && text.length > 1) {
    out.unsupported('regular-expression rule: not used');
    return;
  }
  const body = stripHashComment(text).trim();
  if (WHITESPACE.test(body)) {
    parseHostsLine(body, out);
    return;
  }
  let rule = body;
  const dollar = rule.indexOf('$');
  if (dollar >= 0) {
    const modifiers = rule.slice(dollar + 1).split(',');
    const odd = modifiers.find((m) => !ADBLOCK_OK_MODIFIERS.has(m.trim().toLowerCase()));
    if (odd !== undefined) {
      out.unsupported(`modifier $${odd.slice(0, 30)} is not supported`);
      return;
    }
    rule = rule.slice(0, dollar);
  }
  let scope: Scope = 'default';
  if (rule.startsWith('||')) {
    scope = 'subtree';
    rule = rule.slice(2);
  } else if (rule.startsWith('|')) {
    scope = 'exact';
    rule = rule.slice(1);
  }
  if (rule.endsWith('^|')) rule = rule.slice(0, -2);
  else if (rule.endsWith('^')) rule = rule.slice(0, -1);
  else if (scope === 'exact' && rule.endsWith('|')) rule = rule.slice(0, -1);
  if (rule.includes('://')) {
    out.unsupported('a URL rule: a DNS filter cannot block a single page');
    return;
  }
  if (rule.includes('/')) {
    out.unsupported('a path rule (blocks part of a site): not used by a DNS filter');
    return;
  }
  if (rule.includes('*') || rule.includes('^') || rule.includes('|')) {
    out.unsupported('a pattern rule (wildcards or separators inside the name): not used');
    return;
  }
  if (rule === '') {
    out.invalid('a rule with no name');
    return;
  }
  out.add(rule, scope);
}

/**
 * `dnsmasq`: `server=/x/`, `local=/x/` and `address=/x/...` block x and its
 * subdomains (several names allowed: `address=/a/b/`). `server=/x/1.2.3.4`
 * (or `#`) forwards x, which is not a block; `address=/#/` matches every
 * name and is refused.
 */
function parseDnsmasqLine(text: string, out: LineBuilder) {
  if (text[0] === '#') return;
  const body = stripHashComment(text).trim();
  if (body === '') return;
  const equals = body.indexOf('=');
  const key = equals < 0 ? body : body.slice(0, equals).trim().toLowerCase();
  if (key !== 'server' && key !== 'local' && key !== 'address') {
    out.unsupported(`dnsmasq option '${key.slice(0, 30)}' is not a block`);
    return;
  }
  const value = body.slice(equals + 1).trim();
  if (!value.startsWith('/')) {
    out.unsupported(`${key}= without /domain/ applies to every name: not a block`);
    return;
  }
  const parts = value.split('/');
  const target = parts[parts.length - 1];
  const domains = parts.slice(1, -1);
  if (domains.length === 0) {
    out.invalid(`${key}= with no closing '/' after the domain`);
    return;
  }
  if (key !== 'address' && target !== '') {
    out.unsupported(target === '#' ? `${key}=/…/# sends the names to the normal upstream servers: not a block` : `forwards to ${target.slice(0, 45)}: not a block`);
    return;
  }
  for (const domain of domains) {
    if (domain === '#') out.invalid(`${key}=/#/ matches every name: refused`);
    else if (domain === '') out.invalid(`${key}=// (unqualified names only) is not a domain`);
    else addDomainToken(domain, 'subtree', true, out); // dnsmasq syntax is explicit, so `/zip/` may name a whole TLD
  }
}
