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
 * This slice reads an offline mirror (`schoolgate lists sync --mirror DIR`,
 * laid out as each list's `mirrorPath` says); downloading from the lists'
 * URLs on a schedule builds on the same copies and checks.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { copyFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type BuildProgress, type BuildReport, readLines } from '../filter/catalog-build.ts';
import { buildCatalogInWorker } from '../filter/catalog.ts';
import { parseListLine } from '../filter/list-formats.ts';
import type { BuiltInList } from './lists.sources.ts';

/** A new version with fewer than this share of the last good one's names is not accepted. */
export const SHRINK_LIMIT = 0.5;
/** Largest list file read (uncompressed text is streamed; this bounds the compressed or plain file). */
export const MAX_LIST_BYTES = 512 << 20;

/** What is known about a list's last good copy. */
export interface ListState {
  id: string;
  sha256: string;
  names: number;
  lines: number;
  acceptedAt: string;
  /** Where it came from: a mirror path or a URL. */
  from: string;
}

export type ListStatus = 'updated' | 'unchanged' | 'kept' | 'missing' | 'failed';

/** What happened to one list in a sync. */
export interface ListResult {
  id: string;
  category: string | null;
  status: ListStatus;
  /** Why a new version was not taken (kept, missing, failed). */
  reason: string | null;
  /** The file that was checked. */
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

export interface SyncOptions {
  /** The lists to bring in and compile (enabled block lists). */
  lists: BuiltInList[];
  /** Where a list's new version comes from: a file to check (null: not there). */
  candidate(list: BuiltInList): string | null;
  /** `<dataDir>/lists`: the last good copies and state.json. */
  cacheDir: string;
  /** The catalog file the filter loads. */
  catalogFile: string;
  /** One line per step, for the CLI and the log. */
  onProgress?(event: SyncProgress): void;
  clock?: () => Date;
}

export type SyncProgress = { phase: 'check'; list: string; index: number; total: number; result: ListResult } | { phase: 'compile'; step: BuildProgress };

/** Reads a mirror laid out as `mirrorPath` says; a list's file may be there gzipped or not. */
export function mirrorCandidate(mirror: string) {
  return (list: BuiltInList): string | null => {
    const file = path.join(mirror, list.mirrorPath);
    if (existsSync(file)) return file;
    const plain = file.replace(/\.gz$/, '');
    return existsSync(plain) ? plain : null;
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

/** Reads a candidate list: how many names and lines it has, or why it is not a list. */
export async function checkListFile(file: string, list: Pick<BuiltInList, 'format'>): Promise<{ ok: true; names: number; lines: number } | { ok: false; reason: string }> {
  let names = 0;
  let firstText: string | null = null;
  let lines: number;
  try {
    lines = await readLines(file, (text) => {
      if (text === null) return;
      if (firstText === null && text.trim() !== '') firstText = text.trim();
      names += parseListLine(list.format, text).names.length;
    });
  } catch (error) {
    const message = (error as Error).message;
    return { ok: false, reason: /incorrect header|unexpected end|invalid|Z_/i.test(message) ? `the file is not readable (corrupt or truncated gzip?): ${message}` : `the file cannot be read: ${message}` };
  }
  const first = firstText as string | null;
  if (first !== null && /^<(!doctype|html|\?xml|head|body)/i.test(first)) return { ok: false, reason: 'it is a web page (HTML), not a list: the server sent an error page?' };
  if (names === 0) return { ok: false, reason: `no usable line in ${lines} line(s)` };
  return { ok: true, names, lines };
}

function cacheFileOf(cacheDir: string, list: BuiltInList): string {
  return path.join(cacheDir, `${list.id.replace(/[^A-Za-z0-9_.-]+/g, '_')}${list.mirrorPath.endsWith('.gz') ? '.gz' : ''}`);
}

function readState(cacheDir: string): Record<string, ListState> {
  const file = path.join(cacheDir, 'state.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, ListState>;
  } catch {
    return {}; // a broken state file only costs re-checking every list
  }
}

/**
 * Checks each list's candidate, keeps the accepted ones as last good copies,
 * and compiles every list that has a copy into the catalog. Lists without
 * any copy are left out of the catalog and reported; with no copy at all the
 * catalog in service is left as it is.
 */
export async function syncLists(options: SyncOptions): Promise<SyncReport> {
  const clock = options.clock ?? (() => new Date());
  mkdirSync(options.cacheDir, { recursive: true });
  const state = readState(options.cacheDir);
  const results: ListResult[] = [];

  for (const [index, list] of options.lists.entries()) {
    const last = state[list.id];
    const cached = cacheFileOf(options.cacheDir, list);
    const haveCopy = last !== undefined && existsSync(cached);
    const file = options.candidate(list);
    const result: ListResult = { id: list.id, category: list.category, status: 'unchanged', reason: null, file, names: haveCopy ? last.names : 0 };
    const keep = (reason: string) => {
      result.status = haveCopy ? 'kept' : file ? 'failed' : 'missing';
      result.reason = haveCopy ? `${reason}; the last good copy (${last.names} names, ${last.acceptedAt.slice(0, 10)}) stays in service` : reason;
    };
    if (!file) keep('not found');
    else {
      const sha256 = await sha256Of(file);
      if (!(haveCopy && last.sha256 === sha256)) {
        const checked = await checkListFile(file, list);
        if (!checked.ok) keep(checked.reason);
        else if (haveCopy && checked.names < last.names * SHRINK_LIMIT) {
          keep(`it shrank from ${last.names} to ${checked.names} names (more than half gone)`);
        } else {
          const temp = `${cached}.${process.pid}.tmp`;
          await copyFile(file, temp);
          await rename(temp, cached);
          state[list.id] = { id: list.id, sha256, names: checked.names, lines: checked.lines, acceptedAt: clock().toISOString(), from: file };
          result.status = 'updated';
          result.names = checked.names;
        }
      }
    }
    results.push(result);
    options.onProgress?.({ phase: 'check', list: list.id, index, total: options.lists.length, result });
  }
  const stateFile = path.join(options.cacheDir, 'state.json');
  await writeFile(`${stateFile}.tmp`, JSON.stringify(state, null, 2));
  await rename(`${stateFile}.tmp`, stateFile);

  const compiled = options.lists.filter((list) => state[list.id] && existsSync(cacheFileOf(options.cacheDir, list)));
  let build: BuildReport | null = null;
  if (compiled.length) {
    mkdirSync(path.dirname(options.catalogFile), { recursive: true });
    build = await buildCatalogInWorker(
      {
        sources: compiled.map((list) => ({ name: list.id, category: list.category!, format: list.format, file: cacheFileOf(options.cacheDir, list) })),
        outFile: options.catalogFile,
      },
      { onProgress: (step) => options.onProgress?.({ phase: 'compile', step }) },
    );
  }
  return { lists: results, build, problems: results.filter((r) => r.status === 'kept' || r.status === 'missing' || r.status === 'failed') };
}
