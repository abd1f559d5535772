/**
 * A small in-memory rate limiter (fixed one-minute windows) for the sign-in
 * steps, keyed by address. In memory is enough: one process serves a school,
 * and a restart only forgives a minute's worth of tries (the per-account
 * lockout is in the database).
 */

/** Counts hits per key; `hit` says whether this one is still within the limit. */
export interface RateLimiter {
  hit(key: string, now?: number): { allowed: boolean; retryAfterSeconds: number };
}

/** A limiter allowing `perMinute` hits per key per minute. */
export function createRateLimiter(perMinute: number, windowMs = 60_000): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  let lastSweep = 0;
  return {
    hit(key, now = Date.now()) {
      // Forget old windows now and then, so many addresses cannot grow the map forever.
      if (now - lastSweep > windowMs) {
        for (const [k, w] of windows) if (now - w.start >= windowMs) windows.delete(k);
        lastSweep = now;
      }
      let window = windows.get(key);
      if (!window || now - window.start >= windowMs) {
        window = { start: now, count: 0 };
        windows.set(key, window);
      }
      window.count += 1;
      return { allowed: window.count <= perMinute, retryAfterSeconds: Math.ceil((window.start + windowMs - now) / 1000) };
    },
  };
}
