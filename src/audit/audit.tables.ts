/** Row type of the audit log (see migration 0001). */
export interface AuditLogTable {
  seq: number;
  school_id: string | null;
  at: string;
  actor_id: string | null;
  actor_label: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  /** JSON object with what changed; never secrets. */
  details: string;
  ip: string | null;
  prev_hash: string;
  hash: string;
}
