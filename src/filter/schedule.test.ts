import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Schedule, SchoolCalendar } from './policy.types.ts';
import { CompiledSchedule, parseClockTime, SchoolClock } from './schedule.ts';

const CALENDAR: SchoolCalendar = {
  terms: [
    { start: '2026-01-05', end: '2026-03-27' },
    { start: '2026-04-13', end: '2026-07-22' },
    { start: '2026-09-02', end: '2026-12-18' },
  ],
  closures: [
    { date: '2026-03-06', label: 'INSET day' },
    { date: '2026-05-04', label: 'Early May bank holiday' },
  ],
};

const at = (iso: string) => Date.parse(iso);

function schedule(windows: Schedule['windows'], schoolDaysOnly = false): CompiledSchedule {
  return new CompiledSchedule({ id: 's', name: 'test', windows, schoolDaysOnly });
}

function activeAt(s: CompiledSchedule, iso: string, calendar = CALENDAR, timeZone = 'Europe/London'): boolean {
  return s.isActive(new SchoolClock(timeZone, calendar).at(at(iso)));
}

const WEEKDAYS = [1, 2, 3, 4, 5];

describe('parseClockTime', () => {
  it('reads HH:MM and 24:00 as an end', () => {
    assert.equal(parseClockTime('00:00'), 0);
    assert.equal(parseClockTime('08:30'), 510);
    assert.equal(parseClockTime('23:59'), 1439);
    assert.equal(parseClockTime('24:00', true), 1440);
    for (const bad of ['24:00', '8:30', '08:60', '25:00', '0830', '']) assert.equal(parseClockTime(bad), null, bad);
  });
});

describe('SchoolClock', () => {
  const clock = new SchoolClock('Europe/London', CALENDAR);

  it('gives the local wall clock in winter and in summer', () => {
    assert.deepEqual(clock.at(at('2026-01-15T08:30:00Z')).minute, 8 * 60 + 30);
    assert.deepEqual(clock.at(at('2026-06-15T07:30:00Z')).minute, 8 * 60 + 30); // BST
    const local = clock.at(at('2026-06-14T23:30:00Z')); // 00:30 BST on Monday 15 June
    assert.deepEqual(local.today, { date: '2026-06-15', weekday: 1, schoolDay: true });
    assert.deepEqual(local.yesterday, { date: '2026-06-14', weekday: 7, schoolDay: false });
  });

  it('knows school days: weekdays in a term, not closures', () => {
    assert.equal(clock.isSchoolDay('2026-03-02', 1), true);
    assert.equal(clock.isSchoolDay('2026-03-06', 5), false); // INSET
    assert.equal(clock.isSchoolDay('2026-04-01', 3), false); // Easter holiday
    assert.equal(clock.isSchoolDay('2026-05-04', 1), false); // bank holiday
    assert.equal(clock.isSchoolDay('2026-03-07', 6), false); // Saturday
  });

  it('counts every weekday as a school day when no terms are set, except closures', () => {
    const open = new SchoolClock('Europe/London', { terms: [], closures: [{ date: '2026-08-03', label: 'closed' }] });
    assert.equal(open.isSchoolDay('2026-08-04', 2), true);
    assert.equal(open.isSchoolDay('2026-08-03', 1), false);
    assert.equal(open.isSchoolDay('2026-08-08', 6), false);
  });

  it('words a time for reasons, with the date when it is another day', () => {
    assert.equal(clock.describe(at('2026-06-15T14:40:00Z'), at('2026-06-15T09:00:00Z')), '15:40');
    assert.equal(clock.describe(at('2026-06-16T14:40:00Z'), at('2026-06-15T09:00:00Z')), '15:40 on 16 Jun 2026');
  });

  it('refuses an unknown time zone', () => {
    assert.throws(() => new SchoolClock('Europe/Atlantis', CALENDAR), RangeError);
  });
});

describe('CompiledSchedule', () => {
  const lessons = schedule([{ days: WEEKDAYS, start: '08:30', end: '15:30' }], true);

  it('is active from the start minute up to, not including, the end minute', () => {
    assert.equal(activeAt(lessons, '2026-03-02T08:29:00Z'), false);
    assert.equal(activeAt(lessons, '2026-03-02T08:29:59Z'), false);
    assert.equal(activeAt(lessons, '2026-03-02T08:30:00Z'), true);
    assert.equal(activeAt(lessons, '2026-03-02T15:29:59Z'), true);
    assert.equal(activeAt(lessons, '2026-03-02T15:30:00Z'), false);
  });

  it('keeps wall-clock times across the clock change (08:30 BST is 07:30 UTC)', () => {
    assert.equal(activeAt(lessons, '2026-06-15T07:29:00Z'), false);
    assert.equal(activeAt(lessons, '2026-06-15T07:30:00Z'), true);
    assert.equal(activeAt(lessons, '2026-06-15T14:30:00Z'), false);
  });

  it('skips INSET days, bank holidays, school holidays and weekends when school days only', () => {
    assert.equal(activeAt(lessons, '2026-03-06T10:00:00Z'), false); // INSET Friday
    assert.equal(activeAt(lessons, '2026-05-04T09:00:00Z'), false); // bank holiday Monday (BST)
    assert.equal(activeAt(lessons, '2026-04-01T09:00:00Z'), false); // Easter holidays
    assert.equal(activeAt(lessons, '2026-03-07T10:00:00Z'), false); // Saturday
    const anyDay = schedule([{ days: WEEKDAYS, start: '08:30', end: '15:30' }], false);
    assert.equal(activeAt(anyDay, '2026-03-06T10:00:00Z'), true);
    assert.equal(activeAt(anyDay, '2026-04-01T09:00:00Z'), true);
  });

  it('runs an overnight window into the next day, belonging to the day it starts', () => {
    const sundayNight = schedule([{ days: [7], start: '22:00', end: '06:00' }]);
    assert.equal(activeAt(sundayNight, '2026-03-01T21:59:00Z'), false); // Sunday 21:59
    assert.equal(activeAt(sundayNight, '2026-03-01T22:00:00Z'), true); // Sunday 22:00
    assert.equal(activeAt(sundayNight, '2026-03-02T00:00:00Z'), true); // Monday 00:00
    assert.equal(activeAt(sundayNight, '2026-03-02T05:59:00Z'), true);
    assert.equal(activeAt(sundayNight, '2026-03-02T06:00:00Z'), false);
    assert.equal(activeAt(sundayNight, '2026-03-02T22:00:00Z'), false); // Monday night is not in the window
    assert.equal(activeAt(sundayNight, '2026-03-01T03:00:00Z'), false); // Sunday early morning belongs to Saturday night
  });

  it('tests an overnight window against the school-day status of the day it starts', () => {
    const nights = schedule([{ days: [1, 2, 3, 4, 5, 6, 7], start: '22:00', end: '06:00' }], true);
    assert.equal(activeAt(nights, '2026-03-06T23:00:00Z'), false); // starts on the INSET Friday
    assert.equal(activeAt(nights, '2026-03-07T02:00:00Z'), false);
    assert.equal(activeAt(nights, '2026-03-13T23:00:00Z'), true); // an ordinary Friday
    assert.equal(activeAt(nights, '2026-03-14T02:00:00Z'), true); // Saturday morning, still Friday's window
    assert.equal(activeAt(nights, '2026-03-15T23:00:00Z'), false); // Sunday night is not a school day's
    assert.equal(activeAt(nights, '2026-03-16T02:00:00Z'), false);
  });

  it('spring forward (2026-03-29, Europe/London): the missing hour never happens, an overnight window lasts 7 hours', () => {
    const night = schedule([{ days: [6], start: '22:00', end: '06:00' }]); // Saturday 28 March
    assert.equal(activeAt(night, '2026-03-28T21:59:00Z'), false);
    assert.equal(activeAt(night, '2026-03-28T22:00:00Z'), true); // 22:00 GMT
    assert.equal(activeAt(night, '2026-03-29T00:59:00Z'), true); // 00:59 GMT
    assert.equal(activeAt(night, '2026-03-29T01:00:00Z'), true); // 02:00 BST
    assert.equal(activeAt(night, '2026-03-29T04:59:00Z'), true); // 05:59 BST
    assert.equal(activeAt(night, '2026-03-29T05:00:00Z'), false); // 06:00 BST: 7 real hours after the start
    const missing = schedule([{ days: [7], start: '01:00', end: '02:00' }]);
    assert.equal(activeAt(missing, '2026-03-29T00:59:00Z'), false);
    assert.equal(activeAt(missing, '2026-03-29T01:00:00Z'), false); // the clock reads 02:00
  });

  it('fall back (2026-10-25, Europe/London): the repeated hour counts twice, an overnight window lasts 9 hours', () => {
    const night = schedule([{ days: [6], start: '22:00', end: '06:00' }]); // Saturday 24 October
    assert.equal(activeAt(night, '2026-10-24T20:59:00Z'), false); // 21:59 BST
    assert.equal(activeAt(night, '2026-10-24T21:00:00Z'), true); // 22:00 BST
    assert.equal(activeAt(night, '2026-10-25T00:30:00Z'), true); // 01:30 BST
    assert.equal(activeAt(night, '2026-10-25T01:30:00Z'), true); // 01:30 GMT
    assert.equal(activeAt(night, '2026-10-25T05:59:00Z'), true); // 05:59 GMT
    assert.equal(activeAt(night, '2026-10-25T06:00:00Z'), false); // 06:00 GMT: 9 real hours after the start
    // A window ending inside the repeated hour is active again for its second pass.
    const early = schedule([{ days: [6], start: '22:00', end: '01:30' }]);
    assert.equal(activeAt(early, '2026-10-25T00:29:00Z'), true); // 01:29 BST
    assert.equal(activeAt(early, '2026-10-25T00:30:00Z'), false); // 01:30 BST
    assert.equal(activeAt(early, '2026-10-25T00:59:00Z'), false); // 01:59 BST
    assert.equal(activeAt(early, '2026-10-25T01:00:00Z'), true); // 01:00 GMT, the second time
    assert.equal(activeAt(early, '2026-10-25T01:30:00Z'), false); // 01:30 GMT
  });

  it('uses the school’s zone, not the server’s', () => {
    const s = schedule([{ days: WEEKDAYS, start: '09:00', end: '10:00' }]);
    assert.equal(activeAt(s, '2026-03-02T08:30:00Z', CALENDAR, 'Asia/Kolkata'), false); // 14:00 IST
    assert.equal(activeAt(s, '2026-03-02T03:45:00Z', CALENDAR, 'Asia/Kolkata'), true); // 09:15 IST
  });

  it('treats 24:00 as the end of the day and an equal start and end as empty', () => {
    const evening = schedule([{ days: [1], start: '18:00', end: '24:00' }]);
    assert.equal(activeAt(evening, '2026-03-02T23:59:00Z'), true);
    assert.equal(activeAt(evening, '2026-03-03T00:00:00Z'), false);
    const empty = schedule([{ days: [1], start: '08:00', end: '08:00' }]);
    assert.equal(activeAt(empty, '2026-03-02T08:00:00Z'), false);
    assert.equal(activeAt(empty, '2026-03-02T20:00:00Z'), false);
  });

  it('reports windows it cannot read and ignores them', () => {
    const s = new CompiledSchedule({ id: 'x', name: 'x', schoolDaysOnly: false, windows: [{ days: [1], start: '8:00', end: '09:00' }, { days: [9], start: '08:00', end: '09:00' }] });
    assert.equal(s.problems.length, 2);
    assert.match(s.problems[0], /window 1: times must be HH:MM/);
    assert.match(s.problems[1], /window 2: no weekday/);
  });
});
