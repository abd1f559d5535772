/**
 * The people module's input shapes (zod) and the JSON shapes of its API, as
 * agreed in docs/api-contract "People". The service validates with the same
 * schemas, so the CLI, the import and the demo seed get the same rules as the API.
 */
import { z } from 'zod';
import { optionalText } from '../shared/schema.ts';
import { GROUP_KINDS, PERSON_KINDS } from './people.tables.ts';

/** Whether y-m-d is a day of the calendar (rejects 2024-02-30). */
export function isRealDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month);
}

/** Days in a month (leap years included). */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** A `YYYY-MM-DD` date that exists. */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written yyyy-mm-dd')
  .refine((v) => isRealDate(Number(v.slice(0, 4)), Number(v.slice(5, 7)), Number(v.slice(8, 10))), 'is not a real date');

const name = z.string().trim().min(1, 'must not be empty').max(100);

/** Fields of a person as the API and the service accept them. */
export const personFields = {
  kind: z.enum(PERSON_KINDS),
  givenName: name,
  familyName: name,
  preferredName: optionalText(100),
  email: z
    .string()
    .trim()
    .max(254)
    .nullish()
    .transform((v) => (v === '' ? null : v))
    .refine((v) => v == null || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v), 'is not an email address'),
  misId: optionalText(64),
  dateOfBirth: isoDate.nullish(),
  yearGroup: optionalText(20),
  registrationGroup: optionalText(30),
  startDate: isoDate.nullish(),
  leaveDate: isoDate.nullish(),
};

/** Body of `POST /api/people`. */
export const personCreateSchema = z.object(personFields);
/** Body of `PATCH /api/people/:id`: any subset of the fields. */
export const personPatchSchema = z.object(personFields).partial();

/** A person in API responses. */
export const personJson = z.object({
  id: z.string(),
  kind: z.enum(PERSON_KINDS),
  misId: z.string().nullable(),
  givenName: z.string(),
  familyName: z.string(),
  preferredName: z.string().nullable(),
  email: z.string().nullable(),
  dateOfBirth: z.string().nullable(),
  yearGroup: z.string().nullable(),
  registrationGroup: z.string().nullable(),
  startDate: z.string().nullable(),
  leaveDate: z.string().nullable(),
  left: z.boolean(),
});
export type PersonJson = z.infer<typeof personJson>;

/** Query of `GET /api/people`. */
export const peopleQuerySchema = z.object({
  q: z.string().max(200).optional(),
  kind: z.enum(PERSON_KINDS).optional(),
  groupId: z.string().min(1).optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});

/** A parent or child link in a person's detail. */
export const linkJson = z.object({ person: personJson, relationship: z.string(), parentalResponsibility: z.boolean() });
export type LinkJson = z.infer<typeof linkJson>;

export const groupJson = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(GROUP_KINDS),
  parentId: z.string().nullable(),
  description: z.string().nullable(),
  memberCount: z.number().int(),
});
export type GroupJson = z.infer<typeof groupJson>;

/** Body of `POST /api/groups`. */
export const groupCreateSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100),
  kind: z.enum(GROUP_KINDS),
  parentId: z.string().min(1).nullish(),
  description: optionalText(500),
});
/** Body of `PATCH /api/groups/:id` (the kind is fixed once made). */
export const groupPatchSchema = groupCreateSchema.omit({ kind: true }).partial();

export const networkJson = z.object({
  id: z.string(),
  name: z.string(),
  cidr: z.string(),
  groupId: z.string().nullable(),
  groupName: z.string().nullable(),
  description: z.string().nullable(),
});
export type NetworkJson = z.infer<typeof networkJson>;

/** Body of `POST /api/networks`. A network need not have a group yet (null). */
export const networkCreateSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100),
  cidr: z.string().trim().min(1, 'must not be empty').max(64),
  groupId: z.string().min(1).nullable(),
  description: optionalText(500),
});
/** Body of `PATCH /api/networks/:id`. */
export const networkPatchSchema = networkCreateSchema.partial();
