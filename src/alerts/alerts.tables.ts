/** Row types of the alerts module's tables (see migration 0500). */

/** A problem with Schoolgate itself; open while `resolved_at` is null. */
export interface SystemAlertsTable {
  id: string;
  /** Null: the whole install (lists, the DNS filter), shown to every school's admins. */
  school_id: string | null;
  /** The module that raised it (`lists`, `checks`). */
  source: string;
  /** What it is about, unique among open alerts of a source (`list:ut1:gambling`). */
  key: string;
  severity: 'critical' | 'warning';
  title: string;
  detail: string;
  first_at: string;
  last_at: string;
  /** How many times it was raised while open. */
  times: number;
  resolved_at: string | null;
  /** `system` when the problem cleared by itself, else the admin's label. */
  resolved_by: string | null;
}
