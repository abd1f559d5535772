/**
 * The demo school's filter policy: schedules, group policies for Pupils,
 * Staff and Visitors, this academic year's calendar (worked out from today by
 * fixed rules, so the same day gives the same calendar), default settings and
 * one iPad. Everything goes through the policy and devices services, so the
 * demo writes the same audit entries as a real set-up. The iPad's DoH token
 * is random on purpose: a token every demo install shared would be a known secret.
 */
import type { Schoolgate } from '../app.ts';
import { SYSTEM_ACTOR } from '../auth/auth.context.ts';
import type { CategoryKey } from '../filter/categories.ts';
import { localDate } from '../people/people.service.ts';
import type { School } from '../schools/schools.service.ts';

const REASON = 'Demo school set-up';

/** Categories pupils (and visitors) never reach. */
const PUPIL_BLOCKED: CategoryKey[] = [
  'illegal', 'pornography', 'adult_themes', 'gambling', 'drugs', 'extremism', 'self_harm', 'violence',
  'malware', 'phishing', 'dating', 'social_networks', 'chat', 'vpn_proxy', 'public_dns',
];
const STAFF_BLOCKED: CategoryKey[] = ['illegal', 'pornography', 'gambling', 'malware', 'phishing', 'vpn_proxy', 'public_dns', 'extremism', 'self_harm'];

// ---- dates (UTC arithmetic on calendar days) -----------------------------------

const day = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d));
const addDays = (date: Date, n: number) => new Date(date.getTime() + n * 86_400_000);
const iso = (date: Date) => date.toISOString().slice(0, 10);
/** ISO weekday: 1 = Monday … 7 = Sunday. */
const weekday = (date: Date) => ((date.getUTCDay() + 6) % 7) + 1;
const mondayOnOrAfter = (date: Date) => addDays(date, (8 - weekday(date)) % 7);
const fridayOnOrBefore = (date: Date) => addDays(date, -((weekday(date) - 5 + 7) % 7));
const weekdayOnOrAfter = (date: Date) => (weekday(date) >= 6 ? mondayOnOrAfter(date) : date);
const lastMondayOf = (y: number, m: number) => {
  const last = day(y, m + 1, 0);
  return addDays(last, -((weekday(last) - 1 + 7) % 7));
};
const firstMondayOf = (y: number, m: number) => mondayOnOrAfter(day(y, m, 1));

/**
 * An English state-school year that starts in `startYear`: three terms, each
 * split by a half-term week (the gaps), two INSET days and the early May bank holiday.
 */
export function demoCalendar(startYear: number) {
  const y = startYear;
  const autumnStart = weekdayOnOrAfter(day(y, 9, 2));
  const octoberHalfTerm = lastMondayOf(y, 10);
  const springStart = mondayOnOrAfter(day(y + 1, 1, 5));
  const februaryHalfTerm = mondayOnOrAfter(day(y + 1, 2, 12));
  const summerStart = mondayOnOrAfter(day(y + 1, 4, 13));
  const mayHalfTerm = lastMondayOf(y + 1, 5);
  const terms = [
    { label: 'Autumn 1', start: autumnStart, end: addDays(octoberHalfTerm, -3) },
    { label: 'Autumn 2', start: addDays(octoberHalfTerm, 7), end: fridayOnOrBefore(day(y, 12, 19)) },
    { label: 'Spring 1', start: springStart, end: addDays(februaryHalfTerm, -3) },
    { label: 'Spring 2', start: addDays(februaryHalfTerm, 7), end: fridayOnOrBefore(day(y + 1, 3, 31)) },
    { label: 'Summer 1', start: summerStart, end: addDays(mayHalfTerm, -3) },
    { label: 'Summer 2', start: addDays(mayHalfTerm, 7), end: fridayOnOrBefore(day(y + 1, 7, 22)) },
  ];
  return {
    terms: terms.map((t) => ({ label: t.label, start: iso(t.start), end: iso(t.end) })),
    closures: [
      { date: iso(autumnStart), label: 'INSET day' },
      { date: iso(springStart), label: 'INSET day' },
      { date: iso(firstMondayOf(y + 1, 5)), label: 'Early May bank holiday' },
    ],
  };
}

/** The academic year a date falls in (from August on, the year starting that September). */
export function academicYearOf(date: string): number {
  const year = Number(date.slice(0, 4));
  return Number(date.slice(5, 7)) >= 8 ? year : year - 1;
}

/** Seeds the demo school's filter policy and its one demo device. */
export async function seedDemoPolicy(app: Schoolgate, school: School, groups: { pupils: string; staff: string; visitors: string }): Promise<void> {
  const actor = SYSTEM_ACTOR;
  const { policy } = app;
  const weekdays = [1, 2, 3, 4, 5];
  const schoolDay = await policy.createSchedule(actor, school.id, {
    name: 'School day',
    windows: [{ days: weekdays, start: '08:30', end: '15:30' }],
    schoolDaysOnly: true,
    reason: REASON,
  });
  const contactTime = await policy.createSchedule(actor, school.id, {
    name: 'Contact time',
    windows: [
      { days: weekdays, start: '08:45', end: '12:15' },
      { days: weekdays, start: '13:00', end: '15:15' },
    ],
    schoolDaysOnly: true,
    reason: REASON,
  });

  await policy.updateGroupPolicy(actor, school.id, groups.pupils, {
    priority: 10,
    blocked: PUPIL_BLOCKED,
    scheduled: [{ category: 'games', scheduleId: schoolDay.id, mode: 'block_during' }],
    safeSearch: true,
    youtube: 'strict',
    filterOff: false,
    reason: REASON,
  });
  await policy.updateGroupPolicy(actor, school.id, groups.staff, {
    priority: 20,
    blocked: STAFF_BLOCKED,
    scheduled: [{ category: 'social_networks', scheduleId: contactTime.id, mode: 'block_during' }],
    safeSearch: true,
    youtube: 'moderate',
    filterOff: false,
    reason: REASON,
  });
  await policy.updateGroupPolicy(actor, school.id, groups.visitors, {
    priority: 30,
    blocked: PUPIL_BLOCKED,
    scheduled: [],
    safeSearch: true,
    youtube: 'moderate',
    filterOff: false,
    reason: REASON,
  });

  await policy.setCalendar(actor, school.id, { ...demoCalendar(academicYearOf(localDate(school.timezone))), reason: REASON });
  // A client on a school network that names no group gets the strictest everyday policy.
  // Blocked names point at this machine, so the block page shows (on the web app's port in the demo; ports 80 and 443 in production).
  await policy.updateSettings(actor, school.id, {
    defaultGroupId: groups.pupils,
    blockAnswer: 'address',
    blockIpv4: '127.0.0.1',
    blockIpv6: '::1',
    blockPageContact: 'Ask your teacher, or email the IT office at ict@oakfield.example.',
    reason: REASON,
  });

  await app.devices.create(actor, school.id, { name: 'Library iPad 3', platform: 'ipados', assetTag: 'OAK-IPAD-003', groupId: groups.pupils, ownerId: null });
}
