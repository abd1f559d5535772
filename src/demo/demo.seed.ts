/**
 * The demo school: "Oakfield Academy (demo)" with 300 pupils in years 7-11
 * (two classes a year), 40 staff, 8 governors, parents linked to pupils,
 * groups and networks. Names come from small built-in lists and a seeded
 * PRNG, so every demo install looks the same. People go in through the MIS
 * import (a generated CSV), so the demo exercises the real path and writes the
 * same audit entries as any import; groups and networks go through the service.
 * The caller runs it only when there is no school yet.
 */
import type { Schoolgate } from '../app.ts';
import { SYSTEM_ACTOR } from '../auth/auth.context.ts';
import { seedDemoPolicy } from '../policy/policy.demo.ts';
import type { School } from '../schools/schools.service.ts';
import { seedDemoLists } from './demo.lists.ts';

const GIVEN_NAMES = [
  'Oliver', 'Amelia', 'George', 'Isla', 'Noah', 'Ava', 'Arthur', 'Mia', 'Leo', 'Ivy',
  'Muhammad', 'Freya', 'Harry', 'Lily', 'Oscar', 'Florence', 'Archie', 'Willow', 'Henry', 'Sophia',
  'Theo', 'Grace', 'Jack', 'Evie', 'Charlie', 'Aisha', 'Finley', 'Poppy', 'Alfie', 'Zara',
  'Jacob', 'Ruby', 'Reuben', 'Maya', 'Tomasz', 'Chloe', 'Kwame', 'Priya', 'Dylan', 'Niamh',
  'Ethan', 'Hannah', 'Rhys', 'Seren', 'Callum', 'Eilidh', 'Joshua', 'Zoë', 'Samuel', 'Amara',
];
const ADULT_NAMES = [
  'Sarah', 'David', 'Emma', 'James', 'Claire', 'Paul', 'Rachel', 'Mark', 'Joanne', 'Andrew',
  'Fatima', 'Imran', 'Nicola', 'Richard', 'Helen', 'Stephen', 'Kate', 'Gareth', 'Lucy', 'Michael',
  'Agnieszka', 'Chidi', 'Deborah', 'Sanjay', 'Louise', 'Neil', 'Siobhan', 'Peter', 'Yasmin', 'Graham',
];
const FAMILY_NAMES = [
  'Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Robinson',
  'Wright', 'Thompson', 'Evans', 'Walker', 'White', 'Roberts', 'Green', 'Hall', 'Wood', 'Jackson',
  'Clarke', 'Khan', 'Hughes', 'Ahmed', 'Edwards', 'Lewis', 'Nowak', 'Okafor', 'Begum', 'Murphy',
  "O'Brien", 'Campbell', 'Kaur', 'Mensah', 'Harris', 'Martin', 'Cooper', 'Ward', 'Morris', 'Nguyen',
];

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same school every time. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)],
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
  };
}

const cell = (value: string | number | null | undefined) => {
  const text = value == null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};
const slug = (text: string) => text.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '');
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

const COLUMNS = [
  'mis_id', 'kind', 'given_name', 'family_name', 'email', 'date_of_birth', 'year_group',
  'registration_group', 'start_date', 'child_mis_id', 'relationship', 'parental_responsibility',
] as const;
type Row = Partial<Record<(typeof COLUMNS)[number], string>>;

/** The demo's people as a generic-preset CSV. */
function demoCsv(): { csv: string; pupils: number } {
  const random = prng(20_240_901);
  const rows: Row[] = [];
  const parentRows: Row[] = [];
  const academicYear = 2025; // Year 7 in September 2025 were born September 2013 - August 2014.
  let pupilNo = 0;
  let contactNo = 0;
  let previousFamily: { family: string; parents: Row[] } | undefined;
  for (let year = 7; year <= 11; year += 1) {
    for (const form of ['A', 'B']) {
      for (let i = 0; i < 30; i += 1) {
        pupilNo += 1;
        const misId = `OA${pad(pupilNo, 4)}`;
        // Every twelfth pupil is the younger sibling of the one before: same family, same parents.
        const sibling = pupilNo % 12 === 0 && previousFamily !== undefined;
        const family = sibling ? previousFamily!.family : random.pick(FAMILY_NAMES);
        const given = random.pick(GIVEN_NAMES);
        const born = academicYear - year - 5;
        const month = random.int(1, 12);
        const birthYear = month >= 9 ? born : born + 1;
        const day = random.int(1, 28);
        rows.push({
          mis_id: misId,
          kind: 'pupil',
          given_name: given,
          family_name: family,
          email: `${slug(given)}.${slug(family)}${pad(pupilNo, 3)}@pupils.oakfield.example`,
          date_of_birth: `${pad(day)}/${pad(month)}/${birthYear}`,
          year_group: `Year ${year}`,
          registration_group: `${year}${form}`,
          start_date: `01/09/${academicYear - (year - 7)}`,
        });
        let parents: Row[];
        if (sibling) {
          parents = previousFamily!.parents;
        } else {
          const twoParents = random.next() < 0.45;
          parents = [];
          const count = twoParents ? 2 : 1;
          for (let p = 0; p < count; p += 1) {
            contactNo += 1;
            const name = random.pick(ADULT_NAMES);
            // A second parent with another surname, and every seventh second parent without parental responsibility.
            const surname = p === 1 && random.next() < 0.3 ? random.pick(FAMILY_NAMES) : family;
            const noPr = p === 1 && contactNo % 7 === 0;
            parents.push({
              mis_id: `OC${pad(contactNo, 4)}`,
              kind: 'parent',
              given_name: name,
              family_name: surname,
              email: `${slug(name)}.${slug(surname)}${pad(contactNo, 3)}@home.example`,
              relationship: noPr ? 'Step-parent' : p === 0 ? 'Mother' : 'Father',
              parental_responsibility: noPr ? 'No' : 'Yes',
            });
          }
        }
        for (const parent of parents) parentRows.push({ ...parent, child_mis_id: misId });
        previousFamily = { family, parents };
      }
    }
  }
  const adults = (kind: 'staff' | 'governor', prefix: string, count: number) => {
    for (let i = 1; i <= count; i += 1) {
      const given = random.pick(ADULT_NAMES);
      const family = random.pick(FAMILY_NAMES);
      rows.push({
        mis_id: `${prefix}${pad(i, 3)}`,
        kind,
        given_name: given,
        family_name: family,
        email: `${slug(given)}.${slug(family)}${kind === 'governor' ? '.gov' : ''}${i}@oakfield.example`,
        start_date: `01/09/${random.int(2005, 2024)}`,
      });
    }
  };
  adults('staff', 'ST', 40);
  adults('governor', 'GV', 8);
  const lines = [COLUMNS.join(','), ...[...rows, ...parentRows].map((r) => COLUMNS.map((c) => cell(r[c])).join(','))];
  return { csv: `${lines.join('\r\n')}\r\n`, pupils: pupilNo };
}

/** Creates and fills the demo school; returns it. */
export async function seedDemoSchool(app: Schoolgate, options: { onProgress?: (line: string) => void } = {}): Promise<School> {
  const say = options.onProgress ?? (() => {});
  const actor = SYSTEM_ACTOR;
  const school = await app.schools.create(actor, { name: 'Oakfield Academy (demo)', timezone: 'Europe/London' });
  const people = app.people;

  const { csv } = demoCsv();
  const file = new TextEncoder().encode(csv);
  say('Demo: checking the generated MIS export…');
  const preview = await people.previewImport(actor, school.id, { fileName: 'oakfield-demo.csv', file, preset: 'generic', fullExport: false });
  if (!preview.ok) {
    // A bug in the generator, not the user's doing: say exactly what.
    throw new Error(`The demo export has bad rows: ${preview.errors.slice(0, 3).map((e) => `line ${e.line} ${e.field}: ${e.message}`).join('; ')}`);
  }
  const applied = await people.applyImport(actor, school.id, { runId: preview.runId, file, confirmLeavers: [] }, {
    onProgress: (done, total) => say(`Demo: imported ${done}/${total} people`),
  });
  say(`Demo: ${applied.created} people, ${applied.linksCreated} parent links, ${applied.groupsCreated} year and class groups`);

  const pupils = await people.createGroup(actor, school.id, { name: 'Pupils', kind: 'custom', description: 'Every pupil (year groups nest here)' });
  for (const year of await people.listGroups(school.id, 'year')) {
    await people.updateGroup(actor, school.id, year.id, { parentId: pupils.id });
  }
  const staff = await people.createGroup(actor, school.id, { name: 'Staff', kind: 'staff' });
  const governors = await people.createGroup(actor, school.id, { name: 'Governors', kind: 'governors' });
  const parents = await people.createGroup(actor, school.id, { name: 'Parents', kind: 'parents' });
  const visitors = await people.createGroup(actor, school.id, { name: 'Visitors', kind: 'visitors', description: 'Guests on the guest Wi-Fi' });
  const idsOf = async (kind: 'staff' | 'governor' | 'parent') =>
    (await people.listPeople(school.id, { kind, pageSize: 1000 })).items.map((p) => p.id);
  await people.addMembers(actor, school.id, staff.id, await idsOf('staff'));
  await people.addMembers(actor, school.id, governors.id, await idsOf('governor'));
  await people.addMembers(actor, school.id, parents.id, await idsOf('parent'));

  await people.createNetwork(actor, school.id, { name: 'Pupil Wi-Fi', cidr: '10.10.0.0/16', groupId: pupils.id, description: 'Pupil devices and the library' });
  await people.createNetwork(actor, school.id, { name: 'Pupil Wi-Fi (IPv6)', cidr: '2001:db8:10::/48', groupId: pupils.id });
  await people.createNetwork(actor, school.id, { name: 'Staff Wi-Fi', cidr: '10.20.0.0/16', groupId: staff.id });
  await people.createNetwork(actor, school.id, { name: 'Guest Wi-Fi', cidr: '10.30.0.0/16', groupId: visitors.id, description: 'Visitors and contractors' });
  // Loopback ranges, so the demo's filter can be tried from this computer as a pupil or as staff.
  await people.createNetwork(actor, school.id, { name: 'Pupil lab (this computer, demo)', cidr: '127.0.1.0/24', groupId: pupils.id });
  await people.createNetwork(actor, school.id, { name: 'Staff room (this computer, demo)', cidr: '127.0.2.0/24', groupId: staff.id });
  say('Demo: groups (pupils, staff, governors, parents, visitors) and networks are ready');
  await seedDemoPolicy(app, school, { pupils: pupils.id, staff: staff.id, visitors: visitors.id });
  say('Demo: filter policy (pupils, staff, visitors), schedules, this year’s calendar and a library iPad are ready');
  const names = await seedDemoLists(app, school.id);
  say(names === null ? 'Demo: the category lists already compiled are kept' : `Demo: category lists with ${names} well-known names (schoolgate lists sync loads the real ones)`);
  return school;
}
