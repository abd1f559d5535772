/**
 * A per-client token bucket: `rate` queries a second on average, bursts up
 * to `burst`. Keyed by the socket's address (never by client-subnet data,
 * which a client can forge). Memory is bounded: the table is cleared when it
 * holds too many clients, which only ever forgives.
 */
export interface RateLimiter {
  /** Whether a query from `key` may go on now; counts it. */
  allow(key: string, nowMs: number): boolean;
  /** Queries refused so far. */
  readonly limited: number;
}

const MAX_CLIENTS = 100_000;

export function createRateLimiter(options: { rate: number; burst: number }): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  let limited = 0;
  return {
    allow(key, nowMs) {
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= MAX_CLIENTS) buckets.clear();
        bucket = { tokens: options.burst, at: nowMs };
        buckets.set(key, bucket);
      } else {
        bucket.tokens = Math.min(options.burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * options.rate);
        bucket.at = nowMs;
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return true;
      }
      limited++;
      return false;
    },
    get limited() {
      return limited;
    },
  };
}
