/** Row types of the policy module's tables (see migration 0300). JSON columns are text. */

/** A group's filter policy. `blocked` and `scheduled` are JSON arrays. */
export interface FilterGroupPoliciesTable {
  group_id: string;
  school_id: string;
  priority: number;
  /** JSON `CategoryKey[]`, always containing `illegal`. */
  blocked: string;
  /** JSON `ScheduledCategory[]`. */
  scheduled: string;
  safe_search: number;
  youtube: 'strict' | 'moderate' | 'off';
  filter_off: number;
  /** Who approved filter-off (the head, by the school's policy); null while filtering is on. */
  filter_off_approved_by: string | null;
  updated_at: string;
  /** The actor's label. */
  updated_by: string;
}

/** An allow or deny entry, for the whole school (`group_id` null) or one group. */
export interface FilterEntriesTable {
  id: string;
  school_id: string;
  group_id: string | null;
  list: 'allow' | 'deny';
  domain: string;
  reason: string;
  created_by: string;
  created_at: string;
}

/** A named set of weekly windows. `windows` is JSON `ScheduleWindow[]`. */
export interface FilterSchedulesTable {
  id: string;
  school_id: string;
  name: string;
  /** JSON `ScheduleWindow[]`. */
  windows: string;
  school_days_only: number;
  created_at: string;
  updated_at: string;
  updated_by: string;
}

/** A term (a date range) or a closure (one day: `start_date` = `end_date`). */
export interface SchoolCalendarTable {
  id: string;
  school_id: string;
  kind: 'term' | 'closure';
  label: string;
  start_date: string;
  end_date: string;
}

/** An approved unblock: a domain or a category, for one group, person or device, until a time. */
export interface FilterExemptionsTable {
  id: string;
  school_id: string;
  domain: string | null;
  category: string | null;
  group_id: string | null;
  person_id: string | null;
  device_id: string | null;
  until: string;
  reason: string;
  approved_by: string;
  created_by: string;
  created_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
  revoke_reason: string | null;
}

/** Network rights removed from a person or device until a time. Never deleted: lifting sets `lifted_at`. */
export interface FilterSanctionsTable {
  id: string;
  school_id: string;
  person_id: string | null;
  device_id: string | null;
  until: string;
  /** JSON `DomainEntry[]`: what stays reachable (the school's learning platform, say). */
  allow: string;
  reason: string;
  created_by: string;
  created_at: string;
  lifted_at: string | null;
  lifted_by: string | null;
  lift_reason: string | null;
}

/** The school's filter settings; a school without a row has the defaults. */
export interface FilterSettingsTable {
  school_id: string;
  block_answer: 'address' | 'null' | 'nxdomain';
  block_ipv4: string | null;
  block_ipv6: string | null;
  blocked_ttl: number;
  default_group_id: string | null;
  /** JSON `{ entry, reason }[]`: never-block names the school added. */
  never_block_added: string;
  /** JSON `{ entry, reason }[]`: built-in never-block names the school switched off. */
  never_block_disabled: string;
  chromeos_salt: string | null;
  /** JSON `string[]` of CIDRs. */
  trusted_forwarders: string;
  /** JSON `{ zone, servers }[]`. */
  conditional_forwarders: string;
  /** The monitoring notice on the block page (the built-in wording when null). */
  block_page_notice: string | null;
  /** Who to ask about a block, shown on the block page. */
  block_page_contact: string | null;
  updated_at: string;
  updated_by: string;
}

/** The snapshot version of a school and the hash of the content it was given for. */
export interface FilterSnapshotStateTable {
  school_id: string;
  version: number;
  content_hash: string;
  changed_at: string;
}

/**
 * A request to review a block, sent from the block page (or later the app).
 * Who asked is what the filter saw (network, device, person); the name the
 * requester typed is only what they typed. Kept with its outcome.
 */
export interface UnblockRequestsTable {
  id: string;
  school_id: string;
  site: string;
  /** JSON `CategoryKey[]`: the categories the lists put the site in when asked. */
  categories: string;
  /** The rule that blocked it (`category`, `deny_entry`, …) and the reason shown. */
  rule: string;
  reason: string;
  client_address: string;
  network_id: string | null;
  device_id: string | null;
  person_id: string | null;
  group_id: string | null;
  requester_name: string | null;
  message: string;
  /** `open`: waiting for the network manager (the head, for filter-off); `awaiting_dsl`: approved, waiting for the DSL's agreement. */
  status: 'open' | 'awaiting_dsl' | 'approved' | 'refused';
  created_at: string;
  decided_at: string | null;
  decided_by: string | null;
  decision_reason: string | null;
  /** The first exemption an approval made (all of them in `exemption_ids`). */
  exemption_id: string | null;
  /** `site`: unblock one site; `filter_off`: everything but illegal for a person or group (the head decides). Migration 0510. */
  kind: 'site' | 'filter_off';
  /** The status page's unguessable token (null for requests older than migration 0510). */
  status_token: string | null;
  /** The signed-in account that asked from the app; null from the block page. */
  account_id: string | null;
  /** Filter-off: the group or the person it is for. */
  target_group_id: string | null;
  target_person_id: string | null;
  /** 1 when the site is in a safeguarding category: an approval then needs the DSL. */
  safeguarding: number;
  /** JSON `UnblockApproval`: what was approved (kept while waiting for the DSL). */
  approval: string | null;
  dsl_by: string | null;
  dsl_at: string | null;
  dsl_reason: string | null;
  /** JSON `string[]`: every exemption the approval made. */
  exemption_ids: string | null;
}
