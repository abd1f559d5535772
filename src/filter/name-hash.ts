/**
 * The 64-bit keys of the compiled catalog, and the canonical text of IP
 * addresses. Pure functions, no allocation on the paths the DNS engine uses.
 *
 * A name is hashed from its LAST character to its first, so the state after
 * reading `example.com` from the right is exactly the state the hash of
 * `www.example.com` passes through: one pass over a query name yields the key
 * of every suffix (`com`, `example.com`, `www.example.com`) in O(length).
 *
 * The state is two 32-bit lanes (`a`, `b`). Each character step is a bijection
 * of the 64-bit state (odd multiplies and xor-shifts between the lanes), so
 * distinct states never merge; a key is a bijective finalisation of the state
 * (murmur3's fmix32 on both lanes, crossed). Exact-only entries use the same
 * state with a different finalisation tweak, so the exact key of `x` is
 * unrelated to the subtree key of `x` and never matches a subdomain.
 *
 * Collision odds (keys behave as random 64-bit values for non-adversarial
 * names): with n names in the catalog, a probe falsely matches with
 * probability about n / 2^64. A query probes one key per label plus one exact
 * key, so for n = 2,000,000 and 10 probes a query is wrongly categorised with
 * probability ~1e-12: at 100 million queries a day, about once in 27 years.
 * Two different list names merging into one entry (their masks OR-ed) has
 * probability about n^2 / 2^65 ~ 1e-7 for the whole catalog. The hash is not
 * cryptographic: someone could craft a name that collides with a listed one,
 * which only gets their own name blocked.
 */

/** Initial value of lane a (with HASH_INIT_B, the state of the empty string). */
export const HASH_INIT_A = 0x6b43a9b5 | 0;
/** Initial value of lane b. */
export const HASH_INIT_B = 0x1f83d9ab | 0;
/** Odd multiplier of lane a in the character step (`Catalog.lookup` inlines the step). */
export const STEP_MUL_A = 0x9e3779b1 | 0;
/** Odd multiplier of lane b in the character step. */
export const STEP_MUL_B = 0x85ebca77 | 0;
/** Finalisation tweak of exact-only keys (0 for keys that cover subdomains). */
export const EXACT_TWEAK = 0x6a09e667 | 0;
const FINAL_MUL = 0xc2b2ae3d | 0;
const FINAL_XOR = 0x27d4eb2f | 0;

/** murmur3's 32-bit finaliser: a bijection with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** High word of the key of state (a, b); `tweak` is 0 or `EXACT_TWEAK`. Unsigned. */
export function keyHi(a: number, b: number, tweak: number): number {
  return fmix32(a ^ tweak ^ Math.imul(b, FINAL_MUL)) >>> 0;
}

/** Low word of the key of state (a, b), given its high word. Unsigned. */
export function keyLo(b: number, hi: number): number {
  return fmix32(b ^ hi ^ FINAL_XOR) >>> 0;
}

/**
 * Writes the key of `name` into out[offset] (high word) and out[offset + 1]
 * (low word). `name` must already be in catalog form (lower case, no trailing
 * dot); used by the builder and by explanations, not by the hot path.
 */
export function hashName(name: string, exact: boolean, out: Uint32Array, offset = 0): void {
  let a = HASH_INIT_A;
  let b = HASH_INIT_B;
  for (let i = name.length - 1; i >= 0; i--) {
    const c = name.charCodeAt(i);
    a = Math.imul(a ^ c, STEP_MUL_A);
    b = Math.imul(b ^ c, STEP_MUL_B);
    a ^= b >>> 15;
    b ^= (a << 11) | (a >>> 21);
  }
  const hi = keyHi(a, b, exact ? EXACT_TWEAK : 0);
  out[offset] = hi;
  out[offset + 1] = keyLo(b, hi);
}

/**
 * A stable LSD radix sort of n keys by (hi, lo) as unsigned 64-bit numbers:
 * returns the permutation (indices into hi/lo) in ascending key order; equal
 * keys keep their input order. Four passes of 16-bit digits, O(n), no
 * comparator calls, so millions of keys sort in tens of milliseconds.
 */
export function sortKeys(hi: Uint32Array, lo: Uint32Array, n: number): Uint32Array {
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let spare = new Uint32Array(n);
  const counts = new Uint32Array(65537);
  for (let pass = 0; pass < 4; pass++) {
    const words = pass < 2 ? lo : hi;
    const shift = pass % 2 === 0 ? 0 : 16;
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[((words[i] >>> shift) & 0xffff) + 1]++;
    for (let d = 1; d <= 65536; d++) counts[d] += counts[d - 1];
    for (let i = 0; i < n; i++) {
      const index = order[i];
      spare[counts[(words[index] >>> shift) & 0xffff]++] = index;
    }
    const swap = order;
    order = spare;
    spare = swap;
  }
  return order;
}

// ---------------------------------------------------------------------------
// IP addresses as catalog names. Lists name addresses (UT1 holds ~72,000), and
// the filter checks the addresses in upstream answers, so both sides must
// spell an address the same way: IPv4 dotted decimal without leading zeros,
// IPv6 per RFC 5952 (lower-case hex, no leading zeros, the longest run of two
// or more zero groups as `::`, the first on a tie, never dotted-quad form).

/** The canonical text of an IPv4 or IPv6 literal, or null when `text` is not one (zone ids and leading zeros are refused). */
export function canonicalIp(text: string): string | null {
  if (text.includes(':')) {
    const bytes = parseIpv6(text);
    return bytes ? ipText(bytes, 0, 16) : null;
  }
  const bytes = parseIpv4(text);
  return bytes ? ipText(bytes, 0, 4) : null;
}

/** Canonical text of the 4 (IPv4) or 16 (IPv6) address bytes at `offset`, as found in an A or AAAA record. */
export function ipText(bytes: Uint8Array, offset: number, length: 4 | 16): string {
  if (length === 4) return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[offset + i] << 8) | bytes[offset + i + 1]);
  // The longest run of at least two zero groups is written `::` (RFC 5952 §4.2).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** The 4 bytes of a dotted-decimal IPv4 address, or null (leading zeros are refused: some tools read them as octal). */
export function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    if (part.length === 0 || part.length > 3 || (part.length > 1 && part[0] === '0')) return null;
    let value = 0;
    for (let k = 0; k < part.length; k++) {
      const c = part.charCodeAt(k) - 48;
      if (c < 0 || c > 9) return null;
      value = value * 10 + c;
    }
    if (value > 255) return null;
    out[i] = value;
  }
  return out;
}

/** The 16 bytes of an IPv6 address (with an optional dotted IPv4 tail), or null. */
export function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return null;
      out.push(parseInt(piece, 16));
    }
    return out;
  };
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (!head || !tail) return null;
  // A dotted tail is only allowed at the very end.
  if (halves.length === 2 && halves[0].includes('.')) return null;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i] >> 8;
    out[2 * i + 1] = groups[i] & 0xff;
  }
  return out;
}
