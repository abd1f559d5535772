/**
 * Compiles category lists into a catalog file (format in catalog.ts) and its
 * `.why` index. Lists are streamed line by line (gzip read transparently);
 * each name is hashed as it is parsed into growing typed arrays, so the build
 * never holds millions of strings. Keys are radix-sorted, duplicates merged
 * (masks OR-ed), and both files written atomically (temporary file, fsync,
 * rename). `buildCatalogInWorker` runs all of it in a worker thread or a
 * child process so the serving heap never holds the build's arrays.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import { CATEGORY_BIT, type CategoryKey, isCategoryKey } from './categories.ts';
import {
  CatalogError,
  type CatalogSource,
  encodeCatalog,
  encodeWhyHeader,
  WHY_EXACT_FLAG,
  WHY_HEADER_BYTES,
  WHY_RECORD_BYTES,
  whyFileOf,
} from './catalog.ts';
import { isListFormat, type ListFormat, parseListLine } from './list-formats.ts';
import { hashName, sortKeys } from './name-hash.ts';

/** One list to compile. */
export interface CatalogSourceSpec {
  /** Unique name (shown in "why" answers). */
  name: string;
  category: CategoryKey;
  format: ListFormat;
  /** Unmarked names match only themselves, not their subdomains. */
  exact?: boolean;
  /** Path of the list file; gzip (`.gz`) is read transparently. */
  file: string;
}

/** What to build. */
export interface BuildOptions {
  sources: CatalogSourceSpec[];
  /** The catalog file; the `.why` index is written beside it. */
  outFile: string;
  /** How many problem lines the report lists in full (all are counted); default 100. */
  maxReported?: number;
}

/** How far a build is: after each list is read, then while sorting and writing. */
export type BuildProgress =
  | { phase: 'read'; source: string; index: number; total: number; names: number; problems: number }
  | { phase: 'sort'; names: number }
  | { phase: 'write'; names: number };

/** A line (or a name on it) that was not used. */
export interface RejectedLine {
  source: string;
  file: string;
  /** 1-based line number in the (decompressed) file. */
  line: number;
  /** `invalid`: bad input; `unsupported`: a rule a DNS filter does not use (adblock exceptions, dnsmasq forwards, ...). */
  kind: 'invalid' | 'unsupported';
  reason: string;
  /** The line, cut to about 100 characters. */
  text: string;
}

/** Per-list figures. */
export interface SourceReport {
  name: string;
  category: CategoryKey;
  format: ListFormat;
  exact: boolean;
  file: string;
  /** Lines read. */
  lines: number;
  /** Names accepted (before merging duplicates). */
  names: number;
  /** Distinct names this list contributed. */
  distinct: number;
  invalid: number;
  unsupported: number;
}

/** What a build did. */
export interface BuildReport {
  outFile: string;
  whyFile: string;
  builtAt: string;
  /** Distinct entries in the catalog. */
  names: number;
  /** Names accepted from all lists, duplicates included. */
  entriesRead: number;
  /** Names that were already in the catalog (same name and exactness, from any list) and were merged. */
  duplicatesMerged: number;
  sources: SourceReport[];
  /** How many lines (or names on them) were not used: invalid and unsupported. */
  rejected: number;
  /** The first `maxReported` of them, with file, line, reason and text. */
  rejections: RejectedLine[];
  /** Catalog file size. */
  bytes: number;
  /** Memory of the lookup tables once loaded. */
  tableBytes: number;
  bytesPerName: number;
  whyBytes: number;
  durationMs: number;
}

const MAX_LINE_BYTES = 1 << 20;

/** A Uint32Array that grows by doubling. */
class GrowingWords {
  words = new Uint32Array(1 << 16);
  length = 0;
  push(value: number) {
    if (this.length === this.words.length) {
      const bigger = new Uint32Array(this.words.length * 2);
      bigger.set(this.words);
      this.words = bigger;
    }
    this.words[this.length++] = value;
  }
}

function checkOptions(options: BuildOptions) {
  const issues: { where: string; message: string }[] = [];
  if (!options || typeof options.outFile !== 'string' || options.outFile === '') issues.push({ where: 'outFile', message: 'the catalog file path is required' });
  if (!Array.isArray(options?.sources)) issues.push({ where: 'sources', message: 'a list of sources is required' });
  const seen = new Set<string>();
  (options?.sources ?? []).forEach((source, i) => {
    const where = `sources[${i}]`;
    if (typeof source.name !== 'string' || source.name.trim() === '') issues.push({ where: `${where}.name`, message: 'a source needs a name' });
    else if (seen.has(source.name)) issues.push({ where: `${where}.name`, message: `the name '${source.name}' is used twice` });
    else seen.add(source.name);
    if (!isCategoryKey(String(source.category))) issues.push({ where: `${where}.category`, message: `unknown category '${source.category}'` });
    if (!isListFormat(String(source.format))) issues.push({ where: `${where}.format`, message: `unknown list format '${source.format}'` });
    if (typeof source.file !== 'string' || source.file === '') issues.push({ where: `${where}.file`, message: 'a source needs a file' });
  });
  if ((options?.sources?.length ?? 0) >= 0x7fffffff) issues.push({ where: 'sources', message: 'too many sources' });
  if (issues.length) throw new CatalogError('invalid', `The catalog sources are not valid: ${issues.map((i) => `${i.where}: ${i.message}`).join('; ')}`, issues);
}

function isGzip(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/**
 * Calls `onLine` for each line of a (possibly gzipped) text file, with its
 * 1-based number, streaming 64 KiB at a time. Handles LF and CRLF; a line over
 * 1 MiB (a binary file?) is passed as `null` and skipped. Returns the line count.
 */
export async function readLines(file: string, onLine: (text: string | null, line: number) => void): Promise<number> {
  let gzip: boolean;
  try {
    gzip = isGzip(file);
  } catch (error) {
    throw new CatalogError('io', `${file}: cannot read the list: ${(error as Error).message}`, [{ where: file, message: (error as Error).message }]);
  }
  const raw = createReadStream(file, { highWaterMark: 1 << 16 });
  const input = gzip ? raw.pipe(createGunzip()) : raw;
  if (gzip) raw.on('error', (error) => input.destroy(error));
  let line = 0;
  let pending: Buffer | null = null;
  let overlong = false;
  const emit = (chunk: Buffer, start: number, end: number) => {
    line++;
    if (overlong || end - start > MAX_LINE_BYTES) {
      overlong = false;
      onLine(null, line);
      return;
    }
    if (end > start && chunk[end - 1] === 0x0d) end--;
    onLine(chunk.toString('utf8', start, end), line);
  };
  try {
    for await (const data of input as AsyncIterable<Buffer>) {
      let chunk = data;
      let start = 0;
      if (pending) {
        chunk = Buffer.concat([pending, data]);
        pending = null;
      }
      for (let nl = chunk.indexOf(0x0a, start); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
        emit(chunk, start, nl);
        start = nl + 1;
      }
      if (start < chunk.length) {
        if (overlong || chunk.length - start > MAX_LINE_BYTES) {
          overlong = true; // keep nothing until the next newline
        } else {
          pending = Buffer.from(chunk.subarray(start));
        }
      }
    }
  } catch (error) {
    const message = gzip && (error as { code?: string }).code?.startsWith('Z_') ? `the gzip data is damaged (${(error as Error).message})` : (error as Error).message;
    throw new CatalogError('io', `${file}: cannot read the list: ${message}`, [{ where: `${file}:${line + 1}`, message }]);
  }
  if (pending || overlong) emit(pending ?? Buffer.alloc(0), 0, pending?.length ?? 0);
  return line;
}

function cut(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > 100 ? `${trimmed.slice(0, 100)}…` : trimmed;
}

async function writeAtomically(file: string, parts: Uint8Array[]) {
  const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await open(temp, 'w');
  try {
    for (const part of parts) {
      let done = 0;
      while (done < part.length) done += (await handle.write(part, done, part.length - done)).bytesWritten;
    }
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Compiles the lists into `outFile` and `outFile.why`, replacing them
 * atomically. Throws a CatalogError for bad options or an unreadable list
 * (nothing is written then); bad lines are reported, not fatal.
 */
export async function buildCatalog(options: BuildOptions, onProgress: (progress: BuildProgress) => void = () => {}): Promise<BuildReport> {
  const started = performance.now();
  checkOptions(options);
  const maxReported = options.maxReported ?? 100;
  const hi = new GrowingWords();
  const lo = new GrowingWords();
  const origin = new GrowingWords(); // source index, bit 31: exact
  const lines = new GrowingWords();
  const key = new Uint32Array(2);
  const rejections: RejectedLine[] = [];
  let rejected = 0;
  const reports: SourceReport[] = [];

  for (const [index, source] of options.sources.entries()) {
    const exact = source.exact === true;
    const report: SourceReport = { name: source.name, category: source.category, format: source.format, exact, file: source.file, lines: 0, names: 0, distinct: 0, invalid: 0, unsupported: 0 };
    reports.push(report);
    const problem = (line: number, kind: RejectedLine['kind'], reason: string, text: string) => {
      rejected++;
      if (kind === 'invalid') report.invalid++;
      else report.unsupported++;
      if (rejections.length < maxReported) rejections.push({ source: source.name, file: source.file, line, kind, reason, text: cut(text) });
    };
    report.lines = await readLines(source.file, (text, line) => {
      if (text === null) {
        problem(line, 'invalid', 'line longer than 1 MiB (not a text list?)', '');
        return;
      }
      const parsed = parseListLine(source.format, text, exact);
      for (const entry of parsed.names) {
        hashName(entry.name, entry.exact, key);
        hi.push(key[0]);
        lo.push(key[1]);
        origin.push(entry.exact ? (index | WHY_EXACT_FLAG) >>> 0 : index);
        lines.push(line);
        report.names++;
      }
      for (const p of parsed.problems) problem(line, p.kind, p.reason, text);
    });
    onProgress({ phase: 'read', source: source.name, index, total: options.sources.length, names: report.names, problems: report.invalid + report.unsupported });
  }
  onProgress({ phase: 'sort', names: hi.length });

  // Sort by key; merge duplicates (OR the masks); one why record per (key, source).
  const n = hi.length;
  const order = sortKeys(hi.words, lo.words, n);
  const uHi = new Uint32Array(n);
  const uLo = new Uint32Array(n);
  const uMask = new Uint32Array(n);
  const why = new Uint8Array(WHY_HEADER_BYTES + n * WHY_RECORD_BYTES);
  const whyView = new DataView(why.buffer);
  const bitOf = options.sources.map((s) => CATEGORY_BIT[s.category]);
  let count = 0;
  let records = 0;
  let lastOrigin = -1;
  for (let i = 0; i < n; i++) {
    const at = order[i];
    const h = hi.words[at];
    const l = lo.words[at];
    const o = origin.words[at];
    const sourceIndex = o & ~WHY_EXACT_FLAG;
    if (count > 0 && uHi[count - 1] === h && uLo[count - 1] === l) {
      uMask[count - 1] |= bitOf[sourceIndex];
      if (o === lastOrigin) continue; // the same list names it again: its first line is the one kept
    } else {
      uHi[count] = h;
      uLo[count] = l;
      uMask[count] = bitOf[sourceIndex];
      count++;
    }
    lastOrigin = o;
    const offset = WHY_HEADER_BYTES + records * WHY_RECORD_BYTES;
    whyView.setUint32(offset, h, true);
    whyView.setUint32(offset + 4, l, true);
    whyView.setUint32(offset + 8, o, true);
    whyView.setUint32(offset + 12, lines.words[at], true);
    records++;
    reports[sourceIndex].distinct++;
  }

  const builtAt = Date.now();
  const sources: CatalogSource[] = reports.map((r) => ({ name: r.name, category: r.category, format: r.format, exact: r.exact, file: r.file, names: r.distinct }));
  const image = encodeCatalog({ hi: uHi, lo: uLo, mask: uMask, count, sources, builtAt, shared: false });
  const checksum = new DataView(image.buffer, image.byteOffset).getUint32(32, true);
  const whyBytes = why.subarray(0, WHY_HEADER_BYTES + records * WHY_RECORD_BYTES);
  encodeWhyHeader(whyBytes, records, checksum, builtAt);

  const whyFile = whyFileOf(options.outFile);
  onProgress({ phase: 'write', names: count });
  try {
    // The index first: a reader that sees the new catalog finds its index (a
    // reader of the old catalog meanwhile gets a clear "rebuild" from explainName).
    await writeAtomically(whyFile, [whyBytes]);
    await writeAtomically(options.outFile, [image]);
  } catch (error) {
    throw new CatalogError('io', `${options.outFile}: cannot write the catalog: ${(error as Error).message}`, [{ where: options.outFile, message: (error as Error).message }]);
  }
  const bytes = (await stat(options.outFile)).size;
  const tableBytes = new DataView(image.buffer, image.byteOffset).getUint32(28, true);
  return {
    outFile: options.outFile,
    whyFile,
    builtAt: new Date(builtAt).toISOString(),
    names: count,
    entriesRead: n,
    duplicatesMerged: n - count,
    sources: reports,
    rejected,
    rejections,
    bytes,
    tableBytes,
    bytesPerName: count ? tableBytes / count : 0,
    whyBytes: whyBytes.length,
    durationMs: Math.round(performance.now() - started),
  };
}

type WorkerReply = { ok: true; report: BuildReport } | { ok: false; code: CatalogError['code'] | null; message: string; issues: CatalogError['issues'] };

/**
 * Runs `buildCatalog` off the calling thread, so the build's arrays and
 * garbage never touch the serving heap. `isolation: 'thread'` (default) uses a
 * worker thread; `'process'` a child process, which also gives the build's
 * peak memory back to the system when it exits (a worker thread's freed
 * memory may stay in the process's allocator). Resolves with the report;
 * rejects with the build's CatalogError.
 */
export function buildCatalogInWorker(
  options: BuildOptions,
  { isolation = 'thread', onProgress }: { isolation?: 'thread' | 'process'; onProgress?: (progress: BuildProgress) => void } = {},
): Promise<BuildReport> {
  const script = new URL('./catalog-build.worker.ts', import.meta.url);
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (reply: WorkerReply | { progress: BuildProgress }) => {
      if ('progress' in reply) {
        onProgress?.(reply.progress);
        return;
      }
      if (settled) return;
      settled = true;
      if (reply.ok) resolve(reply.report);
      else if (reply.code) reject(new CatalogError(reply.code, reply.message, reply.issues));
      else reject(new Error(reply.message));
    };
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    const stopped = (code: number | null) => fail(new Error(`the catalog build ${isolation} stopped (exit code ${code}) without a report`));
    if (isolation === 'process') {
      const child = fork(fileURLToPath(script), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child.on('message', (reply) => settle(reply as WorkerReply));
      child.once('error', fail);
      child.once('exit', stopped);
      child.send(options);
      return;
    }
    const worker = new Worker(script, { workerData: options });
    worker.on('message', settle);
    worker.once('error', fail);
    worker.once('exit', stopped);
  });
}
