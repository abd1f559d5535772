/**
 * People: pupils, staff, governors, parents and the rest; the one place their
 * records change. (Minimal first slice: get, find by email, create. Groups,
 * networks, parent links and MIS import are added beside it.)
 */
import { randomUUID } from 'node:crypto';
import type { Actor, AuditLog } from '../audit/audit.service.ts';
import { nowIso } from '../store/column-types.ts';
import type { Store } from '../store/store.ts';
import type { PeopleTable, PersonKind } from './people.tables.ts';

/** A person as services and routes see them. Dates are `YYYY-MM-DD`. */
export interface Person {
  id: string;
  schoolId: string;
  kind: PersonKind;
  misId: string | null;
  givenName: string;
  familyName: string;
  preferredName: string | null;
  email: string | null;
  dateOfBirth: string | null;
  yearGroup: string | null;
  registrationGroup: string | null;
  startDate: string | null;
  leaveDate: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What is needed to create a person by hand. */
export interface PersonInput {
  kind: PersonKind;
  givenName: string;
  familyName: string;
  preferredName?: string | null;
  email?: string | null;
  misId?: string | null;
  dateOfBirth?: string | null;
  yearGroup?: string | null;
  registrationGroup?: string | null;
  startDate?: string | null;
  leaveDate?: string | null;
}

/** Maps a row to the Person shape. */
export function presentPerson(row: PeopleTable): Person {
  return {
    id: row.id,
    schoolId: row.school_id,
    kind: row.kind,
    misId: row.mis_id,
    givenName: row.given_name,
    familyName: row.family_name,
    preferredName: row.preferred_name,
    email: row.email,
    dateOfBirth: row.date_of_birth,
    yearGroup: row.year_group,
    registrationGroup: row.registration_group,
    startDate: row.start_date,
    leaveDate: row.leave_date,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Today's date in a time zone, as `YYYY-MM-DD` (UK schools: Europe/London). */
export function localDate(timeZone = 'Europe/London', at = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** A leaver is someone whose leave date has passed: access ends at the end of that day. */
export function hasLeft(person: Pick<Person, 'leaveDate'>, today: string): boolean {
  return person.leaveDate !== null && person.leaveDate < today;
}

export interface PeopleService {
  getPerson(schoolId: string, personId: string): Promise<Person | undefined>;
  /** Case-insensitive match on the email address. */
  findPersonByEmail(schoolId: string, email: string): Promise<Person | undefined>;
  createPerson(actor: Actor, schoolId: string, input: PersonInput): Promise<Person>;
}

export function createPeopleService(deps: { store: Store; audit: AuditLog }): PeopleService {
  const { store, audit } = deps;
  return {
    async getPerson(schoolId, personId) {
      const row = await store.db
        .selectFrom('people')
        .selectAll()
        .where('school_id', '=', schoolId)
        .where('id', '=', personId)
        .executeTakeFirst();
      return row && presentPerson(row);
    },
    async findPersonByEmail(schoolId, email) {
      const row = await store.db
        .selectFrom('people')
        .selectAll()
        .where('school_id', '=', schoolId)
        .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
        .executeTakeFirst();
      return row && presentPerson(row);
    },
    async createPerson(actor, schoolId, input) {
      const now = nowIso();
      const row: PeopleTable = {
        id: randomUUID(),
        school_id: schoolId,
        kind: input.kind,
        mis_id: input.misId ?? null,
        given_name: input.givenName,
        family_name: input.familyName,
        preferred_name: input.preferredName ?? null,
        email: input.email ?? null,
        date_of_birth: input.dateOfBirth ?? null,
        year_group: input.yearGroup ?? null,
        registration_group: input.registrationGroup ?? null,
        start_date: input.startDate ?? null,
        leave_date: input.leaveDate ?? null,
        created_at: now,
        updated_at: now,
      };
      await audit.transaction(async (trx) => {
        await trx.insertInto('people').values(row).execute();
        await audit.append(trx, actor, {
          schoolId,
          action: 'person.create',
          targetType: 'person',
          targetId: row.id,
          details: { kind: row.kind, name: `${row.given_name} ${row.family_name}`, misId: row.mis_id },
        });
      });
      return presentPerson(row);
    },
  };
}
