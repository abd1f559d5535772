/**
 * IP addresses and CIDR ranges, IPv4 and IPv6, written out by hand so the
 * rules are ours: a range must be written as its network address (`10.1.0.0/16`,
 * not `10.1.2.3/16`: host bits set are refused, with the fix in the message),
 * and IPv6 is stored in its canonical RFC 5952 text so equal ranges compare equal.
 */

/** A parsed address: family and value as a big integer. */
export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

/** A parsed, normalised CIDR range. */
export interface Cidr extends IpAddress {
  prefix: number;
  /** Canonical text, e.g. `10.1.0.0/16`, `2001:db8::/32`. */
  text: string;
}

/** The result of parsing user input: a range, or a message saying what is wrong. */
export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; message: string };

const BITS = { 4: 32, 6: 128 } as const;
const MAPPED_PREFIX = 0xffffn << 32n; // ::ffff:0:0/96, IPv4-mapped IPv6

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    // Leading zeros are refused: some tools read them as octal, so `010` is ambiguous.
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  if (text.includes('%')) return undefined; // zone ids belong to one host's interface, not a range
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): number[] | undefined => {
    if (half === '') return [];
    const parts = half.split(':');
    const groups: number[] = [];
    for (let i = 0; i < parts.length; i += 1) {
      const part = parts[i];
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === undefined) return undefined;
        groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
        groups.push(parseInt(part, 16));
      }
    }
    return groups;
  };
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (!head || !tail) return undefined;
  // An embedded IPv4 part may only come last.
  if (halves.length === 2 && halves[0].includes('.')) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses an IPv4 or IPv6 address (no prefix); undefined when it is not one. */
export function parseIp(text: string): IpAddress | undefined {
  const trimmed = text.trim();
  if (trimmed.includes(':')) {
    const value = parseIpv6(trimmed.replace(/%[^%]*$/, '')); // a zone id on an address is harmless
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseIpv4(trimmed);
  return value === undefined ? undefined : { family: 4, value };
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

function formatIpv6(value: bigint): string {
  if (value >> 32n === 0xffffn) return `::ffff:${formatIpv4(value & 0xffffffffn)}`;
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
  // RFC 5952: compress the longest run of two or more zero groups (the first on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Formats an address in canonical text (RFC 5952 for IPv6). */
export function formatIp(ip: IpAddress): string {
  return ip.family === 4 ? formatIpv4(ip.value) : formatIpv6(ip.value);
}

function maskOf(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

/**
 * Parses a CIDR range such as `10.10.0.0/16` or `2001:db8::/48`. A bare
 * address is a one-host range (`/32` or `/128`). Host bits set after the
 * prefix are REFUSED (not silently normalised): `10.1.2.3/16` may be a typo
 * in the prefix as easily as in the address, so the message names the range
 * it would be and lets the person choose.
 */
export function parseCidr(input: string): CidrParse {
  const text = input.trim();
  if (!text) return { ok: false, message: 'Enter a range such as 10.10.0.0/16 or 2001:db8::/48' };
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseIp(addressText);
  if (!address || addressText.includes('%')) {
    return { ok: false, message: `"${addressText}" is not an IPv4 or IPv6 address` };
  }
  const maxPrefix = BITS[address.family];
  let prefix: number = maxPrefix;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
      return { ok: false, message: `The prefix length "/${prefixText}" must be a number from 0 to ${maxPrefix} for IPv${address.family}` };
    }
    prefix = Number(prefixText);
  }
  const mask = maskOf(address.family, prefix);
  const network = address.value & mask;
  const canonical = `${formatIp({ family: address.family, value: network })}/${prefix}`;
  if (network !== address.value) {
    return {
      ok: false,
      message: `${text} has host bits set after the /${prefix} prefix: the range is ${canonical} (enter that, or check the prefix length)`,
    };
  }
  return { ok: true, cidr: { family: address.family, value: network, prefix, text: canonical } };
}

/** Whether a parsed range contains an address (IPv4-mapped IPv6 addresses count as IPv4). */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  const address = unmap(ip);
  if (address.family !== cidr.family) return false;
  return (address.value & maskOf(cidr.family, cidr.prefix)) === cidr.value;
}

/** `::ffff:10.1.2.3` is the IPv4 address 10.1.2.3 as a dual-stack socket reports it. */
function unmap(ip: IpAddress): IpAddress {
  if (ip.family === 6 && ip.value >> 32n === MAPPED_PREFIX >> 32n) {
    return { family: 4, value: ip.value & 0xffffffffn };
  }
  return ip;
}

// Networks change rarely and are matched on every DNS query: parse each text once.
const parsedCache = new Map<string, Cidr | null>();
function cachedCidr(text: string): Cidr | null {
  let cidr = parsedCache.get(text);
  if (cidr === undefined) {
    const parsed = parseCidr(text);
    cidr = parsed.ok ? parsed.cidr : null;
    if (parsedCache.size > 10_000) parsedCache.clear();
    parsedCache.set(text, cidr);
  }
  return cidr;
}

/**
 * The most specific network (longest prefix) whose range contains `ip`, or
 * undefined. Works for IPv4, IPv6 and IPv4-mapped IPv6 addresses; ranges that
 * do not parse are skipped.
 */
export function matchNetwork<T extends { cidr: string }>(networks: readonly T[], ip: string): T | undefined {
  const address = parseIp(ip);
  if (!address) return undefined;
  let best: T | undefined;
  let bestPrefix = -1;
  for (const network of networks) {
    const cidr = cachedCidr(network.cidr);
    if (cidr && cidr.prefix > bestPrefix && cidrContains(cidr, address)) {
      best = network;
      bestPrefix = cidr.prefix;
    }
  }
  return best;
}
