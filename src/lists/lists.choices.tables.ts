/** Row types of the lists module's choice tables (see migration 0530). */

/** A built-in list switched away from its default (no row: the default stands). */
export interface ListChoicesTable {
  /** A built-in list's id (`ut1:games`). */
  list_id: string;
  enabled: number;
  reason: string;
  changed_at: string;
  /** The actor's label, as in the audit log. */
  changed_by: string;
}

/** A list the school added: downloaded from `url`, or uploaded and kept in `content`. */
export interface OwnListsTable {
  /** `own:<slug of the name>`, stable: it names the list in "why" and alerts. */
  id: string;
  name: string;
  use: 'block' | 'allow';
  /** The category it blocks (block lists only). */
  category: string | null;
  format: string;
  url: string | null;
  /** The uploaded text (uncompressed), when there is no URL. */
  content: string | null;
  content_bytes: number | null;
  content_sha256: string | null;
  uploaded_at: string | null;
  note: string;
  enabled: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  /** Set when removed: the row stays as the record of what was used. */
  removed_at: string | null;
}
