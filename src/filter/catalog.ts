/**
 * The compiled category catalog: every list name as a 64-bit key with the
 * OR of its categories' bits, in ONE SharedArrayBuffer that the filter's
 * worker threads share without copies. The file on disk is byte for byte the
 * buffer, so loading is one read.
 *
 * File layout (format version 1). Header fields are little-endian; the
 * tables are in the machine's byte order, recorded by a marker and checked:
 *
 *   0  "SGCATALG"                  magic (8 bytes)
 *   8  u32 format version          1
 *  12  u32 header bytes            H: offset of the tables, a multiple of 8
 *  16  u32 metadata bytes          length of the JSON below
 *  20  u32 entry count             n (distinct keys)
 *  24  u32 directory bits          k (1..24): the directory has 2^k + 1 slots
 *  28  u32 body bytes              4 (2^k + 1) + 12 n
 *  32  u32 body CRC-32             of bytes H .. end
 *  36  u32 byte-order marker       0x01020304 written natively
 *  40  f64 build time              ms since the epoch
 *  48  u32 reserved                0
 *  52  u32 header CRC-32           of bytes 0..52 and 56..H
 *  56  JSON { categoryKeys, sources } then zero padding to H
 *   H  directory: u32 x (2^k + 1); slot b = first entry whose key's top k bits are >= b
 *      entries: u32 x 3n, (hi, lo, mask) per entry, sorted by (hi, lo) unsigned
 *
 * Memory: 12 bytes an entry plus 4 bytes per directory slot (about one slot
 * per 2-4 entries), so 13-14 bytes a name. A lookup hashes the name once from
 * the right (name-hash.ts) and probes each suffix's key: the top k bits pick
 * a bucket of ~4 entries, scanned in one or two cache lines.
 *
 * Exact-only entries (and IP addresses) have their own key (a different
 * finalisation of the same hash), probed for the whole name only, so they
 * never match a subdomain. A name that is both exact in one list and a
 * subtree entry in another has two entries.
 *
 * Beside the catalog, `<file>.why` lists, sorted by key, every (key, source,
 * line) the build saw, for "why is this blocked?" (`explainName`); it is read
 * by binary search on disk and never loaded into the serving process.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { CATEGORY_BIT, CATEGORY_KEYS, type CategoryKey, isCategoryKey } from './categories.ts';
import type { CategoryLookup } from './decision.ts';
import { canonicalIp, EXACT_TWEAK, HASH_INIT_A, HASH_INIT_B, hashName, keyHi, keyLo, sortKeys, STEP_MUL_A, STEP_MUL_B } from './name-hash.ts';

/** Building lives in catalog-build.ts; re-exported so callers that load catalogs can also compile them. */
export { buildCatalogInWorker } from './catalog-build.ts';

/** The catalog file format this code reads and writes. */
export const CATALOG_FORMAT_VERSION = 1;
const MAGIC = 'SGCATALG';
const WHY_MAGIC = 'SGCATWHY';
const WHY_FORMAT_VERSION = 1;
const FIXED_HEADER = 56;
const BYTE_ORDER_MARK = 0x01020304;
const MAX_DIR_BITS = 24;
/** The byte-order marker as this machine writes it. */
const NATIVE_MARK = new Uint8Array(new Uint32Array([BYTE_ORDER_MARK]).buffer);
/** Size of one record of the `.why` index: hi, lo, source (bit 31: exact), line. */
export const WHY_RECORD_BYTES = 16;
/** Size of the `.why` index header. */
export const WHY_HEADER_BYTES = 32;
/** Bit of a `.why` record's source word marking an exact-only entry. */
export const WHY_EXACT_FLAG = 0x80000000;

/** One list the catalog was built from (the header's source table). */
export interface CatalogSource {
  name: string;
  category: CategoryKey;
  /** The list format (`plain`, `hosts`, ...), or `entries` for an in-memory catalog. */
  format: string;
  /** Unmarked names of this source match only themselves. */
  exact: boolean;
  /** The list file as given to the build, or null. */
  file: string | null;
  /** Distinct names this source contributed. */
  names: number;
}

/** A problem with a catalog file or a build, with where it is. */
export class CatalogError extends Error {
  /** `corrupt`: damaged or not a catalog; `stale`: valid but built for another version or taxonomy (rebuild); `invalid`: bad build input; `io`: the file cannot be read. */
  readonly code: 'corrupt' | 'stale' | 'invalid' | 'io';
  /** Each problem with where it is (a file, `file:line` or an option). */
  readonly issues: { where: string; message: string }[];
  constructor(code: CatalogError['code'], message: string, issues: { where: string; message: string }[] = []) {
    super(message);
    this.name = 'CatalogError';
    this.code = code;
    this.issues = issues;
  }
}

interface Header {
  version: number;
  headerBytes: number;
  count: number;
  dirBits: number;
  bodyBytes: number;
  bodyCrc: number;
  builtAt: number;
  sources: CatalogSource[];
}

/**
 * The compiled catalog. Build one with `loadCatalog`, `catalogFromShared`,
 * `catalogFromEntries` or `emptyCatalog`; it never changes (a refresh builds
 * a new one and swaps the reference).
 */
export class Catalog implements CategoryLookup {
  /** The whole catalog (header and tables): post it to a worker and call `catalogFromShared` there. */
  readonly buffer: SharedArrayBuffer;
  /** Distinct names (keys). */
  readonly size: number;
  /** Bytes of the lookup tables (directory and entries). */
  readonly bytes: number;
  /** The lists it was built from. */
  readonly sources: readonly CatalogSource[];
  /** The file format version. */
  readonly version: number;
  /** When it was built (ISO 8601). */
  readonly builtAt: string;
  /** CRC-32 of the tables: identifies the contents (the `.why` index records it). */
  readonly checksum: number;
  private readonly dir: Uint32Array;
  private readonly table: Uint32Array;
  private readonly shift: number;

  /** Use the functions below; this trusts a checked header. */
  constructor(buffer: SharedArrayBuffer, header: Header) {
    this.buffer = buffer;
    this.size = header.count;
    this.bytes = header.bodyBytes;
    this.sources = Object.freeze(header.sources.map((s) => Object.freeze({ ...s })));
    this.version = header.version;
    this.builtAt = new Date(header.builtAt).toISOString();
    this.checksum = header.bodyCrc;
    const slots = 2 ** header.dirBits + 1;
    this.dir = new Uint32Array(buffer, header.headerBytes, slots);
    this.table = new Uint32Array(buffer, header.headerBytes + 4 * slots, 3 * header.count);
    this.shift = 32 - header.dirBits;
  }

  /**
   * The union of the category bits of every entry covering `name`: each
   * suffix's subtree entry, and the exact entry of the whole name. One pass
   * over the name, no allocation. Tolerates upper case and a trailing dot.
   */
  lookup(name: string): number {
    let end = name.length;
    if (end > 0 && name.charCodeAt(end - 1) === 0x2e) end--;
    if (end === 0) return 0; // the root is never listed
    let a = HASH_INIT_A;
    let b = HASH_INIT_B;
    let mask = 0;
    for (let i = end - 1; i >= 0; i--) {
      let c = name.charCodeAt(i);
      if (c === 0x2e) mask |= this.probe(a, b, 0); // the suffix right of this dot
      else if (c >= 0x41 && c <= 0x5a) c += 0x20;
      // The character step of name-hash.ts `hashName`, inlined.
      a = Math.imul(a ^ c, STEP_MUL_A);
      b = Math.imul(b ^ c, STEP_MUL_B);
      a ^= b >>> 15;
      b ^= (a << 11) | (a >>> 21);
    }
    return (mask | this.probe(a, b, 0) | this.probe(a, b, EXACT_TWEAK)) >>> 0;
  }

  /** The most specific entry (the name itself or a parent) carrying any bit of `mask`, as text, or null. */
  matchedEntry(name: string, mask: number): string | null {
    let end = name.length;
    if (end > 0 && name.charCodeAt(end - 1) === 0x2e) end--;
    if (end === 0 || mask === 0) return null;
    let a = HASH_INIT_A;
    let b = HASH_INIT_B;
    let best = -1;
    for (let i = end - 1; i >= 0; i--) {
      let c = name.charCodeAt(i);
      if (c === 0x2e) {
        if (this.probe(a, b, 0) & mask) best = i + 1; // later finds are longer suffixes
      } else if (c >= 0x41 && c <= 0x5a) c += 0x20;
      a = Math.imul(a ^ c, STEP_MUL_A);
      b = Math.imul(b ^ c, STEP_MUL_B);
      a ^= b >>> 15;
      b ^= (a << 11) | (a >>> 21);
    }
    if ((this.probe(a, b, 0) | this.probe(a, b, EXACT_TWEAK)) & mask) best = 0;
    return best < 0 ? null : name.slice(best, end).toLowerCase();
  }

  /** The mask of the entry with the key of hash state (a, b), or 0. */
  private probe(a: number, b: number, tweak: number): number {
    const hi = keyHi(a, b, tweak);
    const bucket = hi >>> this.shift;
    let from = this.dir[bucket];
    const to = this.dir[bucket + 1];
    if (from === to) return 0;
    const lo = keyLo(b, hi);
    const table = this.table;
    if (to - from > 8) {
      // Buckets hold ~4 keys; a long one (only if the hash misbehaves) is bisected.
      let high = to;
      while (from < high) {
        const mid = (from + high) >>> 1;
        const h = table[3 * mid];
        if (h < hi || (h === hi && table[3 * mid + 1] < lo)) from = mid + 1;
        else high = mid;
      }
    }
    for (let j = from; j < to; j++) {
      const e = 3 * j;
      const h = table[e];
      if (h === hi) {
        if (table[e + 1] === lo) return table[e + 2];
      } else if (h > hi) {
        return 0;
      }
    }
    return 0;
  }
}

/** Number of directory bits for n keys: about 4 keys a bucket. */
function directoryBits(count: number): number {
  let bits = 1;
  while (bits < MAX_DIR_BITS && 2 ** bits * 4 < count) bits++;
  return bits;
}

/**
 * Writes a catalog image from keys already sorted by (hi, lo) and distinct.
 * `shared`: back it with a SharedArrayBuffer (in-memory catalogs) or a plain
 * ArrayBuffer (the builder, which writes it to a file).
 */
export function encodeCatalog(input: {
  hi: Uint32Array;
  lo: Uint32Array;
  mask: Uint32Array;
  count: number;
  sources: CatalogSource[];
  builtAt: number;
  shared: boolean;
}): Uint8Array {
  const { hi, lo, mask, count } = input;
  const dirBits = directoryBits(count);
  const slots = 2 ** dirBits + 1;
  const meta = Buffer.from(JSON.stringify({ categoryKeys: CATEGORY_KEYS, sources: input.sources }), 'utf8');
  const headerBytes = Math.ceil((FIXED_HEADER + meta.length) / 8) * 8;
  const bodyBytes = 4 * slots + 12 * count;
  if (headerBytes + bodyBytes > 0x7fffffff) throw new CatalogError('invalid', `a catalog of ${count} names is larger than 2 GiB`);
  const total = headerBytes + bodyBytes;
  const buffer = input.shared ? new SharedArrayBuffer(total) : new ArrayBuffer(total);
  const bytes = new Uint8Array(buffer);
  const dir = new Uint32Array(buffer, headerBytes, slots);
  const table = new Uint32Array(buffer, headerBytes + 4 * slots, 3 * count);
  const shift = 32 - dirBits;
  let slot = 0;
  for (let i = 0; i < count; i++) {
    const bucket = hi[i] >>> shift;
    while (slot <= bucket) dir[slot++] = i;
    table[3 * i] = hi[i];
    table[3 * i + 1] = lo[i];
    table[3 * i + 2] = mask[i];
  }
  while (slot < slots) dir[slot++] = count;
  bytes.set(meta, FIXED_HEADER);
  const view = new DataView(buffer);
  for (let i = 0; i < 8; i++) bytes[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, CATALOG_FORMAT_VERSION, true);
  view.setUint32(12, headerBytes, true);
  view.setUint32(16, meta.length, true);
  view.setUint32(20, count, true);
  view.setUint32(24, dirBits, true);
  view.setUint32(28, bodyBytes, true);
  view.setUint32(32, crc32(bytes.subarray(headerBytes)), true);
  new Uint32Array(buffer, 36, 1)[0] = BYTE_ORDER_MARK;
  view.setFloat64(40, input.builtAt, true);
  view.setUint32(48, 0, true);
  view.setUint32(52, headerCrc(bytes, headerBytes), true);
  return bytes;
}

function headerCrc(bytes: Uint8Array, headerBytes: number): number {
  return crc32(bytes.subarray(FIXED_HEADER, headerBytes), crc32(bytes.subarray(0, 52)));
}

/**
 * Checks a catalog header. `bytes` holds at least the header; `fileSize` is
 * the whole file's size. Throws a CatalogError naming `where` and the fault.
 */
function readHeader(bytes: Uint8Array, fileSize: number, where: string): Header {
  const corrupt = (what: string) => new CatalogError('corrupt', `${where}: ${what}`, [{ where, message: what }]);
  const stale = (what: string) => new CatalogError('stale', `${where}: ${what}`, [{ where, message: what }]);
  if (fileSize < FIXED_HEADER) throw corrupt(`truncated: ${fileSize} bytes, shorter than a catalog header (${FIXED_HEADER} bytes)`);
  for (let i = 0; i < 8; i++) {
    if (bytes[i] !== MAGIC.charCodeAt(i)) throw corrupt('not a Schoolgate category catalog (wrong magic bytes)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  const headerBytes = view.getUint32(12, true);
  const metaBytes = view.getUint32(16, true);
  if (headerBytes % 8 !== 0 || headerBytes < FIXED_HEADER + metaBytes || headerBytes > FIXED_HEADER + metaBytes + 7) {
    throw corrupt(version === CATALOG_FORMAT_VERSION ? 'the header length fields are damaged' : `format version ${version} (or a damaged header): this Schoolgate reads version ${CATALOG_FORMAT_VERSION}; rebuild the catalog`);
  }
  if (fileSize < headerBytes || bytes.length < headerBytes) throw corrupt(`truncated: ${fileSize} bytes, the header alone needs ${headerBytes}`);
  if (headerCrc(bytes, headerBytes) !== view.getUint32(52, true)) {
    throw corrupt(version === CATALOG_FORMAT_VERSION ? 'header checksum mismatch: the file is damaged; rebuild it' : `format version ${version} (or a damaged header): this Schoolgate reads version ${CATALOG_FORMAT_VERSION}; rebuild the catalog`);
  }
  if (version !== CATALOG_FORMAT_VERSION) throw stale(`format version ${version}: this Schoolgate reads version ${CATALOG_FORMAT_VERSION}; rebuild the catalog`);
  if (NATIVE_MARK.some((byte, i) => bytes[36 + i] !== byte)) {
    throw stale('built on a machine of the other byte order; rebuild it here');
  }
  let meta: { categoryKeys?: unknown; sources?: unknown };
  try {
    meta = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + FIXED_HEADER, metaBytes).toString('utf8'));
  } catch {
    throw corrupt('the header metadata is not valid JSON');
  }
  const keys = meta.categoryKeys;
  if (!Array.isArray(keys) || keys.length !== CATEGORY_KEYS.length || keys.some((k, i) => k !== CATEGORY_KEYS[i])) {
    throw stale(
      `built with categories [${Array.isArray(keys) ? keys.join(', ') : '?'}] but this Schoolgate has [${CATEGORY_KEYS.join(', ')}]: rebuild the catalog from its lists`,
    );
  }
  if (!Array.isArray(meta.sources) || !meta.sources.every(isSource)) throw corrupt('the source table in the header is malformed');
  const count = view.getUint32(20, true);
  const dirBits = view.getUint32(24, true);
  const bodyBytes = view.getUint32(28, true);
  if (dirBits < 1 || dirBits > MAX_DIR_BITS || bodyBytes !== 4 * (2 ** dirBits + 1) + 12 * count) throw corrupt('the table sizes in the header are inconsistent');
  const expected = headerBytes + bodyBytes;
  if (fileSize < expected) throw corrupt(`truncated: ${fileSize} bytes, expected ${expected} for ${count} names`);
  if (fileSize > expected) throw corrupt(`${fileSize - expected} unexpected bytes after the tables (expected ${expected} bytes)`);
  return {
    version,
    headerBytes,
    count,
    dirBits,
    bodyBytes,
    bodyCrc: view.getUint32(32, true),
    builtAt: view.getFloat64(40, true),
    sources: meta.sources as CatalogSource[],
  };
}

function isSource(value: unknown): value is CatalogSource {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  return (
    typeof s.name === 'string' &&
    typeof s.category === 'string' &&
    isCategoryKey(s.category) &&
    typeof s.format === 'string' &&
    typeof s.exact === 'boolean' &&
    (s.file === null || typeof s.file === 'string') &&
    typeof s.names === 'number'
  );
}

/** Checks the directory: it starts at 0, never decreases and ends at the entry count. */
function checkDirectory(buffer: SharedArrayBuffer, header: Header, where: string) {
  const slots = 2 ** header.dirBits + 1;
  const dir = new Uint32Array(buffer, header.headerBytes, slots);
  let previous = 0;
  for (let i = 0; i < slots; i++) {
    if (dir[i] < previous || dir[i] > header.count) throw new CatalogError('corrupt', `${where}: the bucket directory is damaged`, [{ where, message: 'bucket directory' }]);
    previous = dir[i];
  }
  if (dir[0] !== 0 || dir[slots - 1] !== header.count) throw new CatalogError('corrupt', `${where}: the bucket directory is damaged`, [{ where, message: 'bucket directory' }]);
}

/**
 * Reads a catalog file straight into a SharedArrayBuffer (one read, no copy)
 * and checks it: header, sizes, both checksums, the directory. Throws a
 * CatalogError naming the file and the fault; never returns a wrong catalog.
 */
export function loadCatalog(file: string): Catalog {
  let buffer: SharedArrayBuffer;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new CatalogError('io', `${file}: cannot open the catalog: ${(error as Error).message}`, [{ where: file, message: (error as Error).message }]);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > 0x7fffffff) throw new CatalogError('corrupt', `${file}: ${size} bytes is larger than any catalog this Schoolgate writes`);
    buffer = new SharedArrayBuffer(size);
    const view = new Uint8Array(buffer);
    let done = 0;
    while (done < size) {
      const read = readSync(fd, view, done, size - done, done);
      if (read === 0) break;
      done += read;
    }
    if (done < size) throw new CatalogError('corrupt', `${file}: the file shrank while it was read (${done} of ${size} bytes)`);
  } catch (error) {
    if (error instanceof CatalogError) throw error;
    throw new CatalogError('io', `${file}: cannot read the catalog: ${(error as Error).message}`, [{ where: file, message: (error as Error).message }]);
  } finally {
    closeSync(fd);
  }
  const bytes = new Uint8Array(buffer);
  const header = readHeader(bytes, bytes.length, file);
  if (crc32(bytes.subarray(header.headerBytes)) !== header.bodyCrc) {
    throw new CatalogError('corrupt', `${file}: table checksum mismatch: the file is damaged; rebuild it`, [{ where: file, message: 'table checksum mismatch' }]);
  }
  checkDirectory(buffer, header, file);
  return new Catalog(buffer, header);
}

/**
 * Wraps a catalog buffer received from another thread. Checks the header and
 * directory but not the table checksum (the thread that loaded it did).
 */
export function catalogFromShared(buffer: SharedArrayBuffer): Catalog {
  const bytes = new Uint8Array(buffer);
  const header = readHeader(bytes, bytes.length, 'shared catalog');
  checkDirectory(buffer, header, 'shared catalog');
  return new Catalog(buffer, header);
}

/** An entry of an in-memory catalog (tests, small built-in lists). */
export interface CatalogEntryInput {
  name: string;
  category: CategoryKey;
  /** Matches only the name itself (IP addresses always do). */
  exact?: boolean;
}

/**
 * Builds a catalog in memory, same layout as a file, backed by a
 * SharedArrayBuffer. Names are lower-cased, a trailing dot dropped and IP
 * addresses written canonically; they are otherwise taken as given (so a
 * test can list a name with `\ddd` escapes as the wire parser writes them).
 */
export function catalogFromEntries(entries: readonly CatalogEntryInput[], builtAt = Date.now()): Catalog {
  const n = entries.length;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const bits = new Uint32Array(n);
  const key = new Uint32Array(2);
  const perCategory = new Map<CategoryKey, number>();
  entries.forEach((entry, i) => {
    if (!isCategoryKey(entry.category)) throw new CatalogError('invalid', `entry ${i}: unknown category '${entry.category}'`);
    let name = entry.name.toLowerCase();
    if (name.endsWith('.')) name = name.slice(0, -1);
    if (name === '') throw new CatalogError('invalid', `entry ${i}: empty name`);
    const ip = canonicalIp(name);
    hashName(ip ?? name, ip !== null || entry.exact === true, key);
    hi[i] = key[0];
    lo[i] = key[1];
    bits[i] = CATEGORY_BIT[entry.category];
    perCategory.set(entry.category, (perCategory.get(entry.category) ?? 0) + 1);
  });
  const order = sortKeys(hi, lo, n);
  const uHi = new Uint32Array(n);
  const uLo = new Uint32Array(n);
  const uMask = new Uint32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const index = order[i];
    if (count > 0 && uHi[count - 1] === hi[index] && uLo[count - 1] === lo[index]) {
      uMask[count - 1] |= bits[index];
      continue;
    }
    uHi[count] = hi[index];
    uLo[count] = lo[index];
    uMask[count] = bits[index];
    count++;
  }
  const sources: CatalogSource[] = [...perCategory].map(([category, names]) => ({ name: `entries:${category}`, category, format: 'entries', exact: false, file: null, names }));
  const bytes = encodeCatalog({ hi: uHi, lo: uLo, mask: uMask, count, sources, builtAt, shared: true });
  return catalogFromShared(bytes.buffer as SharedArrayBuffer);
}

/** A catalog with no names (before any list has been compiled). */
export function emptyCatalog(): Catalog {
  return catalogFromEntries([], 0);
}

// ---------------------------------------------------------------------------
// "Why is this blocked?": the `.why` index beside the catalog.
//
//   0  "SGCATWHY"        magic (8 bytes)
//   8  u32 version       1
//  12  u32 record count  r
//  16  u32 catalog CRC   the catalog's table checksum (ties the two files)
//  20  u32 records CRC   of bytes 32..end
//  24  f64 build time    same as the catalog's
//  32  records, 16 bytes each, little-endian, sorted by (hi, lo, source, line):
//      u32 hi, u32 lo, u32 source index (bit 31: exact entry), u32 line (1-based)
//
// One record per (key, source): the first line of that source listing it.

/** The path of the `.why` index of a catalog file. */
export function whyFileOf(catalogFile: string): string {
  return `${catalogFile}.why`;
}

/** Writes the `.why` header into the first WHY_HEADER_BYTES of `bytes` (records already in place after it). */
export function encodeWhyHeader(bytes: Uint8Array, records: number, catalogChecksum: number, builtAt: number) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < 8; i++) bytes[i] = WHY_MAGIC.charCodeAt(i);
  view.setUint32(8, WHY_FORMAT_VERSION, true);
  view.setUint32(12, records, true);
  view.setUint32(16, catalogChecksum, true);
  view.setUint32(20, crc32(bytes.subarray(WHY_HEADER_BYTES, WHY_HEADER_BYTES + records * WHY_RECORD_BYTES)), true);
  view.setFloat64(24, builtAt, true);
}

/** One list line that covers a name. */
export interface Explanation {
  /** The entry as matched: the name itself or the parent domain the list names. */
  entry: string;
  /** The source (list) name. */
  source: string;
  /** The list file, when the catalog was built from files. */
  file: string | null;
  category: CategoryKey;
  /** 1-based line number in the (decompressed) list file. */
  line: number;
  /** The entry matches only that exact name. */
  exact: boolean;
  /** `name`: the entry is the name asked about; `parent`: a parent domain covering it. */
  via: 'name' | 'parent';
}

/**
 * Every list line that puts `name` in a category: entries for the name itself
 * (subtree and exact) and for each parent domain, most specific first. Reads
 * the catalog's header and binary-searches `<catalogFile>.why` on disk.
 */
export async function explainName(catalogFile: string, name: string): Promise<Explanation[]> {
  const whyFile = whyFileOf(catalogFile);
  let catalogHandle;
  try {
    catalogHandle = await open(catalogFile, 'r');
  } catch (error) {
    throw new CatalogError('io', `${catalogFile}: cannot open the catalog: ${(error as Error).message}`);
  }
  let header: Header;
  try {
    const size = (await catalogHandle.stat()).size;
    const first = Buffer.alloc(FIXED_HEADER);
    await catalogHandle.read(first, 0, FIXED_HEADER, 0);
    const headerBytes = Math.min(first.readUInt32LE(12), size, 1 << 26);
    const whole = Buffer.alloc(Math.max(FIXED_HEADER, headerBytes));
    await catalogHandle.read(whole, 0, whole.length, 0);
    header = readHeader(new Uint8Array(whole.buffer, whole.byteOffset, whole.length), size, catalogFile);
  } finally {
    await catalogHandle.close();
  }

  let whyHandle;
  try {
    whyHandle = await open(whyFile, 'r');
  } catch (error) {
    throw new CatalogError('io', `${whyFile}: cannot open the why index: ${(error as Error).message}; rebuild the catalog`);
  }
  try {
    const size = (await whyHandle.stat()).size;
    const head = Buffer.alloc(WHY_HEADER_BYTES);
    await whyHandle.read(head, 0, WHY_HEADER_BYTES, 0);
    const fault = (what: string) => new CatalogError('corrupt', `${whyFile}: ${what}`, [{ where: whyFile, message: what }]);
    if (size < WHY_HEADER_BYTES || head.toString('latin1', 0, 8) !== WHY_MAGIC) throw fault('not a catalog why index (wrong magic bytes or truncated)');
    if (head.readUInt32LE(8) !== WHY_FORMAT_VERSION) throw fault(`format version ${head.readUInt32LE(8)}; rebuild the catalog`);
    const records = head.readUInt32LE(12);
    if (size !== WHY_HEADER_BYTES + records * WHY_RECORD_BYTES) throw fault(`${size} bytes, expected ${WHY_HEADER_BYTES + records * WHY_RECORD_BYTES} for ${records} records (truncated?)`);
    if (head.readUInt32LE(16) !== header.bodyCrc || head.readDoubleLE(24) !== header.builtAt) {
      throw new CatalogError('stale', `${whyFile}: does not belong to ${catalogFile} (another build); rebuild the catalog`);
    }

    let target = name.toLowerCase();
    if (target.endsWith('.')) target = target.slice(0, -1);
    const ip = canonicalIp(target);
    if (ip) target = ip;
    if (target === '') return [];

    const record = Buffer.alloc(WHY_RECORD_BYTES);
    const key = new Uint32Array(2);
    const results: Explanation[] = [];
    const readRecord = async (index: number) => {
      await whyHandle.read(record, 0, WHY_RECORD_BYTES, WHY_HEADER_BYTES + index * WHY_RECORD_BYTES);
      return { hi: record.readUInt32LE(0), lo: record.readUInt32LE(4), source: record.readUInt32LE(8), line: record.readUInt32LE(12) };
    };
    const find = async (entry: string, exact: boolean, via: Explanation['via']) => {
      hashName(entry, exact, key);
      const [hi, lo] = [key[0], key[1]];
      let from = 0;
      let to = records;
      while (from < to) {
        const mid = (from + to) >>> 1;
        const r = await readRecord(mid);
        if (r.hi < hi || (r.hi === hi && r.lo < lo)) from = mid + 1;
        else to = mid;
      }
      for (let i = from; i < records; i++) {
        const r = await readRecord(i);
        if (r.hi !== hi || r.lo !== lo) break;
        const sourceIndex = r.source & ~WHY_EXACT_FLAG;
        const source = header.sources[sourceIndex];
        if (!source) throw fault(`record ${i} names source ${sourceIndex}, but the catalog has ${header.sources.length}`);
        results.push({ entry, source: source.name, file: source.file, category: source.category, line: r.line, exact: (r.source & WHY_EXACT_FLAG) !== 0, via });
      }
    };
    await find(target, false, 'name');
    await find(target, true, 'name');
    if (ip) return results; // an address has no parent domains
    for (let dot = target.indexOf('.'); dot >= 0; dot = target.indexOf('.', dot + 1)) {
      if (dot + 1 < target.length) await find(target.slice(dot + 1), false, 'parent');
    }
    return results;
  } finally {
    await whyHandle.close();
  }
}
