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
 * memory, evicting the least recently used entry first.
 */
import { ageTtls, capTtls, clientSubnetScope, fullRcode, isNegativeAnswer, minTtl, setTtls } from './message.ts';
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

/** The shared answer cache of one worker. */
export interface AnswerCache {
  /** A fresh (unexpired) answer, or null. Never returns stale answers. */
  get(key: string, nowMs: number): CacheHit | null;
  /** For when the upstreams failed: a fresh answer, or else an expired one still inside the stale window (`stale: true`, TTL 30 s). */
  getStale(key: string, nowMs: number): CacheHit | null;
  /** Stores a copy of an upstream answer, unless it must not be cached (see `StoreOutcome`). */
  set(key: string, answer: Uint8Array, nowMs: number): StoreOutcome;
  delete(key: string): boolean;
  clear(): void;
  /** Drops entries whose stale window has ended; returns how many. Call now and then (the byte budget bounds memory anyway). */
  prune(nowMs: number): number;
  stats(): CacheStats;
}

/**
 * The cache key of a query: lower-case name, type, class, and the DO and CD
 * bits (an answer fetched with DNSSEC records or without validation must not
 * be served to a client that asked otherwise).
 */
export function cacheKey(query: Pick<Query, 'name' | 'qtype' | 'qclass' | 'checkingDisabled' | 'edns'>): string {
  return `${query.name}|${query.qtype}|${query.qclass}|${query.edns?.dnssecOk ? 1 : 0}${query.checkingDisabled ? 1 : 0}`;
}

/** Estimated bytes of a Map slot, the entry object and the key's string header, beyond the answer bytes and key characters. */
const ENTRY_OVERHEAD = 160;

interface Entry {
  answer: Uint8Array;
  storedAt: number;
  /** Seconds the entry is fresh for. */
  ttl: number;
  size: number;
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
  const entries = new Map<string, Entry>();
  const stats: CacheStats = { entries: 0, bytes: 0, hits: 0, misses: 0, staleHits: 0, stores: 0, rejected: 0, evictions: 0, expired: 0 };

  const remove = (key: string, entry: Entry) => {
    entries.delete(key);
    stats.bytes -= entry.size;
  };
  const ageOf = (entry: Entry, nowMs: number) => Math.max(0, Math.floor((nowMs - entry.storedAt) / 1000));

  /** Re-inserting moves the key to the end of the Map's order: the most recently used. */
  const touch = (key: string, entry: Entry) => {
    entries.delete(key);
    entries.set(key, entry);
  };

  const fresh = (key: string, entry: Entry, age: number): CacheHit => {
    touch(key, entry);
    stats.hits++;
    const answer = new Uint8Array(entry.answer);
    const left = entry.ttl - age;
    ageTtls(answer, age);
    capTtls(answer, left); // records whose TTL outlives the entry (maxTtl, negative caps) say no more than it has left
    return { answer, stale: false, ttl: left };
  };

  // A refused answer leaves any older entry alone: after a SERVFAIL, that entry is what serve-stale needs.
  const reject = (outcome: StoreOutcome): StoreOutcome => {
    stats.rejected++;
    return outcome;
  };

  /** A fresh entry; with `allowStale`, also one expired less than the stale window ago (RFC 8767). */
  const find = (key: string, nowMs: number, allowStale: boolean): CacheHit | null => {
    const entry = entries.get(key);
    if (!entry) {
      stats.misses++;
      return null;
    }
    const age = ageOf(entry, nowMs);
    if (age < entry.ttl) return fresh(key, entry, age);
    if (age >= entry.ttl + staleWindow) {
      remove(key, entry);
      stats.expired++;
      stats.misses++;
      return null;
    }
    if (!allowStale) {
      stats.misses++;
      return null;
    }
    touch(key, entry);
    stats.staleHits++;
    const answer = new Uint8Array(entry.answer);
    setTtls(answer, staleTtl);
    return { answer, stale: true, ttl: staleTtl };
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
      const size = answer.length + key.length * 2 + ENTRY_OVERHEAD;
      if (size > maxBytes) return reject('too_large');

      const old = entries.get(key);
      if (old) remove(key, old);
      entries.set(key, { answer: new Uint8Array(answer), storedAt: nowMs, ttl, size });
      stats.bytes += size;
      stats.stores++;
      // Evict least recently used first: a Map iterates in insertion order and hits re-insert.
      while (stats.bytes > maxBytes) {
        const oldest = entries.entries().next().value;
        if (!oldest) break;
        remove(oldest[0], oldest[1]);
        stats.evictions++;
      }
      return 'stored';
    },

    delete(key) {
      const entry = entries.get(key);
      if (!entry) return false;
      remove(key, entry);
      return true;
    },

    clear() {
      entries.clear();
      stats.bytes = 0;
    },

    prune(nowMs) {
      let dropped = 0;
      for (const [key, entry] of entries) {
        if (ageOf(entry, nowMs) >= entry.ttl + staleWindow) {
          remove(key, entry);
          dropped++;
        }
      }
      stats.expired += dropped;
      return dropped;
    },

    stats() {
      return { ...stats, entries: entries.size };
    },
  };
}
