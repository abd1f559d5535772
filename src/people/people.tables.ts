/** Row types of the people module's tables (see migration 0001). */
import type { PersonInput } from './people.service.ts';

/** The kinds of person a school knows. */
export const PERSON_KINDS = ['pupil', 'staff', 'governor', 'volunteer', 'contractor', 'parent', 'visitor'] as const;
export type PersonKind = (typeof PERSON_KINDS)[number];

/** The kinds of group. Year groups and classes come from the MIS; the rest are kept by hand. */
export const GROUP_KINDS = ['year', 'class', 'staff', 'governors', 'parents', 'visitors', 'custom'] as const;
export type GroupKind = (typeof GROUP_KINDS)[number];

export interface PeopleTable {
  id: string;
  school_id: string;
  kind: PersonKind;
  mis_id: string | null;
  given_name: string;
  family_name: string;
  preferred_name: string | null;
  email: string | null;
  date_of_birth: string | null;
  year_group: string | null;
  registration_group: string | null;
  start_date: string | null;
  leave_date: string | null;
  created_at: string;
  updated_at: string;
}

export interface ParentLinksTable {
  id: string;
  school_id: string;
  parent_id: string;
  child_id: string;
  relationship: string;
  parental_responsibility: number;
  contact_priority: number | null;
  created_at: string;
}

export interface GroupsTable {
  id: string;
  school_id: string;
  kind: GroupKind;
  name: string;
  description: string | null;
  parent_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface GroupMembersTable {
  group_id: string;
  person_id: string;
  school_id: string;
  /** `mis` when the import keeps it, `manual` when an admin added it. */
  source: 'mis' | 'manual';
  created_at: string;
}

export interface NetworksTable {
  id: string;
  school_id: string;
  name: string;
  cidr: string;
  group_id: string | null;
  description: string | null;
  created_at: string;
  updated_at: string;
}

export interface ImportRunsTable {
  id: string;
  school_id: string;
  created_by: string | null;
  file_name: string;
  file_sha256: string;
  preset: string;
  full_export: number;
  status: 'previewed' | 'applied' | 'failed';
  summary: string;
  created_at: string;
  applied_at: string | null;
}

/** The people table's column for each person field (the generic CSV preset's headers are these names too). */
export const PERSON_FIELD_COLUMNS = {
  kind: 'kind',
  misId: 'mis_id',
  givenName: 'given_name',
  familyName: 'family_name',
  preferredName: 'preferred_name',
  email: 'email',
  dateOfBirth: 'date_of_birth',
  yearGroup: 'year_group',
  registrationGroup: 'registration_group',
  startDate: 'start_date',
  leaveDate: 'leave_date',
} as const satisfies Record<keyof PersonInput, keyof PeopleTable>;
