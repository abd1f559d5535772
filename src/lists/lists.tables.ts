/** Row types of the lists module's tables (known-good sites: migration 0540). */

/**
 * A site the school's teachers rely on, checked by the over-blocking report
 * against every group's policy. One row per school and domain.
 */
export interface KnownGoodSitesTable {
  id: string;
  school_id: string;
  /** In catalog form (`normalizeName`): lower case, `xn--` for internationalised names. */
  domain: string;
  /** What the site is for ("Year 9 physics simulations"), or null. */
  note: string | null;
  /** The account that added it; null for the command line or the system. */
  created_by_account_id: string | null;
  /** The actor's label, as the audit log shows it. */
  created_by: string;
  created_at: string;
}
