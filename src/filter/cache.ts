/**
 * The answer cache one filter worker shares between all its clients. It holds
 * UPSTREAM answers only, never anything decided per client: the policy runs
 * on every query, cached or not, and re-checks a cached answer's CNAME
 * targets and addresses like a fresh one. So a pupil and a member of staff
 * asking the same name share the upstream answer, and each gets their own
 * decision.
 *
 * Entries are the answer bytes as received, with the time stored and the TTL
 * to use; what is handed out is always a copy with its TTLs aged. Expired
 * entries stay for a stale window and are served (with TTL 30 s) only when
 * the caller says the upstreams failed (RFC 8767). A byte budget bounds
 * memory, evicting entries not used lately first.
 *
 * A hit is the hot path of every allowed query, so what a hit needs is worked
 * out once, when the answer is stored: where each record's TTL is (a hit
 * rewrites them without walking the message again) and the names and
 * addresses the policy re-checks (`targets`).
 */
import { type AnswerTargets, answerTargets, clientSubnetScope, fullRcode, isNegativeAnswer, minTtl, readTtl, ttlOffsets } from './message.ts';
import { RCODE, type Query } from './wire.ts';

/** Cache settings; every field has a default. */
export interface AnswerCacheOptions {
  /** Budget for stored answers plus a per-entry overhead estimate (default 32 MiB). */
  maxBytes?: number;
  /** Shortest time an answer is kept, in seconds, even if its TTL is lower (default 0). */
  minTtl?: number;
  /** Longest time a positive answer is kept (default 86400, one day). */
  maxTtl?: number;
  /** Longest time a negative answer (NXDOMAIN, NODATA) is kept (default 3600, RFC 2308 §5 suggests 1–3 h at most). */
  negativeTtl?: number;
  /** TTL of a negative answer without an SOA (default 60). */
  negativeDefaultTtl?: number;
  /** How long after expiry an entry may still be served stale when the upstreams fail, in seconds (default 86400; 0 turns serve-stale off). */
  staleSeconds?: number;
  /** TTL of a stale answer (default 30, RFC 8767 §4). */
  staleTtl?: number;
}

/** What `get` and `getStale` return. */
export interface CacheHit {
  /** A fresh copy of the answer with aged TTLs, the caller's to change. */
  answer: Uint8Array;
  /** True when served past its expiry because the upstreams failed. */
  stale: boolean;
  /** Seconds the answer has left (for a stale one: the stale TTL). */
  ttl: number;
  /** The CNAME/DNAME/SVCB target names and the addresses in its answer section (the same arrays on every hit: read them, do not change them); null when they could not be read. */
  targets: AnswerTargets | null;
}

/** Why `set` did or did not keep an answer. */
export type StoreOutcome = 'stored' | 'not_cacheable_rcode' | 'truncated' | 'client_subnet' | 'zero_ttl' | 'malformed' | 'too_large';

/** Counters for metrics, plain numbers. */
export interface CacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  staleHits: number;
  stores: number;
  /** Answers `set` refused (error RCODE, TC, client-subnet scope, TTL 0, malformed, too large). */
  rejected: number;
  /** Entries pushed out by the byte budget. */
  evictions: number;
  /** Entries dropped because their stale window ended. */
  expired: number;
}

/**
 * What an answer is cached under: the lower-case name, and the rest of the
 * question as one number (type, class, and the DO and CD bits: an answer
 * fetched with DNSSEC records or without validation must not be served to a
 * client that asked otherwise). Entries are found by name first, so a hit
 * never builds a key string.
 */
export interface CacheKey {
  name: string;
  variant: number;
}

/** The shared answer cache of one worker. */
export interface AnswerCache {
  /** A fresh (unexpired) answer, or null. Never returns stale answers. */
  get(key: CacheKey, nowMs: number): CacheHit | null;
  /** For when the upstreams failed: a fresh answer, or else an expired one still inside the stale window (`stale: true`, TTL 30 s). */
  getStale(key: CacheKey, nowMs: number): CacheHit | null;
  /** Stores a copy of an upstream answer, unless it must not be cached (see `StoreOutcome`). */
  set(key: CacheKey, answer: Uint8Array, nowMs: number): StoreOutcome;
  delete(key: CacheKey): boolean;
  clear(): void;
  /** Drops entries whose stale window has ended; returns how many. Call now and then (the byte budget bounds memory anyway). */
  prune(nowMs: number): number;
  stats(): CacheStats;
}

/** The key of a query's answer. */
export function cacheKey(query: Pick<Query, 'name' | 'qtype' | 'qclass' | 'checkingDisabled' | 'edns'>): CacheKey {
  return { name: query.name, variant: (query.qclass * 0x10000 + query.qtype) * 4 + (query.edns?.dnssecOk ? 2 : 0) + (query.checkingDisabled ? 1 : 0) };
}

/** Estimated bytes of a Map slot, the entry object and the key's string header, beyond the answer bytes and key characters. */
const ENTRY_OVERHEAD = 160;

interface Entry {
  variant: number;
  /**
   * The answer as received (its first `length` bytes), then for every record
   * but OPT the offset of its TTL field (2 bytes) and that TTL as received
   * (4 bytes), big-endian; one byte per character (latin1). A string costs
   * its bytes and a 16-byte header on the heap, where a typed array costs
   * about 200 bytes of objects and off-heap bookkeeping besides its bytes
   * (three of them per entry, before), for answers of 50 to 100 bytes.
   */
  data: string;
  length: number;
  storedAt: number;
  /** Seconds the entry is fresh for. */
  ttl: number;
  size: number;
  targets: AnswerTargets | null;
}

/** The entries of one name (one per variant, usually one or two). */
interface Slot {
  entries: Entry[];
  /** Used since eviction last passed it: it gets a second chance then. */
  used: boolean;
}

const AGE = 0;
const STALE = 1;

/** The targets of an answer with none (NODATA, NXDOMAIN), one object for all such entries (hits only read them; not frozen, so the hot loops over them see ordinary arrays). */
const NO_TARGETS: AnswerTargets = { names: [], addresses: [] };

function shareEmpty(targets: AnswerTargets | null): AnswerTargets | null {
  return targets && targets.names.length === 0 && targets.addresses.length === 0 ? NO_TARGETS : targets;
}

/** Creates an empty cache. */
export function createAnswerCache(options: AnswerCacheOptions = {}): AnswerCache {
  const maxBytes = options.maxBytes ?? 32 << 20;
  const minKeep = options.minTtl ?? 0;
  const maxKeep = options.maxTtl ?? 86_400;
  const negativeMax = options.negativeTtl ?? 3600;
  const negativeDefaultTtl = options.negativeDefaultTtl ?? 60;
  const staleWindow = options.staleSeconds ?? 86_400;
  const staleTtl = options.staleTtl ?? 30;
  const slots = new Map<string, Slot>();
  let count = 0;
  const stats: CacheStats = { entries: 0, bytes: 0, hits: 0, misses: 0, staleHits: 0, stores: 0, rejected: 0, evictions: 0, expired: 0 };

  const indexOf = (slot: Slot, variant: number) => {
    const entries = slot.entries;
    for (let i = 0; i < entries.length; i++) if (entries[i].variant === variant) return i;
    return -1;
  };
  const remove = (name: string, slot: Slot, index: number) => {
    stats.bytes -= slot.entries[index].size;
    count--;
    if (slot.entries.length === 1) slots.delete(name);
    else slot.entries.splice(index, 1);
  };
  const ageOf = (entry: Entry, nowMs: number) => Math.max(0, Math.floor((nowMs - entry.storedAt) / 1000));

  /**
   * A copy of the entry's answer with every TTL rewritten from the TTL as
   * received: `AGE` lowers it by `age`, never below 0, and caps it at `left`
   * (records whose TTL outlives the entry, after maxTtl or a negative cap,
   * say no more than it has left); `STALE` sets it to the stale TTL.
   */
  const copyWithTtls = (entry: Entry, mode: number, age: number, left: number): Uint8Array => {
    const { data, length } = entry;
    const answer = new Uint8Array(length);
    for (let i = 0; i < length; i++) answer[i] = data.charCodeAt(i);
    for (let t = length; t < data.length; t += 6) {
      const at = (data.charCodeAt(t) << 8) | data.charCodeAt(t + 1);
      const received = data.charCodeAt(t + 2) * 0x1000000 + ((data.charCodeAt(t + 3) << 16) | (data.charCodeAt(t + 4) << 8) | data.charCodeAt(t + 5));
      const ttl = mode === AGE ? Math.min(Math.max(0, received - age), left) : staleTtl;
      answer[at] = (ttl >>> 24) & 0xff;
      answer[at + 1] = (ttl >>> 16) & 0xff;
      answer[at + 2] = (ttl >>> 8) & 0xff;
      answer[at + 3] = ttl & 0xff;
    }
    return answer;
  };

  // A refused answer leaves any older entry alone: after a SERVFAIL, that entry is what serve-stale needs.
  const reject = (outcome: StoreOutcome): StoreOutcome => {
    stats.rejected++;
    return outcome;
  };

  /** A fresh entry; with `allowStale`, also one expired less than the stale window ago (RFC 8767). */
  const find = (key: CacheKey, nowMs: number, allowStale: boolean): CacheHit | null => {
    const slot = slots.get(key.name);
    const index = slot ? indexOf(slot, key.variant) : -1;
    if (index < 0) {
      stats.misses++;
      return null;
    }
    const entry = slot!.entries[index];
    const age = ageOf(entry, nowMs);
    if (age < entry.ttl) {
      slot!.used = true;
      stats.hits++;
      const left = entry.ttl - age;
      return { answer: copyWithTtls(entry, AGE, age, left), stale: false, ttl: left, targets: entry.targets };
    }
    if (age >= entry.ttl + staleWindow) {
      remove(key.name, slot!, index);
      stats.expired++;
      stats.misses++;
      return null;
    }
    if (!allowStale) {
      stats.misses++;
      return null;
    }
    slot!.used = true;
    stats.staleHits++;
    return { answer: copyWithTtls(entry, STALE, 0, 0), stale: true, ttl: staleTtl, targets: entry.targets };
  };

  return {
    get: (key, nowMs) => find(key, nowMs, false),
    getStale: (key, nowMs) => find(key, nowMs, true),

    set(key, answer, nowMs) {
      if (answer.length < 12 || (answer[2] & 0x80) === 0) return reject('malformed');
      if (answer[2] & 0x02) return reject('truncated');
      const rcode = fullRcode(answer);
      if (rcode < 0) return reject('malformed');
      // Only real answers are cached: SERVFAIL, REFUSED and the rest say something about the upstream, not the name.
      if (rcode !== RCODE.NOERROR && rcode !== RCODE.NXDOMAIN) return reject('not_cacheable_rcode');
      const scope = clientSubnetScope(answer);
      if (scope === -2) return reject('malformed');
      if (scope > 0) return reject('client_subnet'); // meant for one subnet only (RFC 7871 §7.3)
      const found = minTtl(answer, { negativeDefaultTtl });
      if (found < 0) return reject('malformed');
      const ttl = isNegativeAnswer(answer) ? Math.min(Math.max(found, minKeep), negativeMax) : Math.min(Math.max(found, minKeep), maxKeep);
      if (ttl <= 0) return reject('zero_ttl');
      const size = answer.length + key.name.length * 2 + ENTRY_OVERHEAD;
      if (size > maxBytes) return reject('too_large');
      const offsets = ttlOffsets(answer);
      if (!offsets) return reject('malformed');
      const length = answer.length;
      const bytes = Buffer.allocUnsafe(length + 6 * offsets.length);
      bytes.set(answer);
      for (let i = 0, t = length; i < offsets.length; i++, t += 6) {
        const at = offsets[i];
        bytes[t] = at >>> 8;
        bytes[t + 1] = at & 0xff;
        for (let b = 0; b < 4; b++) bytes[t + 2 + b] = answer[at + b];
        if (readTtl(answer, at) === 0) bytes.fill(0, t + 2, t + 6); // a TTL with the top bit set means 0 (RFC 2181 §8)
      }
      const entry: Entry = { variant: key.variant, data: bytes.toString('latin1'), length, storedAt: nowMs, ttl, size, targets: shareEmpty(answerTargets(answer)) };
      let slot = slots.get(key.name);
      if (!slot) {
        slot = { entries: [], used: false };
        slots.set(key.name, slot);
      }
      const old = indexOf(slot, key.variant);
      if (old >= 0) {
        stats.bytes -= slot.entries[old].size;
        slot.entries[old] = entry;
      } else {
        slot.entries.push(entry);
        count++;
      }
      stats.bytes += size;
      stats.stores++;
      // Evict by name in insertion order (a Map's), giving a name used since it was stored or last passed over
      // a second chance at the back: the CLOCK approximation of least recently used, where a hit only sets a flag.
      while (stats.bytes > maxBytes) {
        const oldest = slots.entries().next().value;
        if (!oldest) break;
        const [name, oldSlot] = oldest;
        if (oldSlot.used) {
          oldSlot.used = false;
          slots.delete(name);
          slots.set(name, oldSlot);
          continue;
        }
        remove(name, oldSlot, 0);
        stats.evictions++;
      }
      return 'stored';
    },

    delete(key) {
      const slot = slots.get(key.name);
      const index = slot ? indexOf(slot, key.variant) : -1;
      if (index < 0) return false;
      remove(key.name, slot!, index);
      return true;
    },

    clear() {
      slots.clear();
      count = 0;
      stats.bytes = 0;
    },

    prune(nowMs) {
      let dropped = 0;
      for (const [name, slot] of slots) {
        for (let i = slot.entries.length - 1; i >= 0; i--) {
          const entry = slot.entries[i];
          if (ageOf(entry, nowMs) >= entry.ttl + staleWindow) {
            remove(name, slot, i);
            dropped++;
          }
        }
      }
      stats.expired += dropped;
      return dropped;
    },

    stats() {
      return { ...stats, entries: count };
    },
  };
}
