/**
 * What the DNS engine is told about a school: plain, structured-cloneable data
 * (it crosses from the main thread to the filter workers in a message). The
 * policy module builds it from the store; `schoolgate filter serve` builds a
 * minimal one from its flags. The engine compiles it into lookup tables and
 * bitmasks (`policy.ts`, `identify.ts`) and never reads the store itself.
 */
import type { CategoryKey } from './categories.ts';

/** A domain entry: covers the name and its subdomains; a leading `=` makes it exact (`=example.com`). */
export type DomainEntry = string;

/** A weekly window in the school's local time; `end` before `start` runs overnight into the next day. */
export interface ScheduleWindow {
  /** ISO weekdays the window starts on: 1 = Monday … 7 = Sunday. */
  days: number[];
  /** `HH:MM`, 24-hour. */
  start: string;
  /** `HH:MM`; `24:00` is the end of the day. */
  end: string;
}

export interface Schedule {
  id: string;
  name: string;
  windows: ScheduleWindow[];
  /** Active only on school days: inside a term and not a closure (INSET day, bank holiday). */
  schoolDaysOnly: boolean;
}

/** How one category is treated for a group at a given time. */
export interface ScheduledCategory {
  category: CategoryKey;
  scheduleId: string;
  /** `block_during`: blocked while the schedule is active (e.g. social media in contact time); `allow_during`: blocked except then. */
  mode: 'block_during' | 'allow_during';
}

export type YouTubeMode = 'strict' | 'moderate' | 'off';

export interface GroupPolicy {
  groupId: string;
  name: string;
  /** Lower wins: a client in several groups gets the whole policy of its highest-priority group. */
  priority: number;
  /** Blocked at all times. `illegal` is always added by the engine, whatever this says. */
  blocked: CategoryKey[];
  scheduled: ScheduledCategory[];
  allow: DomainEntry[];
  deny: DomainEntry[];
  /** Google, Bing, DuckDuckGo, Ecosia, Pixabay locked to safe search; engines that cannot be forced are blocked. */
  safeSearch: boolean;
  youtube: YouTubeMode;
  /** Filter-off approved by the head: everything allowed but `illegal` (still logged). */
  filterOff: boolean;
}

/** A temporary exemption (an approved unblock): a domain or a whole category, for a group, person or device, until a time. */
export interface Exemption {
  id: string;
  domain: DomainEntry | null;
  category: CategoryKey | null;
  groupId: string | null;
  personId: string | null;
  deviceId: string | null;
  /** ISO timestamp; the exemption ends by itself then. */
  until: string;
  reason: string;
}

/** "Network rights removed": everything blocked for a person or device except the allow list, until a time. */
export interface Sanction {
  id: string;
  personId: string | null;
  deviceId: string | null;
  until: string;
  allow: DomainEntry[];
  reason: string;
}

export interface SchoolCalendar {
  /** Inclusive `YYYY-MM-DD` ranges. With no terms at all, every weekday counts as a school day. */
  terms: { start: string; end: string }[];
  /** INSET days, bank holidays and other closures inside terms. */
  closures: { date: string; label: string }[];
}

export interface NetworkEntry {
  id: string;
  name: string;
  cidr: string;
  groupId: string | null;
  /** Whether the per-client rate limit applies here (off for the school's own networks by default). */
  rateLimited: boolean;
}

/**
 * A DoH path token (`/dns-query/{token}`): identifies a device or a person.
 * Only its SHA-256 (lower-case hex) is stored and sent here; the engine hashes
 * the token it is shown. Tokens are secrets: never logged.
 */
export interface TokenEntry {
  tokenHash: string;
  deviceId: string | null;
  personId: string | null;
}

export interface DeviceEntry {
  id: string;
  name: string;
  groupIds: string[];
  ownerId: string | null;
}

export interface PersonEntry {
  id: string;
  /** Effective groups, nesting already resolved. */
  groupIds: string[];
  /** ChromeOS identifier: uppercase hex SHA-256 of salt ‖ email, precomputed (never the email itself). */
  chromeosHash: string | null;
}

export interface BlockingSettings {
  /** `address`: A/AAAA answered with the block page; `null`: 0.0.0.0 and ::; `nxdomain`. */
  answer: 'address' | 'null' | 'nxdomain';
  ipv4: string | null;
  ipv6: string | null;
  /** TTL of blocked and made-up answers, seconds (at most 10). */
  ttl: number;
}

export interface PolicySnapshot {
  /** Increases with every change; events record it. */
  version: number;
  schoolId: string;
  /** IANA zone of the school's clock (schedules), e.g. `Europe/London`. */
  timeZone: string;
  calendar: SchoolCalendar;
  groups: GroupPolicy[];
  schedules: Schedule[];
  /** Policy for a client on a school network whose network names no group. */
  defaultGroupId: string | null;
  networks: NetworkEntry[];
  people: PersonEntry[];
  devices: DeviceEntry[];
  tokens: TokenEntry[];
  /** The ChromeOS salt (8–32 characters) used for `PersonEntry.chromeosHash`, or null when not set up. */
  chromeosSalt: string | null;
  /** Whole-school allow and deny entries (apply to every group, before the group's own). */
  schoolAllow: DomainEntry[];
  schoolDeny: DomainEntry[];
  /** Names the school depends on, never blocked by categories or deny entries (only `illegal` and sanctions beat them). */
  neverBlock: DomainEntry[];
  exemptions: Exemption[];
  sanctions: Sanction[];
  blocking: BlockingSettings;
  /** Forwarders whose client-subnet option (RFC 7871) is believed, as CIDRs. */
  trustedForwarders: string[];
  /** Active Directory and other internal zones sent to the school's own servers (`HOST:PORT`). */
  conditionalForwarders: { zone: string; servers: string[] }[];
  /** Whether clients off the school's networks and without a token are answered at all (never in production). */
  answerAnyClient: boolean;
}
