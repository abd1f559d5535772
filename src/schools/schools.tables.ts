/** Row types of the schools table (see migration 0001). */
export interface SchoolsTable {
  id: string;
  name: string;
  urn: string | null;
  timezone: string;
  /** JSON: school-level settings such as the password policy. */
  settings: string;
  created_at: string;
}
