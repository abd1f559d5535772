/**
 * Bringing category lists in and compiling them into the filter's catalog.
 *
 * Every list that is accepted is kept, byte for byte, as its last good copy
 * in `<dataDir>/lists/` (with what was learnt about it in `state.json`), and
 * the catalog is always compiled from those copies. A new version of a list
 * is accepted only when it reads cleanly and still holds at least half the
 * names of the last good one; otherwise the last good copy stays in service
 * and the problem is reported with the list, file and reason. So a corrupt
 * gzip, an HTML error page, an empty file or a list that suddenly shrinks
 * never empties a category, and the filter never stops answering: the
 * running filter swaps to the new catalog only once it is completely written.
 *
 * Where a new version comes from is the caller's choice (a `Candidate`): an
 * offline mirror (`mirrorCandidate`), or a download from the list's URL that
 * asks only for a change (`urlCandidate`); `lists.refresh.ts` chooses for
 * the CLI and the app's own refresh.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { copyFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type BuildProgress, type BuildReport, readLines } from '../filter/catalog-build.ts';
import { buildCatalogInWorker } from '../filter/catalog.ts';
import type { CategoryKey } from '../filter/categories.ts';
import { type ListFormat, parseListLine } from '../filter/list-formats.ts';
import { displayUrl, downloadList } from './lists.download.ts';

/** A new version with fewer than this share of the last good one's names is not accepted. */
export const SHRINK_LIMIT = 0.5;
/** Largest list file read (uncompressed text is streamed; this bounds the compressed or plain file). */
export const MAX_LIST_BYTES = 512 << 20;

/** The copy of a list in service. */
export interface ListCopy {
  sha256: string;
  names: number;
  lines: number;
  /** Lines that gave no name (reported by the compile; page URLs of a feed among them). */
  unused: number;
  acceptedAt: string;
  /** Where it came from: a mirror path or a URL (as `displayUrl` shows it). */
  from: string;
}

/** What is known about a list: its copy in service, when its source was last reached, its latest problem. */
export interface ListState {
  id: string;
  copy: ListCopy | null;
  /** The last time the source was reached and what it had is what is in service. */
  checkedAt: string | null;
  /** Validators of the copy, for a conditional GET. */
  etag: string | null;
  lastModified: string | null;
  /** The latest problem, cleared by the next good check. */
  problem: { reason: string; at: string } | null;
}

export type ListStatus = 'updated' | 'unchanged' | 'kept' | 'missing' | 'failed';

/** What happened to one list in a sync. */
export interface ListResult {
  id: string;
  category: string | null;
  status: ListStatus;
  /** Why a new version was not taken (kept, missing, failed). */
  reason: string | null;
  /** Where the new version was looked for (a file, or a URL as `displayUrl` shows it). */
  file: string | null;
  /** Names in the copy now in service (0 when there is none). */
  names: number;
}

export interface SyncReport {
  lists: ListResult[];
  /** The compile, when one ran. */
  build: BuildReport | null;
  /** Lists whose problem an admin must see (kept an old copy, missing, failed). */
  problems: ListResult[];
}

/** What a sync needs to know of a list: built-in lists, licensed feeds and a school's own lists all fit. */
export interface SyncList {
  id: string;
  /** The category a block list puts its names in; null for an allow list (known-good names: kept, never compiled). */
  category: CategoryKey | null;
  format: ListFormat;
}

/** Where a list's new version is: a file to check, the same as before, or nothing (and why). */
export type Candidate =
  | { kind: 'file'; file: string; from: string; etag?: string | null; lastModified?: string | null }
  /** Not looked for this time: the copy in service (if any) stays, with no check recorded. */
  | { kind: 'keep' }
  | { kind: 'not-modified'; from: string }
  | { kind: 'unavailable'; from: string | null; reason: string; missing: boolean };

/** Finds a list's new version; `scratch` is a file it may download into (the sync removes it). */
export type CandidateSource = (list: SyncList, last: ListState | undefined, scratch: string) => Promise<Candidate>;

export interface SyncOptions<L extends SyncList = SyncList> {
  /** The lists to bring in and compile (enabled block lists). */
  lists: L[];
  /** Where a list's new version comes from. */
  candidate(list: L, last: ListState | undefined, scratch: string): Promise<Candidate>;
  /** `<dataDir>/lists`: the last good copies and state.json. */
  cacheDir: string;
  /** The catalog file the filter loads. */
  catalogFile: string;
  /** One line per step, for the CLI and the log. */
  onProgress?(event: SyncProgress): void;
  clock?: () => Date;
}

export type SyncProgress = { phase: 'check'; list: string; index: number; total: number; result: ListResult } | { phase: 'compile'; step: BuildProgress };

/** Looks for nothing: every list keeps the copy it has (the built-in lists of an install that has not set them up). */
export const keepCandidate = async (): Promise<Candidate> => ({ kind: 'keep' });

/** Reads a mirror laid out as `mirrorPath` says; a list's file may be there gzipped or not. */
export function mirrorCandidate(mirror: string) {
  return async (list: SyncList & { mirrorPath: string }): Promise<Candidate> => {
    const file = path.join(mirror, list.mirrorPath);
    const plain = file.replace(/\.gz$/, '');
    const found = existsSync(file) ? file : existsSync(plain) ? plain : null;
    return found ? { kind: 'file', file: found, from: found } : { kind: 'unavailable', from: file, reason: 'not found', missing: true };
  };
}

/** Downloads a list from its URL (conditional on the copy in service), with the headers `headersOf` gives (credentials). */
export function urlCandidate<L extends SyncList>(options: { urlOf(list: L): string; headersOf?(list: L): Record<string, string>; maxBytes?: number; timeoutMs?: number; idleMs?: number }) {
  return async (list: L, last: ListState | undefined, scratch: string): Promise<Candidate> => {
    const url = options.urlOf(list);
    const from = displayUrl(url);
    let headers: Record<string, string>;
    try {
      headers = options.headersOf?.(list) ?? {};
    } catch (error) {
      return { kind: 'unavailable', from, reason: (error as Error).message, missing: false };
    }
    const haveCopy = last?.copy != null;
    const result = await downloadList({
      url,
      headers,
      etag: haveCopy ? last.etag : null,
      lastModified: haveCopy ? last.lastModified : null,
      into: scratch,
      maxBytes: options.maxBytes ?? MAX_LIST_BYTES,
      timeoutMs: options.timeoutMs,
      idleMs: options.idleMs,
    });
    if (result.status === 'not-modified') return { kind: 'not-modified', from };
    if (result.status === 'failed') return { kind: 'unavailable', from, reason: `download failed: ${result.reason}`, missing: false };
    return { kind: 'file', file: result.file, from, etag: result.etag, lastModified: result.lastModified };
  };
}

const sha256Of = (file: string) =>
  new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });

/** What checking a list found: its counts, or why it is not a list. */
export type ListCheck = { ok: true; names: number; lines: number; unused: number; samples: UnusedLine[] } | { ok: false; reason: string; samples: UnusedLine[] };

/** A line that gave no name, and why (the first few are kept for a person to see). */
export interface UnusedLine {
  line: number;
  text: string;
  reason: string;
}

const SAMPLE_LINES = 20;

/** Counts a list's names line by line and keeps the first unused lines; `result()` says whether it is a list at all. */
function listChecker(format: ListFormat) {
  let names = 0;
  let unused = 0;
  let lineNo = 0;
  let firstText: string | null = null;
  const samples: UnusedLine[] = [];
  return {
    line(text: string) {
      lineNo++;
      if (firstText === null && text.trim() !== '') firstText = text.trim();
      const parsed = parseListLine(format, text);
      names += parsed.names.length;
      if (parsed.names.length === 0 && parsed.problems.length) {
        unused++;
        if (samples.length < SAMPLE_LINES) samples.push({ line: lineNo, text: text.slice(0, 200), reason: parsed.problems[0].reason });
      }
    },
    result(lines: number): ListCheck {
      const first = firstText as string | null;
      if (first !== null && /^<(!doctype|html|\?xml|head|body)/i.test(first)) return { ok: false, reason: 'it is a web page (HTML), not a list: the server sent an error page?', samples };
      if (names === 0) return { ok: false, reason: `no usable line in ${lines} line(s)`, samples };
      return { ok: true, names, lines, unused, samples };
    },
  };
}

/** Reads a candidate list file (plain or gzip): how many names and lines it has, or why it is not a list. */
export async function checkListFile(file: string, list: Pick<SyncList, 'format'>): Promise<ListCheck> {
  const checker = listChecker(list.format);
  let lines: number;
  try {
    lines = await readLines(file, (text) => {
      if (text !== null) checker.line(text);
    });
  } catch (error) {
    const message = (error as Error).message;
    return { ok: false, reason: /incorrect header|unexpected end|invalid|Z_/i.test(message) ? `the file is not readable (corrupt or truncated gzip?): ${message}` : `the file cannot be read: ${message}`, samples: [] };
  }
  return checker.result(lines);
}

/** Checks a list held as text (an upload), as `checkListFile` checks a file. */
export function checkListText(text: string, format: ListFormat): ListCheck {
  const checker = listChecker(format);
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) checker.line(line);
  return checker.result(lines.length);
}

/** Where the last good copy of a list is kept in `cacheDir`. */
export function cacheFileOf(cacheDir: string, list: Pick<SyncList, 'id'>): string {
  return path.join(cacheDir, list.id.replace(/[^A-Za-z0-9_.-]+/g, '_'));
}

/** A state entry of an earlier version (flat: the copy's fields beside the id). */
interface OldListState {
  id: string;
  sha256: string;
  names: number;
  lines: number;
  acceptedAt: string;
  from: string;
}

/** What `state.json` in `cacheDir` says about each list (an unreadable file says nothing). */
export function readListStates(cacheDir: string): Record<string, ListState> {
  const file = path.join(cacheDir, 'state.json');
  if (!existsSync(file)) return {};
  let raw: Record<string, ListState | OldListState>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {}; // a broken state file only costs re-checking every list
  }
  const states: Record<string, ListState> = {};
  for (const [id, value] of Object.entries(raw)) {
    if ('copy' in value) states[id] = value;
    // The first version kept no validators and named the copy `<id>.gz`: moved on first read below.
    else states[id] = { id, copy: { sha256: value.sha256, names: value.names, lines: value.lines, unused: 0, acceptedAt: value.acceptedAt, from: value.from }, checkedAt: value.acceptedAt, etag: null, lastModified: null, problem: null };
  }
  return states;
}

/**
 * Checks each list's candidate, keeps the accepted ones as last good copies,
 * and compiles every list that has a copy into the catalog. Lists without
 * any copy are left out of the catalog and reported; with no copy at all the
 * catalog in service is left as it is.
 */
export async function syncLists<L extends SyncList>(options: SyncOptions<L>): Promise<SyncReport> {
  const clock = options.clock ?? (() => new Date());
  mkdirSync(options.cacheDir, { recursive: true });
  const states = readListStates(options.cacheDir);
  const results: ListResult[] = [];

  for (const [index, list] of options.lists.entries()) {
    const cached = cacheFileOf(options.cacheDir, list);
    if (!existsSync(cached) && existsSync(`${cached}.gz`)) await rename(`${cached}.gz`, cached); // named by the first version
    const last = states[list.id];
    const copy = last?.copy && existsSync(cached) ? last.copy : null;
    const state: ListState = { id: list.id, copy, checkedAt: copy ? (last?.checkedAt ?? null) : null, etag: copy ? (last?.etag ?? null) : null, lastModified: copy ? (last?.lastModified ?? null) : null, problem: last?.problem ?? null };
    states[list.id] = state;
    const scratch = `${cached}.${process.pid}.download`;
    const found = await options.candidate(list, state, scratch);
    const now = clock().toISOString();
    const result: ListResult = { id: list.id, category: list.category, status: 'unchanged', reason: null, file: found.kind === 'keep' ? null : found.from, names: copy?.names ?? 0 };
    const keep = (reason: string, missing: boolean) => {
      result.status = copy ? 'kept' : missing ? 'missing' : 'failed';
      result.reason = copy ? `${reason}; the last good copy (${copy.names} names, ${copy.acceptedAt.slice(0, 10)}) stays in service` : reason;
      state.problem = { reason, at: now };
    };
    const fine = () => {
      state.checkedAt = now;
      state.problem = null;
    };
    if (found.kind === 'keep') {
      // nothing to check: the list is compiled from its copy, if it has one
    } else if (found.kind === 'unavailable') keep(found.reason, found.missing);
    else if (found.kind === 'not-modified') {
      if (copy) fine();
      else keep('the server says nothing changed, but there is no copy here', false);
    } else {
      const sha256 = await sha256Of(found.file);
      if (copy && copy.sha256 === sha256) fine();
      else {
        const checked = await checkListFile(found.file, list);
        if (!checked.ok) keep(checked.reason, false);
        else if (copy && checked.names < copy.names * SHRINK_LIMIT) keep(`it shrank from ${copy.names} to ${checked.names} names (more than half gone)`, false);
        else {
          const temp = `${cached}.${process.pid}.tmp`;
          if (found.file === scratch) await rename(scratch, temp);
          else await copyFile(found.file, temp);
          await rename(temp, cached);
          state.copy = { sha256, names: checked.names, lines: checked.lines, unused: checked.unused, acceptedAt: now, from: found.from };
          fine();
          result.status = 'updated';
          result.names = checked.names;
        }
      }
      if (found.kind === 'file' && state.copy?.sha256 === sha256) {
        state.etag = found.etag ?? null;
        state.lastModified = found.lastModified ?? null;
      }
    }
    await rm(scratch, { force: true });
    results.push(result);
    options.onProgress?.({ phase: 'check', list: list.id, index, total: options.lists.length, result });
  }

  // A list the sync was not asked about (switched off, removed) keeps its copy but not its problem: it is not in service.
  const asked = new Set(options.lists.map((l) => l.id));
  for (const state of Object.values(states)) if (!asked.has(state.id)) state.problem = null;
  const stateFile = path.join(options.cacheDir, 'state.json');
  await writeFile(`${stateFile}.tmp`, JSON.stringify(states, null, 2));
  await rename(`${stateFile}.tmp`, stateFile);

  const compiled = options.lists.filter((list) => list.category !== null && states[list.id]?.copy && existsSync(cacheFileOf(options.cacheDir, list)));
  let build: BuildReport | null = null;
  if (compiled.length) {
    mkdirSync(path.dirname(options.catalogFile), { recursive: true });
    build = await buildCatalogInWorker(
      {
        sources: compiled.map((list) => ({ name: list.id, category: list.category as CategoryKey, format: list.format, file: cacheFileOf(options.cacheDir, list) })),
        outFile: options.catalogFile,
      },
      { onProgress: (step) => options.onProgress?.({ phase: 'compile', step }) },
    );
  }
  return { lists: results, build, problems: results.filter((r) => r.status === 'kept' || r.status === 'missing' || r.status === 'failed') };
}
