/**
 * The category taxonomy as the DNS engine sees it: a fixed key per category
 * and its bit in a 32-bit mask. The order is part of the compiled catalog's
 * format (a catalog records the keys it was built with and is refused when
 * they differ), so new categories are appended, never inserted.
 *
 * Names a head can read, descriptions and audience defaults belong to the
 * lists module; the engine needs only keys and bits.
 */
export const CATEGORY_KEYS = [
  'illegal', // IWF / CTIRU lists: can never be switched off
  'pornography',
  'discrimination',
  'drugs',
  'extremism',
  'gambling',
  'malware',
  'phishing',
  'piracy',
  'self_harm',
  'violence',
  'social_networks',
  'chat',
  'games',
  'dating',
  'streaming',
  'vpn_proxy',
  'public_dns', // public DNS-over-HTTPS/TLS resolvers: a way round the filter
  'ai_chat',
  'shopping',
  'advertising',
  'adult_themes',
  'file_sharing',
  'remote_access',
  'custom', // the school's own block lists, and `schoolgate filter serve --block-list`
] as const;

export type CategoryKey = (typeof CATEGORY_KEYS)[number];

/** Bit of each category in a mask. */
export const CATEGORY_BIT: Readonly<Record<CategoryKey, number>> = Object.fromEntries(
  CATEGORY_KEYS.map((key, index) => [key, 1 << index]),
) as Record<CategoryKey, number>;

export const ILLEGAL_BIT = CATEGORY_BIT.illegal;

/** Categories whose blocking counts as a bypass attempt when it acts (decision kind `bypass_blocked`). */
export const BYPASS_MASK = CATEGORY_BIT.vpn_proxy | CATEGORY_BIT.public_dns;

export function isCategoryKey(value: string): value is CategoryKey {
  return (CATEGORY_KEYS as readonly string[]).includes(value);
}

/** The mask of a list of category keys. */
export function categoryMask(keys: readonly CategoryKey[]): number {
  let mask = 0;
  for (const key of keys) mask |= CATEGORY_BIT[key];
  return mask >>> 0;
}

/** The keys whose bits are set in a mask, in taxonomy order. */
export function categoryKeys(mask: number): CategoryKey[] {
  return CATEGORY_KEYS.filter((_, index) => (mask >>> index) & 1);
}
