/**
 * The small parsers behind the policy's validation: domain entries, clock
 * times, forwarder addresses, timestamps. Each returns the normalised value or
 * a message that a network manager can act on; the zod schemas and the
 * service turn messages into issues that name the field.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/** A parse result: the normalised value, or what is wrong. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * A domain entry: a name that covers its subdomains, or `=name` for the name
 * alone. Lower-cased, trailing dot dropped, international names turned into
 * their ASCII (punycode) form, which is what DNS queries carry.
 */
export function parseDomainEntry(input: string): Parsed<string> {
  let text = input.trim();
  const exact = text.startsWith('=');
  if (exact) text = text.slice(1).trim();
  if (text === '') return { ok: false, message: 'must be a domain name such as example.com (or =example.com for that name alone)' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return { ok: false, message: 'write the name only, without http:// or https://' };
  if (text.startsWith('*.')) return { ok: false, message: `write ${text.slice(2)}: an entry already covers every subdomain` };
  if (/[\s/?#@]/.test(text)) return { ok: false, message: 'must be a domain name only: no spaces, paths or addresses' };
  if (text.endsWith('.')) text = text.slice(0, -1);
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIP(bare)) return { ok: false, message: 'is an IP address: entries are domain names' };
  if (/:\d+$/.test(text)) return { ok: false, message: 'must be a domain name without a port' };
  const ascii = /^[\x00-\x7f]*$/.test(text) ? text.toLowerCase() : domainToASCII(text);
  if (!ascii) return { ok: false, message: 'is not a valid domain name' };
  if (ascii.length > 253) return { ok: false, message: 'is longer than the 253 characters a domain name may have' };
  for (const label of ascii.split('.')) {
    if (label === '') return { ok: false, message: 'has an empty part (two dots together, or a leading dot)' };
    if (label.length > 63) return { ok: false, message: `has a part longer than 63 characters ("${label.slice(0, 20)}…")` };
    if (!LABEL.test(label)) return { ok: false, message: `has a part that is not allowed in a domain name ("${label}"): use letters, digits and hyphens, not at the start or end` };
  }
  return { ok: true, value: exact ? `=${ascii}` : ascii };
}

/** The name an entry stands for, without the exact-match mark. */
export const entryName = (entry: string) => (entry.startsWith('=') ? entry.slice(1) : entry);

/** `HH:MM` in 24-hour time; `24:00` only where the end of the day is meant. */
export function parseClockTime(input: string, options: { endOfDay: boolean }): Parsed<string> {
  if (options.endOfDay && input === '24:00') return { ok: true, value: input };
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(input)) {
    return { ok: false, message: options.endOfDay ? 'must be a time written HH:MM (00:00 to 24:00)' : 'must be a time written HH:MM (00:00 to 23:59)' };
  }
  return { ok: true, value: input };
}

/** Minutes since midnight of an `HH:MM` time. */
export const minutesOf = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/** A DNS server as `HOST:PORT`: an IPv4 address, or an IPv6 address in brackets, and a port. */
export function parseServerAddress(input: string): Parsed<string> {
  const text = input.trim();
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) return { ok: false, message: 'must be an address and port, such as 10.0.0.5:53 or [2001:db8::5]:53' };
  const host = match[1] ?? match[2];
  const port = Number(match[3]);
  if (match[1] !== undefined ? isIP(host) !== 6 : isIP(host) !== 4) {
    return { ok: false, message: 'must be an IP address (IPv6 in brackets) and port: a DNS server cannot be found by name' };
  }
  if (port < 1 || port > 65535) return { ok: false, message: 'has a port outside 1-65535' };
  return { ok: true, value: match[1] !== undefined ? `[${host.toLowerCase()}]:${port}` : `${host}:${port}` };
}

/** A date and time with its zone (`2026-03-01T15:30:00Z`, `…+01:00`), as the stored ISO UTC string. */
export function parseTimestamp(input: string): Parsed<string> {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(input)) {
    return { ok: false, message: 'must be a date and time with its zone, such as 2026-03-01T15:30:00Z' };
  }
  const at = new Date(input);
  if (Number.isNaN(at.getTime())) return { ok: false, message: 'is not a real date and time' };
  return { ok: true, value: at.toISOString() };
}
