/**
 * The closed set of decisions the filter makes about a query, and the rule
 * that made each. Every answer carries one; events record it.
 */
import type { CategoryKey } from './categories.ts';

export const DECISION_KINDS = ['allowed', 'blocked', 'safe_search', 'bypass_blocked', 'error'] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

/** Which rule decided, in precedence order (see docs/filter.md). */
export type DecisionRule =
  | 'illegal'
  | 'sanction'
  | 'exemption'
  | 'never_block'
  | 'allow_entry'
  | 'deny_entry'
  | 'category'
  | 'schedule'
  | 'filter_off'
  | 'safe_search'
  | 'bypass'
  | 'local' // answered locally: RFC 6303 reverse zones, DDR
  | 'upstream_answer' // a CNAME or address in the upstream answer was blocked
  | 'default'
  | 'refused'
  | 'error';

/** How a blocked query is answered. */
export type BlockAnswer = 'block_page' | 'nxdomain' | 'nodata';

export interface Decision {
  kind: DecisionKind;
  rule: DecisionRule;
  /** A sentence a person can read: "Blocked: gambling is blocked for Pupils". */
  reason: string;
  /** The category that decided, when one did. */
  category: CategoryKey | null;
  /** The list or policy entry that matched (the domain suffix), when one did. */
  matched: string | null;
  /** For blocked and bypass decisions: how to answer. Also set on `allowed` decisions with rule `local` (answered here with that empty answer, never forwarded). */
  answer?: BlockAnswer;
  /** For safe search: the safe host to answer with (as a CNAME) … */
  rewriteName?: string;
  /** … or fixed addresses (engines that publish an address, not a name). */
  rewriteAddresses?: string[];
  /** Largest TTL an allowed answer may carry (a scheduled category or an exemption ends soon). */
  ttlCap?: number;
}

/**
 * What the policy needs from the compiled catalog (`catalog.ts` implements it;
 * tests may pass a small one of their own).
 */
export interface CategoryLookup {
  /** The union of the category bits of every entry covering the name (exact-only entries count for the name itself only). */
  lookup(name: string): number;
  /** The most specific entry (the name itself or a parent domain) carrying any bit of `mask`, or null. Off the hot path. */
  matchedEntry(name: string, mask: number): string | null;
}
