/** Row types of the checks module's tables (see migration 0520). */

/** One check run: every chosen group asked every test name, by a person (`manual`) or the daily self-test. */
export interface CheckRunsTable {
  id: string;
  school_id: string;
  trigger: 'manual' | 'self_test';
  /** The account that ran it; null for the self-test. */
  actor_id: string | null;
  actor_label: string;
  started_at: string;
  /** Null while the run is going. */
  finished_at: string | null;
  /** The policy version the filter had when the run started. */
  policy_version: number | null;
  /** JSON: `[{ id, name }]` of the groups checked. */
  groups: string;
  total: number;
  unexpected: number;
  not_checked: number;
  /** Why the run could not check anything (the filter not running), else null. */
  problem: string | null;
}

/** One test name asked over one transport as one group. */
export interface CheckResultsTable {
  id: string;
  run_id: string;
  school_id: string;
  /** Order within the run. */
  seq: number;
  group_id: string;
  group_name: string;
  /** A category key, or `bypass` for the bypass switches. */
  category: string;
  name: string;
  transport: 'udp' | 'tcp' | 'doh';
  /** The source address plain DNS was sent from, or null (DoH by group check token, or not checked). */
  source: string | null;
  expected: 'blocked' | 'allowed';
  outcome: 'blocked' | 'allowed' | 'error' | 'not_checked';
  /** 1 or 0; null when not checked. */
  as_expected: number | null;
  /** What the answer was and why the filter decided so, in words. */
  detail: string;
  /** The follow-up action (DfE check log), filled in later. */
  action: string | null;
  action_by: string | null;
  action_at: string | null;
}

/** A school's own test name for a category (when the school has saved any, they replace the built-in set). */
export interface CheckNamesTable {
  school_id: string;
  category: string;
  name: string;
  created_at: string;
}

/** Marks that a school saved its own test names (even none for a category), and who did. */
export interface CheckNameSettingsTable {
  school_id: string;
  updated_at: string;
  updated_by: string;
}
