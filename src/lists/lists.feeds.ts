/**
 * Licensed illegal-content feeds (the IWF URL list, the police's CTIRU list)
 * and the red, amber or green status that says whether one is in service.
 *
 * These lists are licensed to members only, so Schoolgate cannot ship them:
 * the school (or its trust or broadband provider) configures each feed's URL,
 * credentials and format in `lists.illegalFeeds`, and `schoolgate lists sync`
 * brings it into the `illegal` category, which no group, screen, API or
 * config file can switch off. Until a feed is configured and loaded the
 * status stays red: the DfE standard expects these lists applied, and the
 * honest answer before then is "rely on your provider's upstream filtering".
 * Credentials are read only when a download starts (files included), and
 * never appear in a report, a status or a log.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.ts';
import type { ListFormat } from '../filter/list-formats.ts';
import { ILLEGAL_TEST_NAME } from '../filter/special-names.ts';
import { displayUrl } from './lists.download.ts';
import { type ListState, type SyncList, urlCandidate } from './lists.sync.ts';

/** One configured feed, as the config file gives it. */
export type IllegalFeedConfig = Config['lists']['illegalFeeds'][number];

/** A feed as the sync sees it: always a block list in `illegal`. */
export interface FeedList extends SyncList {
  name: string;
  feed: IllegalFeedConfig;
}

/** Where the docs explain feeds and upstream filtering. */
export const FEEDS_DOC = 'docs/lists.md#licensed-illegal-content-feeds';

/** The sync lists of the configured feeds (ids `feed:<name>`, stable while the name is). */
export function feedLists(feeds: IllegalFeedConfig[]): FeedList[] {
  return feeds.map((feed) => ({ id: `feed:${feed.name.toLowerCase()}`, name: feed.name, category: 'illegal', format: feed.format as ListFormat, feed }));
}

function readSecretFile(feed: IllegalFeedConfig, key: 'passwordFile' | 'tokenFile'): string {
  const file = feed[key] as string;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new Error(`lists.illegalFeeds ${feed.name}: ${key} ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The request headers carrying a feed's credentials; throws (without the secret) when a secret file cannot be read. */
export function feedHeaders(feed: IllegalFeedConfig): Record<string, string> {
  const headers: Record<string, string> = { accept: 'text/plain, application/gzip, */*;q=0.5' };
  if (feed.username) {
    const password = feed.password ? feed.password.reveal() : readSecretFile(feed, 'passwordFile');
    headers.authorization = `Basic ${Buffer.from(`${feed.username}:${password}`).toString('base64')}`;
  }
  const token = feed.token ? feed.token.reveal() : feed.tokenFile ? readSecretFile(feed, 'tokenFile') : null;
  if (token !== null) {
    if (feed.tokenHeader) headers[feed.tokenHeader.toLowerCase()] = token;
    else headers.authorization = `Bearer ${token}`;
  }
  return headers;
}

/** Downloads a feed from its URL with its credentials (conditional on the copy in service). */
export const feedCandidate = urlCandidate<FeedList>({ urlOf: (list) => list.feed.url, headersOf: (list) => feedHeaders(list.feed) });

export type StatusLevel = 'green' | 'amber' | 'red';

/** One feed's state, as the app, the API, the CLI and the metrics show it. */
export interface FeedStatus {
  id: string;
  name: string;
  /** The URL without credentials or query. */
  url: string;
  level: StatusLevel;
  /** What is wrong, or how it is (one sentence). */
  message: string;
  /** Whole sites the copy in service blocks. */
  names: number;
  /** Lines the copy cannot use: mostly page URLs, which a DNS filter cannot block one by one. */
  linesNotUsed: number;
  /** When its source was last reached with success, and when the copy in service was taken. */
  checkedAt: string | null;
  acceptedAt: string | null;
  problem: { reason: string; at: string } | null;
}

/** Whether the illegal category has a licensed source in service. */
export interface IllegalFeedStatus {
  level: StatusLevel;
  summary: string;
  /** What to do meanwhile (null when green). */
  advice: string | null;
  feeds: FeedStatus[];
  /** The built-in name that is always in `illegal`, to check enforcement. */
  testName: string;
  docs: string;
}

const HOUR = 3_600_000;
/** A feed not reached for a week is as good as none. */
const RED_AFTER_HOURS = 7 * 24;
const ORDER: StatusLevel[] = ['green', 'amber', 'red'];

function feedStatus(list: FeedList, state: ListState | undefined, now: Date, staleHours: number): FeedStatus {
  const copy = state?.copy ?? null;
  const problem = state?.problem ?? null;
  const checkedAt = state?.checkedAt ?? null;
  const base = { id: list.id, name: list.name, url: displayUrl(list.feed.url), names: copy?.names ?? 0, linesNotUsed: copy?.unused ?? 0, checkedAt, acceptedAt: copy?.acceptedAt ?? null, problem };
  if (!copy) {
    const message = problem ? `not loaded yet: ${problem.reason}` : 'configured but not loaded yet: run schoolgate lists sync';
    return { ...base, level: 'red', message };
  }
  const hours = checkedAt ? (now.getTime() - Date.parse(checkedAt)) / HOUR : Infinity;
  const since = `last brought in ${checkedAt ? checkedAt.slice(0, 16).replace('T', ' ') : 'never'} UTC`;
  const why = problem ? ` (${problem.reason})` : '';
  if (hours > RED_AFTER_HOURS) return { ...base, level: 'red', message: `out of date: ${since}${why}` };
  if (hours > staleHours || problem) return { ...base, level: 'amber', message: `${problem ? 'the latest update failed' : 'not updated lately'}: ${since}${why}; the copy in service still blocks` };
  const pages = copy.unused ? `; ${copy.unused} page URL line(s) left to URL-level filtering` : '';
  return { ...base, level: 'green', message: `in service: ${copy.names} site(s) blocked${pages}; ${since}` };
}

/** The status of the illegal category's licensed sources, from the config and the lists' state. */
export function illegalFeedStatus(feeds: IllegalFeedConfig[], states: Record<string, ListState>, options: { now: Date; staleHours: number }): IllegalFeedStatus {
  const statuses = feedLists(feeds).map((list) => feedStatus(list, states[list.id], options.now, options.staleHours));
  const level = statuses.length ? statuses.reduce<StatusLevel>((worst, s) => (ORDER.indexOf(s.level) > ORDER.indexOf(worst) ? s.level : worst), 'green') : 'red';
  const advice = 'Until a licensed feed is in service, make sure your broadband provider applies the IWF and CTIRU lists upstream (most school providers do), and record that in your filtering review.';
  let summary: string;
  if (!statuses.length) summary = `No licensed illegal-content feed (IWF, CTIRU) is configured: the illegal category holds only the built-in test name ${ILLEGAL_TEST_NAME}.`;
  else if (level === 'green') summary = `${statuses.length} licensed illegal-content feed(s) in service.`;
  else summary = statuses.filter((s) => s.level !== 'green').map((s) => `${s.name}: ${s.message}`).join(' ');
  return { level, summary, advice: level === 'green' ? null : advice, feeds: statuses, testName: ILLEGAL_TEST_NAME, docs: FEEDS_DOC };
}
