/**
 * Small suffix sets for policy entries: allow, deny, never-block, a
 * sanction's allow list, safe-search engines. An entry `example.com` covers
 * the name and every subdomain; `=example.com` covers the name only. The
 * large category catalog is a different structure (`catalog.ts`); these sets
 * hold hundreds of entries, not millions.
 *
 * Matching walks the query name from its last label to its first, hashing the
 * suffix as it goes, so a lookup allocates nothing: no `split`, no `slice`.
 * Each hash bucket is confirmed with `endsWith` before it counts.
 */

/** A policy entry after normalising: lower case, no trailing dot, IDN turned into its `xn--` form. */
export interface NormalizedEntry {
  /** The name the entry is about. */
  name: string;
  /** True for `=name` entries, which cover the name only. */
  exact: boolean;
  /** The entry as it is shown in decisions: `name` or `=name`. */
  text: string;
}

const LABEL = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const IPV6 = /^[0-9a-f:.]+$/;

/**
 * Reads one policy entry, or returns null when it is not a usable domain name
 * (the policy module validates input with this before storing it). IP address
 * literals are accepted and are always treated as exact.
 */
export function normalizeDomainEntry(entry: string): NormalizedEntry | null {
  let text = entry.trim().toLowerCase();
  let exact = false;
  if (text.startsWith('=')) {
    exact = true;
    text = text.slice(1).trim();
  }
  if (text.endsWith('.')) text = text.slice(0, -1);
  if (text.length === 0 || text.length > 253) return null;
  if (text.includes(':')) {
    // IPv6 literal: valid when the URL parser accepts it; kept in its compressed form.
    if (!IPV6.test(text)) return null;
    try {
      text = new URL(`http://[${text}]/`).hostname.slice(1, -1);
    } catch {
      return null;
    }
    return { name: text, exact: true, text: `=${text}` };
  }
  if (IPV4.test(text)) {
    if (text.split('.').some((octet) => Number(octet) > 255)) return null;
    return { name: text, exact: true, text: `=${text}` };
  }
  // A name written in Unicode is matched in the form it has on the wire.
  if (/[^\x00-\x7f]/.test(text)) {
    try {
      text = new URL(`http://${text}/`).hostname;
    } catch {
      return null;
    }
  }
  if (!text.split('.').every((label) => LABEL.test(label))) return null;
  return { name: text, exact, text: exact ? `=${text}` : text };
}

/** The hash of a suffix, folded from its last character to its first (the order `match` walks in). */
function suffixHash(name: string): number {
  let h = 0;
  for (let i = name.length - 1; i >= 0; i--) h = (Math.imul(h, 31) + name.charCodeAt(i)) | 0;
  return h;
}

/** One name in a table and which lists hold it, as a subtree entry or an exact one. */
class Node<T> {
  readonly name: string;
  /** Lists holding `name` and its subdomains (bit per list). */
  subtree = 0;
  /** Lists holding `=name`. */
  exact = 0;
  readonly subtreeValue: (T | undefined)[] = [];
  readonly exactValue: (T | undefined)[] = [];
  /** The next node in the same hash bucket. */
  next: Node<T> | null = null;
  constructor(name: string) {
    this.name = name;
  }
}

/**
 * Up to 31 lists of entries in one table, so one walk over a query name
 * answers all of them (for a group: never-block, school allow, group allow,
 * school deny, group deny). Each entry carries a value chosen when the table
 * is built, typically a ready-made decision.
 */
export class DomainTable<T> {
  /** Entries that were not usable, with the index of their list. */
  readonly rejected: { list: number; entry: string }[] = [];
  /** Number of distinct names held. */
  readonly size: number;
  private readonly buckets = new Map<number, Node<T>>();
  private readonly found: (T | undefined)[] = [];

  /**
   * Builds the table. `value(list, entry)` gives the value a match in that list returns;
   * when a list repeats a name, the first entry wins.
   */
  constructor(lists: readonly (readonly string[])[], value: (list: number, entry: NormalizedEntry) => T) {
    if (lists.length > 31) throw new RangeError('a domain table holds at most 31 lists');
    let size = 0;
    lists.forEach((entries, list) => {
      const bit = 1 << list;
      for (const raw of entries) {
        const entry = normalizeDomainEntry(raw);
        if (!entry) {
          this.rejected.push({ list, entry: raw });
          continue;
        }
        const hash = suffixHash(entry.name);
        let node = this.buckets.get(hash) ?? null;
        while (node && node.name !== entry.name) node = node.next;
        if (!node) {
          node = new Node<T>(entry.name);
          node.next = this.buckets.get(hash) ?? null;
          this.buckets.set(hash, node);
          size++;
        }
        if (entry.exact) {
          if (!(node.exact & bit)) node.exactValue[list] = value(list, entry);
          node.exact |= bit;
        } else {
          if (!(node.subtree & bit)) node.subtreeValue[list] = value(list, entry);
          node.subtree |= bit;
        }
      }
    });
    this.size = size;
  }

  /**
   * Matches a query name (lower case, no trailing dot) against every list and
   * returns the bits of the lists that hold it. The most specific entry of
   * each matching list is then read with `value(list)`, valid until the next
   * `match`. `exactOnly` skips parent domains (used for IP addresses).
   */
  match(name: string, exactOnly = false): number {
    if (this.size === 0) return 0;
    const found = this.found;
    const n = name.length;
    let mask = 0;
    let h = 0;
    // i = -1 stands for the start of the name: the whole name is the last (most specific) suffix tried.
    for (let i = n - 1; i >= -1; i--) {
      const c = i >= 0 ? name.charCodeAt(i) : 46;
      if (c === 46 && i < n - 1 && (i === -1 || !exactOnly)) {
        const length = n - 1 - i;
        let node: Node<T> | null = this.buckets.get(h) ?? null;
        while (node) {
          if (node.name.length === length && name.endsWith(node.name)) {
            let bits = node.subtree;
            if (bits) for (let list = 0; bits >>> list; list++) if ((bits >>> list) & 1) found[list] = node.subtreeValue[list];
            if (i === -1 && node.exact) {
              bits = node.exact;
              for (let list = 0; bits >>> list; list++) if ((bits >>> list) & 1) found[list] = node.exactValue[list];
              mask |= bits;
            }
            mask |= node.subtree;
            break;
          }
          node = node.next;
        }
      }
      if (i >= 0) h = (Math.imul(h, 31) + c) | 0;
    }
    return mask;
  }

  /** The value of the most specific entry of `list` found by the last `match`. */
  value(list: number): T {
    return this.found[list] as T;
  }
}

/** A single list: answers which entry (as its text) covers a name, or null. */
export class DomainSet {
  private readonly table: DomainTable<string>;
  constructor(entries: readonly string[]) {
    this.table = new DomainTable<string>([entries], (_, entry) => entry.text);
  }
  /** Entries that were not usable. */
  get rejected(): readonly string[] {
    return this.table.rejected.map((r) => r.entry);
  }
  /** Number of distinct names held. */
  get size(): number {
    return this.table.size;
  }
  /** The most specific entry covering `name`, or null. */
  match(name: string): string | null {
    return this.table.match(name) ? this.table.value(0) : null;
  }
}
