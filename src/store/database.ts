/**
 * The whole database as Kysely sees it, assembled from each module's table
 * types. Only a module's own store file queries its tables.
 */
import type { AuditLogTable } from '../audit/audit.tables.ts';
import type {
  AccountRolesTable,
  AccountsTable,
  RecoveryCodesTable,
  SessionsTable,
  SsoIdentitiesTable,
} from '../auth/auth.tables.ts';
import type {
  GroupMembersTable,
  GroupsTable,
  ImportRunsTable,
  NetworksTable,
  ParentLinksTable,
  PeopleTable,
} from '../people/people.tables.ts';
import type { FilterEventsTable } from '../monitor/monitor.tables.ts';
import type { DevicesTable } from '../devices/devices.tables.ts';
import type {
  FilterEntriesTable,
  FilterExemptionsTable,
  FilterGroupPoliciesTable,
  FilterSanctionsTable,
  FilterSchedulesTable,
  FilterSettingsTable,
  FilterSnapshotStateTable,
  SchoolCalendarTable,
  UnblockRequestsTable,
} from '../policy/policy.tables.ts';
import type { SchoolsTable } from '../schools/schools.tables.ts';
import type { CheckNameSettingsTable, CheckNamesTable, CheckResultsTable, CheckRunsTable } from '../checks/checks.tables.ts';
import type { SystemAlertsTable } from '../alerts/alerts.tables.ts';
import type { KnownGoodSitesTable } from '../lists/lists.tables.ts';
import type { ListChoicesTable, OwnListsTable } from '../lists/lists.choices.tables.ts';

export interface Database {
  schools: SchoolsTable;
  people: PeopleTable;
  parent_links: ParentLinksTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  networks: NetworksTable;
  import_runs: ImportRunsTable;
  accounts: AccountsTable;
  account_roles: AccountRolesTable;
  recovery_codes: RecoveryCodesTable;
  sessions: SessionsTable;
  sso_identities: SsoIdentitiesTable;
  audit_log: AuditLogTable;
  filter_group_policies: FilterGroupPoliciesTable;
  filter_entries: FilterEntriesTable;
  unblock_requests: UnblockRequestsTable;
  filter_schedules: FilterSchedulesTable;
  school_calendar: SchoolCalendarTable;
  filter_exemptions: FilterExemptionsTable;
  filter_sanctions: FilterSanctionsTable;
  filter_settings: FilterSettingsTable;
  filter_snapshot_state: FilterSnapshotStateTable;
  devices: DevicesTable;
  filter_events: FilterEventsTable;
  check_runs: CheckRunsTable;
  check_results: CheckResultsTable;
  check_names: CheckNamesTable;
  check_name_settings: CheckNameSettingsTable;
  system_alerts: SystemAlertsTable;
  known_good_sites: KnownGoodSitesTable;
  list_choices: ListChoicesTable;
  own_lists: OwnListsTable;
}
