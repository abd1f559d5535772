/**
 * CSV import of a MIS export (SIMS, Arbor, Bromcom or any CSV with a header
 * row). Two steps, so nothing surprising reaches the database:
 * 1. preview (dry run): decode, parse, validate every row and compare with
 *    what is stored; report counts, every bad row (line, column, message) and,
 *    for a full export, the people who would be proposed as leavers. Only the
 *    `import_runs` row is written.
 * 2. apply: the same file again (its SHA-256 must equal the preview's), checked
 *    again and written in ONE transaction: any bad row and nothing is written.
 *    Upsert by MIS id, so applying the same file twice changes nothing.
 * Leavers are never deleted: a leave date is set only for the ones the person
 * confirms by id.
 */
import { createHash, randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import type { Transaction } from 'kysely';
import type { Actor, AuditLog } from '../audit/audit.service.ts';
import { conflict, type Issue, invalid, notFound } from '../shared/errors.ts';
import { nowIso } from '../store/column-types.ts';
import type { Database, Db, Store } from '../store/store.ts';
import { daysInMonth } from './people.schema.ts';
import * as store from './people.store.ts';
import { normaliseYearGroup, type SyncEntry, syncYearAndClassGroups } from './people.sync.ts';
import { PERSON_FIELD_COLUMNS, PERSON_KINDS, type ImportRunsTable, type ParentLinksTable, type PeopleTable, type PersonKind } from './people.tables.ts';

/** The columns an import understands. */
export const IMPORT_FIELDS = [
  'misId',
  'kind',
  'givenName',
  'familyName',
  'preferredName',
  'email',
  'dateOfBirth',
  'yearGroup',
  'registrationGroup',
  'startDate',
  'leaveDate',
  'childMisId',
  'relationship',
  'parentalResponsibility',
] as const;
export type ImportField = (typeof IMPORT_FIELDS)[number];

/** The MIS presets. */
export const PRESET_IDS = ['sims', 'arbor', 'bromcom', 'generic'] as const;
export type PresetId = (typeof PRESET_IDS)[number];

/** A preset: which header holds each field in that MIS's export. */
export interface ImportPreset {
  id: PresetId;
  name: string;
  columns: Partial<Record<ImportField, string>>;
}

/**
 * Header names as each MIS's report/export tools commonly label them. Matching
 * ignores case, spaces and punctuation (`Reg Group` = `reg_group`), and a
 * custom mapping can override any of them for a school's own report layout.
 */
export const IMPORT_PRESETS: ImportPreset[] = [
  {
    id: 'sims',
    name: 'SIMS (Reporting Engine export)',
    columns: {
      misId: 'Adno',
      kind: 'Person Type',
      givenName: 'Forename',
      familyName: 'Legal Surname',
      preferredName: 'Preferred Forename',
      email: 'Email',
      dateOfBirth: 'DOB',
      yearGroup: 'Year',
      registrationGroup: 'Reg Group',
      startDate: 'Admission Date',
      leaveDate: 'Leaving Date',
      childMisId: 'Pupil Adno',
      relationship: 'Relationship',
      parentalResponsibility: 'Parental Responsibility',
    },
  },
  {
    id: 'arbor',
    name: 'Arbor (custom report export)',
    columns: {
      misId: 'Arbor ID',
      kind: 'Person Type',
      givenName: 'Legal First Name',
      familyName: 'Legal Last Name',
      preferredName: 'Preferred First Name',
      email: 'Email Address',
      dateOfBirth: 'Date of Birth',
      yearGroup: 'Year',
      registrationGroup: 'Registration Form',
      startDate: 'Start Date',
      leaveDate: 'Leaving Date',
      childMisId: 'Student Arbor ID',
      relationship: 'Relationship',
      parentalResponsibility: 'Parental Responsibility',
    },
  },
  {
    id: 'bromcom',
    name: 'Bromcom (report export)',
    columns: {
      misId: 'Admission No',
      kind: 'Type',
      givenName: 'Forename',
      familyName: 'Surname',
      preferredName: 'Preferred Name',
      email: 'Email Address',
      dateOfBirth: 'Date Of Birth',
      yearGroup: 'Year Group',
      registrationGroup: 'Tutor Group',
      startDate: 'Date Of Admission',
      leaveDate: 'Date Of Leaving',
      childMisId: 'Student Admission No',
      relationship: 'Relationship',
      parentalResponsibility: 'Parental Responsibility',
    },
  },
  {
    id: 'generic',
    name: 'Generic CSV',
    // The generic headers are the database's own column names.
    columns: {
      ...PERSON_FIELD_COLUMNS,
      childMisId: 'child_mis_id',
      relationship: 'relationship',
      parentalResponsibility: 'parental_responsibility',
    },
  },
];

/** Which text encoding the file was read as. */
export type FileEncoding = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'windows-1252';

/** One bad row: its line in the file, its column header, what is wrong. */
export interface ImportError {
  line: number;
  field: string;
  message: string;
}

/** What a preview is asked. `kind` is the kind of every row without a kind column or child link. */
export interface PreviewInput {
  fileName: string;
  file: Uint8Array;
  preset: PresetId;
  fullExport: boolean;
  mapping?: Partial<Record<ImportField, string>>;
  kind?: PersonKind;
}

/** A proposed leaver. */
export interface Leaver {
  id: string;
  name: string;
  kind: PersonKind;
}

/** What a preview found. */
export interface PreviewResult {
  runId: string;
  ok: boolean;
  rows: number;
  create: number;
  update: number;
  unchanged: number;
  errors: ImportError[];
  leavers: Leaver[];
  encoding: FileEncoding;
  /** How many people of each kind the file holds. */
  kinds: Partial<Record<PersonKind, number>>;
}

/** What apply is given: the run, the same file, and the leavers the person confirmed. */
export interface ApplyInput {
  runId: string;
  file: Uint8Array;
  confirmLeavers: string[];
}

/** What apply did. */
export interface ApplyResult {
  created: number;
  updated: number;
  unchanged: number;
  leaversMarked: number;
  linksCreated: number;
  linksUpdated: number;
  groupsCreated: number;
  membershipsAdded: number;
  membershipsRemoved: number;
}

// ---- decoding and parsing --------------------------------------------------

/**
 * Decodes the bytes: a UTF-8 BOM or valid UTF-8 is UTF-8; a UTF-16LE BOM
 * (Excel's "Unicode text") is UTF-16; anything else is Windows-1252, the
 * encoding Excel on Windows writes "CSV" in (where `£` is 0xA3 and `é` 0xE9).
 */
export function decodeFile(bytes: Uint8Array): { text: string; encoding: FileEncoding } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'utf-8-bom' };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), encoding: 'utf-16le' };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: new TextDecoder('windows-1252').decode(bytes), encoding: 'windows-1252' };
  }
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Reads a date as UK exports write it, `dd/mm/yyyy` (also `-` or `.`, and an
 * Excel time of `00:00` after it), or ISO `yyyy-mm-dd`. Returns `YYYY-MM-DD`
 * or a message saying what is wrong.
 */
export function parseImportDate(text: string): { ok: true; date: string } | { ok: false; message: string } {
  const value = text.trim();
  let day: number;
  let month: number;
  let year: number;
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00(?:\.0+)?)?Z?)?$/.exec(value);
  const uk = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?: 00:00(?::00)?)?$/.exec(value);
  if (iso) {
    [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  } else if (uk) {
    [day, month, year] = [Number(uk[1]), Number(uk[2]), Number(uk[3])];
  } else {
    return { ok: false, message: `"${value}" is not a date: write dd/mm/yyyy (UK) or yyyy-mm-dd` };
  }
  if (month < 1 || month > 12) {
    return { ok: false, message: `"${value}" is not a real date: there is no month ${month}${uk ? ' (dates are read day first, dd/mm/yyyy)' : ''}` };
  }
  if (year < 1900 || year > 2200) return { ok: false, message: `"${value}" is not a plausible date: the year ${year} is out of range` };
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) {
    return { ok: false, message: `"${value}" is not a real date: ${MONTHS[month - 1]} ${year} has ${days} days` };
  }
  return { ok: true, date: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}` };
}

/** Header text compared loosely: case, spaces and punctuation do not matter. */
const headerKey = (header: string) => header.toLowerCase().replace(/[^a-z0-9]/g, '');

const KIND_ALIASES: Record<string, PersonKind> = {
  pupil: 'pupil', student: 'pupil', learner: 'pupil',
  staff: 'staff', teacher: 'staff', employee: 'staff', teachingstaff: 'staff', supportstaff: 'staff', staffmember: 'staff',
  governor: 'governor', trustee: 'governor',
  volunteer: 'volunteer',
  contractor: 'contractor', supplystaff: 'contractor', supply: 'contractor',
  parent: 'parent', carer: 'parent', parentcarer: 'parent', contact: 'parent', guardian: 'parent',
  visitor: 'visitor', guest: 'visitor',
};

function pickDelimiter(text: string): string {
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const counts = [',', ';', '\t'].map((d) => [d, firstLine.split(d).length - 1] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0][1] > 0 ? counts[0][0] : ',';
}

/** One person as a file describes them: only the columns the file has are set. */
interface FileRow {
  line: number;
  misId: string;
  kind: PersonKind;
  fields: Partial<PeopleTable>;
  link?: { childMisId: string; relationship?: string; pr?: number };
}

interface ReadResult {
  encoding: FileEncoding;
  rows: FileRow[];
  /** Data records in the file (parent rows that repeat a contact count once each). */
  records: number;
  errors: ImportError[];
  headerOf: (field: ImportField) => string;
  present: Set<ImportField>;
}

/** The effective column for each field: the preset's header, overridden by a custom mapping. */
export function effectiveMapping(presetId: PresetId, mapping?: Partial<Record<ImportField, string>>): Partial<Record<ImportField, string>> {
  const preset = IMPORT_PRESETS.find((p) => p.id === presetId);
  if (!preset) throw invalid(`Unknown preset "${presetId}"`, [{ where: 'preset', message: `must be one of ${PRESET_IDS.join(', ')}` }]);
  const result: Partial<Record<ImportField, string>> = { ...preset.columns };
  for (const [field, header] of Object.entries(mapping ?? {})) {
    if (!(IMPORT_FIELDS as readonly string[]).includes(field)) {
      throw invalid(`Unknown field "${field}" in the mapping`, [{ where: `mapping.${field}`, message: `must be one of ${IMPORT_FIELDS.join(', ')}` }]);
    }
    if (header && header.trim()) result[field as ImportField] = header.trim();
    else delete result[field as ImportField];
  }
  return result;
}

/** Decodes, parses and checks each row on its own (no database needed). */
export function readImportFile(bytes: Uint8Array, columns: Partial<Record<ImportField, string>>, fileKind: PersonKind | undefined): ReadResult {
  const { text, encoding } = decodeFile(bytes);
  const errors: ImportError[] = [];
  const headerOf = (field: ImportField) => columns[field] ?? field;
  const empty: ReadResult = { encoding, rows: [], records: 0, errors, headerOf, present: new Set() };
  let records: { record: string[]; info: { lines: number }; raw: string }[];
  try {
    records = parse(text, {
      delimiter: pickDelimiter(text),
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      raw: true,
    }) as any;
  } catch (error) {
    const e = error as { lines?: number; message: string };
    errors.push({ line: e.lines ?? 1, field: '(file)', message: `the CSV cannot be read: ${e.message}` });
    return empty;
  }
  if (records.length === 0) {
    errors.push({ line: 1, field: '(file)', message: 'the file is empty: it needs a header row and at least one data row' });
    return empty;
  }
  const header = records[0].record;
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    if (!index.has(headerKey(h))) index.set(headerKey(h), i);
  });
  const at = new Map<ImportField, number>();
  for (const [field, name] of Object.entries(columns) as [ImportField, string][]) {
    const i = index.get(headerKey(name));
    if (i !== undefined) at.set(field, i);
  }
  const headerLine = records[0].info.lines;
  for (const field of ['misId', 'givenName', 'familyName'] as const) {
    if (!at.has(field)) {
      errors.push({
        line: headerLine,
        field: headerOf(field),
        message: `the column "${headerOf(field)}" (${field}) is missing; the file's columns are: ${header.join(', ')}`,
      });
    }
  }
  if (errors.length) return { ...empty, present: new Set(at.keys()) };

  const rows: FileRow[] = [];
  let dataRecords = 0;
  for (const { record, info, raw } of records.slice(1)) {
    if (record.every((cell) => cell === '')) continue; // Excel's trailing ",,,," rows
    dataRecords += 1;
    // info.lines is the record's LAST line; a quoted cell may span lines.
    const line = info.lines - Math.max(0, (raw.replace(/\r?\n$/, '').match(/\n/g) ?? []).length);
    const cell = (field: ImportField): string | null | undefined => {
      const i = at.get(field);
      if (i === undefined) return undefined; // no such column: leave the stored value alone
      const value = record[i] ?? '';
      return value === '' ? null : value;
    };
    const bad = (field: ImportField, message: string) => errors.push({ line, field: headerOf(field), message });
    const before = errors.length;

    const misId = cell('misId');
    if (!misId) bad('misId', 'is empty: every row needs the MIS id');
    const childMisId = cell('childMisId');
    let kind: PersonKind | undefined;
    const kindText = cell('kind');
    if (kindText) {
      kind = KIND_ALIASES[headerKey(kindText)];
      if (!kind) bad('kind', `"${kindText}" is not a kind of person (use one of ${PERSON_KINDS.join(', ')})`);
    } else if (childMisId) {
      kind = 'parent';
    } else {
      kind = fileKind ?? 'pupil';
    }
    const fields: Partial<PeopleTable> = {};
    for (const [field, column] of [
      ['givenName', 'given_name'],
      ['familyName', 'family_name'],
    ] as const) {
      const value = cell(field);
      if (!value) bad(field, 'is empty');
      else if (value.length > 100) bad(field, 'is longer than 100 characters');
      else fields[column] = value;
    }
    const preferred = cell('preferredName');
    if (preferred !== undefined) fields.preferred_name = preferred;
    const email = cell('email');
    if (email !== undefined) {
      if (email !== null && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) bad('email', `"${email}" is not an email address`);
      else fields.email = email;
    }
    for (const [field, column] of [
      ['dateOfBirth', 'date_of_birth'],
      ['startDate', 'start_date'],
      ['leaveDate', 'leave_date'],
    ] as const) {
      const value = cell(field);
      if (value === undefined) continue;
      if (value === null) {
        fields[column] = null;
        continue;
      }
      const parsed = parseImportDate(value);
      if (parsed.ok) fields[column] = parsed.date;
      else bad(field, parsed.message);
    }
    if (fields.start_date && fields.leave_date && fields.leave_date < fields.start_date) {
      bad('leaveDate', `the leave date ${fields.leave_date} is before the start date ${fields.start_date}`);
    }
    // Year and class belong to pupils; a staff export's tutor group is not a class membership.
    if (kind === 'pupil') {
      const year = cell('yearGroup');
      if (year !== undefined) fields.year_group = normaliseYearGroup(year);
      const klass = cell('registrationGroup');
      if (klass !== undefined) fields.registration_group = klass;
    }
    let link: FileRow['link'];
    if (childMisId) {
      if (kind === 'pupil') bad('childMisId', 'a pupil cannot be linked as a parent of another pupil');
      const relationship = cell('relationship') ?? undefined;
      const prText = cell('parentalResponsibility');
      let pr: number | undefined;
      if (prText) {
        if (/^(y|yes|true|1|x|pr|✓)$/i.test(prText)) pr = 1;
        else if (/^(n|no|false|0)$/i.test(prText)) pr = 0;
        else bad('parentalResponsibility', `"${prText}" is not yes or no`);
      }
      link = { childMisId, relationship, pr };
    }
    if (errors.length === before && misId && kind) rows.push({ line, misId, kind, fields, link });
    else if (misId && kind) rows.push({ line: -line, misId, kind, fields, link }); // bad row: kept only so links to it do not cascade
  }
  return { encoding, rows, records: dataRecords, errors, headerOf, present: new Set(at.keys()) };
}

// ---- planning --------------------------------------------------------------

const PERSON_COLUMNS = [
  'kind', 'given_name', 'family_name', 'preferred_name', 'email', 'date_of_birth',
  'year_group', 'registration_group', 'start_date', 'leave_date',
] as const;

interface Plan {
  errors: ImportError[];
  creates: PeopleTable[];
  updates: { before: PeopleTable; set: Partial<PeopleTable>; changed: string[] }[];
  unchanged: number;
  linkCreates: ParentLinksTable[];
  linkUpdates: { link: ParentLinksTable; relationship: string; pr: number }[];
  leavers: PeopleTable[];
  sync: SyncEntry[];
  kinds: Partial<Record<PersonKind, number>>;
}

/** Compares the file with what is stored and works out every change (pure apart from the reads). */
async function planImport(db: Db, schoolId: string, read: ReadResult, fullExport: boolean, today: string): Promise<Plan> {
  const errors = [...read.errors];
  const plan: Plan = { errors, creates: [], updates: [], unchanged: 0, linkCreates: [], linkUpdates: [], leavers: [], sync: [], kinds: {} };
  if (read.rows.length === 0 && errors.length) return plan;

  const existing = await store.peopleWithMisIds(db, schoolId);
  const byMisId = new Map(existing.map((p) => [p.mis_id!, p]));
  const links = await store.allParentLinks(db, schoolId);
  const linkByPair = new Map(links.map((l) => [`${l.parent_id}|${l.child_id}`, l]));

  // One person per MIS id: a contact repeats once per child; anyone else twice is a mistake.
  const people = new Map<string, FileRow>();
  const linksOf = new Map<string, { line: number; link: NonNullable<FileRow['link']> }[]>();
  for (const row of read.rows) {
    const line = Math.abs(row.line);
    const first = people.get(row.misId);
    if (first && row.line > 0) {
      const sameContact = first.kind === 'parent' && row.kind === 'parent' && first.fields.given_name === row.fields.given_name && first.fields.family_name === row.fields.family_name;
      if (!sameContact) {
        errors.push({ line, field: read.headerOf('misId'), message: `MIS id ${row.misId} is also on line ${Math.abs(first.line)}` });
        continue;
      }
    } else if (!first) {
      people.set(row.misId, row);
    }
    if (row.link && row.line > 0) linksOf.set(row.misId, [...(linksOf.get(row.misId) ?? []), { line, link: row.link }]);
  }

  const now = nowIso();
  const idByMisId = new Map<string, string>();
  const kindByMisId = new Map<string, PersonKind>();
  for (const p of existing) {
    idByMisId.set(p.mis_id!, p.id);
    kindByMisId.set(p.mis_id!, p.kind);
  }
  const outcome = new Map<string, 'create' | 'update' | 'unchanged'>();
  for (const row of people.values()) {
    if (row.line < 0) continue;
    plan.kinds[row.kind] = (plan.kinds[row.kind] ?? 0) + 1;
    const stored = byMisId.get(row.misId);
    if (!stored) {
      const created: PeopleTable = {
        id: randomUUID(),
        school_id: schoolId,
        kind: row.kind,
        mis_id: row.misId,
        given_name: row.fields.given_name!,
        family_name: row.fields.family_name!,
        preferred_name: row.fields.preferred_name ?? null,
        email: row.fields.email ?? null,
        date_of_birth: row.fields.date_of_birth ?? null,
        year_group: row.fields.year_group ?? null,
        registration_group: row.fields.registration_group ?? null,
        start_date: row.fields.start_date ?? null,
        leave_date: row.fields.leave_date ?? null,
        created_at: now,
        updated_at: now,
      };
      plan.creates.push(created);
      idByMisId.set(row.misId, created.id);
      kindByMisId.set(row.misId, row.kind);
      outcome.set(row.misId, 'create');
      if (row.kind === 'pupil' && (read.present.has('yearGroup') || read.present.has('registrationGroup'))) {
        plan.sync.push({ personId: created.id, yearGroup: created.year_group, registrationGroup: created.registration_group });
      }
      continue;
    }
    if ((stored.kind === 'pupil') !== (row.kind === 'pupil')) {
      errors.push({
        line: row.line,
        field: read.headerOf(read.present.has('kind') ? 'kind' : 'misId'),
        message: `MIS id ${row.misId} is a ${stored.kind} in Schoolgate (${stored.given_name} ${stored.family_name}), not a ${row.kind}: check the ids do not clash between exports`,
      });
      continue;
    }
    const set: Partial<PeopleTable> = {};
    const changed: string[] = [];
    const wanted: Partial<PeopleTable> = { kind: row.kind, ...row.fields };
    for (const column of PERSON_COLUMNS) {
      if (!(column in wanted)) continue;
      const value = wanted[column] ?? null;
      if (stored[column] !== value) {
        (set as any)[column] = value;
        changed.push(column);
      }
    }
    const merged = { ...stored, ...set };
    if (merged.start_date && merged.leave_date && merged.leave_date < merged.start_date) {
      errors.push({ line: row.line, field: read.headerOf('leaveDate'), message: `the leave date ${merged.leave_date} would be before the start date ${merged.start_date}` });
      continue;
    }
    if (changed.length) {
      plan.updates.push({ before: stored, set, changed });
      outcome.set(row.misId, 'update');
    } else {
      outcome.set(row.misId, 'unchanged');
    }
    if (row.kind === 'pupil' && (read.present.has('yearGroup') || read.present.has('registrationGroup'))) {
      plan.sync.push({ personId: stored.id, yearGroup: merged.year_group, registrationGroup: merged.registration_group });
    }
  }

  // Links: the child must be a pupil in this file or already in Schoolgate.
  const fileHasChild = new Set(read.rows.filter((r) => r.kind === 'pupil').map((r) => r.misId));
  for (const [parentMisId, list] of linksOf) {
    const parentId = idByMisId.get(parentMisId);
    if (!parentId || !outcome.has(parentMisId)) continue; // the parent row itself is bad
    const seen = new Set<string>();
    for (const { line, link } of list) {
      if (seen.has(link.childMisId)) continue;
      seen.add(link.childMisId);
      const childId = idByMisId.get(link.childMisId);
      if (!childId) {
        if (!fileHasChild.has(link.childMisId)) {
          errors.push({ line, field: read.headerOf('childMisId'), message: `no pupil with MIS id ${link.childMisId} in this file or in Schoolgate` });
        }
        continue;
      }
      if (kindByMisId.get(link.childMisId) !== 'pupil') {
        errors.push({ line, field: read.headerOf('childMisId'), message: `MIS id ${link.childMisId} is a ${kindByMisId.get(link.childMisId)}, not a pupil` });
        continue;
      }
      const stored = linkByPair.get(`${parentId}|${childId}`);
      if (!stored) {
        plan.linkCreates.push({
          id: randomUUID(),
          school_id: schoolId,
          parent_id: parentId,
          child_id: childId,
          relationship: link.relationship ?? 'parent',
          // Unstated parental responsibility is recorded as not held: the safe reading for access to a child's data.
          parental_responsibility: link.pr ?? 0,
          contact_priority: null,
          created_at: now,
        });
      } else {
        const relationship = link.relationship ?? stored.relationship;
        const pr = link.pr ?? stored.parental_responsibility;
        if (relationship === stored.relationship && pr === stored.parental_responsibility) continue;
        plan.linkUpdates.push({ link: stored, relationship, pr });
      }
      if (outcome.get(parentMisId) === 'unchanged') outcome.set(parentMisId, 'update');
    }
  }
  plan.unchanged = [...outcome.values()].filter((o) => o === 'unchanged').length;

  if (fullExport) {
    const kinds = new Set(Object.keys(plan.kinds));
    const inFile = new Set(people.keys());
    plan.leavers = existing
      .filter((p) => kinds.has(p.kind) && !inFile.has(p.mis_id!) && (p.leave_date === null || p.leave_date > today))
      .sort((a, b) => a.family_name.localeCompare(b.family_name) || a.given_name.localeCompare(b.given_name));
  }
  errors.sort((a, b) => a.line - b.line);
  return plan;
}

// ---- preview and apply -----------------------------------------------------

interface ImportDeps {
  store: Store;
  audit: AuditLog;
}

interface RunSummary {
  kind: PersonKind | null;
  columns: Partial<Record<ImportField, string>>;
  encoding: FileEncoding;
  rows: number;
  create: number;
  update: number;
  unchanged: number;
  errorCount: number;
  errors: ImportError[];
  leavers: string[];
  applied?: ApplyResult;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function todayFor(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

/** Dry run: reports what applying the file would do; stores only the import run. */
export async function previewImport(deps: ImportDeps, actor: Actor, schoolId: string, input: PreviewInput): Promise<PreviewResult> {
  if (input.kind && !PERSON_KINDS.includes(input.kind)) throw invalid(`Unknown kind "${input.kind}"`, [{ where: 'kind', message: `must be one of ${PERSON_KINDS.join(', ')}` }]);
  const columns = effectiveMapping(input.preset, input.mapping);
  const read = readImportFile(input.file, columns, input.kind);
  const plan = await planImport(deps.store.db, schoolId, read, input.fullExport, todayFor());
  const result: PreviewResult = {
    runId: randomUUID(),
    ok: plan.errors.length === 0,
    rows: read.records,
    create: plan.creates.length,
    update: plan.updates.length + countLinkOnlyUpdates(plan),
    unchanged: plan.unchanged,
    errors: plan.errors,
    leavers: plan.leavers.map((p) => ({ id: p.id, name: `${p.given_name} ${p.family_name}`, kind: p.kind })),
    encoding: read.encoding,
    kinds: plan.kinds,
  };
  const summary: RunSummary = {
    kind: input.kind ?? null,
    columns,
    encoding: read.encoding,
    rows: result.rows,
    create: result.create,
    update: result.update,
    unchanged: result.unchanged,
    errorCount: plan.errors.length,
    errors: plan.errors.slice(0, 100),
    leavers: result.leavers.map((l) => l.id),
  };
  const run: ImportRunsTable = {
    id: result.runId,
    school_id: schoolId,
    created_by: actor.id,
    file_name: input.fileName.slice(0, 255),
    file_sha256: sha256(input.file),
    preset: input.preset,
    full_export: input.fullExport ? 1 : 0,
    status: 'previewed',
    summary: JSON.stringify(summary),
    created_at: nowIso(),
    applied_at: null,
  };
  await store.insertImportRun(deps.store.db, run);
  return result;
}

/** Parents whose only change is a new or changed link. */
function countLinkOnlyUpdates(plan: Plan): number {
  const updated = new Set(plan.updates.map((u) => u.before.id));
  const created = new Set(plan.creates.map((c) => c.id));
  const parents = new Set<string>();
  for (const l of plan.linkCreates) if (!updated.has(l.parent_id) && !created.has(l.parent_id)) parents.add(l.parent_id);
  for (const l of plan.linkUpdates) if (!updated.has(l.link.parent_id)) parents.add(l.link.parent_id);
  return parents.size;
}

/** The file's problems as issues that name `file:line`. */
function asIssues(fileName: string, errors: ImportError[]): Issue[] {
  return errors.map((e) => ({ where: `${fileName}:${e.line}`, message: `${e.field}: ${e.message}` }));
}

/** Applies a previewed run: the same file, checked again, in one transaction. */
export async function applyImport(
  deps: ImportDeps,
  actor: Actor,
  schoolId: string,
  input: ApplyInput,
  options: { onProgress?: (done: number, total: number) => void } = {},
): Promise<ApplyResult> {
  const { audit } = deps;
  const run = await store.getImportRun(deps.store.db, schoolId, input.runId);
  if (!run) throw notFound('Import run');
  if (run.status !== 'previewed') throw conflict(`This import was already ${run.status}: preview the file again`);
  if (sha256(input.file) !== run.file_sha256) {
    throw invalid('The file differs from the one that was previewed: preview it again', [{ where: 'fileBase64', message: 'is not the previewed file' }]);
  }
  const summary = JSON.parse(run.summary) as RunSummary;
  const read = readImportFile(input.file, summary.columns, summary.kind ?? undefined);
  const today = todayFor();

  const result = await audit.transaction(async (trx: Transaction<Database>) => {
    // Claim the run first, so two applies of one preview cannot both write.
    const claimed = await trx
      .updateTable('import_runs')
      .set({ status: 'applied', applied_at: nowIso() })
      .where('school_id', '=', schoolId)
      .where('id', '=', run.id)
      .where('status', '=', 'previewed')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) throw conflict('This import is being applied or was applied already: preview the file again');

    const plan = await planImport(trx, schoolId, read, run.full_export === 1, today);
    if (plan.errors.length) {
      throw invalid(`The file has ${plan.errors.length} bad row(s); nothing was imported`, asIssues(run.file_name, plan.errors));
    }
    const proposed = new Map(plan.leavers.map((p) => [p.id, p]));
    const notProposed = input.confirmLeavers.filter((id) => !proposed.has(id));
    if (notProposed.length) {
      throw invalid('Only proposed leavers can be confirmed; nothing was imported', notProposed.map((id) => ({ where: 'confirmLeavers', message: `${id} is not a proposed leaver of this import` })));
    }

    const total = plan.creates.length + plan.updates.length;
    let done = 0;
    const tick = () => {
      done += 1;
      if (done % 500 === 0 || done === total) options.onProgress?.(done, total);
    };
    await store.insertPeople(trx, plan.creates);
    for (const row of plan.creates) {
      await audit.append(trx, actor, {
        schoolId,
        action: 'person.create',
        targetType: 'person',
        targetId: row.id,
        details: { kind: row.kind, name: `${row.given_name} ${row.family_name}`, misId: row.mis_id, importRunId: run.id },
      });
      tick();
    }
    const now = nowIso();
    for (const update of plan.updates) {
      await store.updatePersonRow(trx, schoolId, update.before.id, { ...update.set, updated_at: now });
      await audit.append(trx, actor, {
        schoolId,
        action: 'person.update',
        targetType: 'person',
        targetId: update.before.id,
        details: { name: `${update.set.given_name ?? update.before.given_name} ${update.set.family_name ?? update.before.family_name}`, changed: update.changed, importRunId: run.id },
      });
      tick();
    }
    await store.insertParentLinks(trx, plan.linkCreates);
    for (const u of plan.linkUpdates) {
      await store.updateParentLink(trx, schoolId, u.link.id, { relationship: u.relationship, parental_responsibility: u.pr });
    }
    const leavers = input.confirmLeavers.map((id) => proposed.get(id)!);
    for (const leaver of leavers) {
      await store.updatePersonRow(trx, schoolId, leaver.id, { leave_date: today, updated_at: now });
      await audit.append(trx, actor, {
        schoolId,
        action: 'person.leave',
        targetType: 'person',
        targetId: leaver.id,
        details: { name: `${leaver.given_name} ${leaver.family_name}`, leaveDate: today, importRunId: run.id },
      });
    }
    const sync = await syncYearAndClassGroups(trx, audit, actor, schoolId, [
      ...plan.sync,
      ...leavers.filter((l) => l.kind === 'pupil').map((l) => ({ personId: l.id, yearGroup: null, registrationGroup: null })),
    ]);
    const applied: ApplyResult = {
      created: plan.creates.length,
      updated: plan.updates.length + countLinkOnlyUpdates(plan),
      unchanged: plan.unchanged,
      leaversMarked: leavers.length,
      linksCreated: plan.linkCreates.length,
      linksUpdated: plan.linkUpdates.length,
      ...sync,
    };
    await store.updateImportRun(trx, schoolId, run.id, { summary: JSON.stringify({ ...summary, applied }) });
    await audit.append(trx, actor, {
      schoolId,
      action: 'people.import',
      targetType: 'import_run',
      targetId: run.id,
      details: { fileName: run.file_name, sha256: run.file_sha256, preset: run.preset, fullExport: run.full_export === 1, ...applied },
    });
    return applied;
  });
  return result;
}
