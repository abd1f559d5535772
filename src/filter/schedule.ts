/**
 * Weekly schedules in the school's own clock. Windows are wall-clock times in
 * the school's IANA time zone, so "08:30–15:30, Monday to Friday" means what
 * the timetable says in winter and in summer alike.
 *
 * How the clock changes are handled (Europe/London as the example):
 * - A window is tested against the local time as the wall clock reads it,
 *   minute by minute. Nothing is converted to an interval of real time.
 * - Spring forward (last Sunday of March, 01:00 → 02:00): local times from
 *   01:00 to 01:59 never happen, so a window inside that hour is not active
 *   that night, and an overnight window 22:00–06:00 lasts 7 real hours.
 * - Fall back (last Sunday of October, 02:00 → 01:00): local times from 01:00
 *   to 01:59 happen twice, and a window is active both times. An overnight
 *   window 22:00–06:00 therefore lasts 9 real hours; a window ending inside
 *   the repeated hour, say 22:00–01:30, stops at the first 01:30 and is active
 *   again from the second 01:00 to the second 01:30.
 *
 * Other rules:
 * - A window whose end is before its start runs overnight and belongs to the
 *   day it starts on: Friday 22:00–06:00 is active until Saturday 06:00 and is
 *   tested against Friday's weekday and Friday's school-day status.
 * - `24:00` as an end means midnight at the end of the day; a window whose end
 *   equals its start is empty (never active).
 * - A school day is Monday to Friday, inside a term, and not a closure (INSET
 *   day, bank holiday). With no terms configured every Monday to Friday is a
 *   school day, minus closures.
 *
 * `Intl` is used once per minute at most (`SchoolClock.at` caches by minute),
 * never per query.
 */
import type { Schedule, SchoolCalendar } from './policy.types.ts';

/** One local day as schedules see it. */
export interface LocalDay {
  /** `YYYY-MM-DD` in the school's time zone. */
  date: string;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
  schoolDay: boolean;
}

/** The school's wall clock during one minute of real time. */
export interface LocalMinute {
  /** `Math.floor(epochMs / 60000)`: the real minute this describes. */
  key: number;
  /** Minutes since local midnight, 0 … 1439, as the wall clock reads. */
  minute: number;
  today: LocalDay;
  /** The local day before `today` (overnight windows started then). */
  yesterday: LocalDay;
}

const MINUTE_MS = 60_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function isoDate(year: number, month: number, day: number): string {
  // Through Date.UTC so that day 0 is the last day of the previous month.
  return new Date(Date.UTC(year, month - 1, day)).toISOString().slice(0, 10);
}

function isoWeekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() || 7;
}

/**
 * The school's clock and calendar. Construction fails with a RangeError when
 * the time zone is not a known IANA zone.
 */
export class SchoolClock {
  readonly timeZone: string;
  private readonly format: Intl.DateTimeFormat;
  private readonly terms: readonly { start: string; end: string }[];
  private readonly closures: ReadonlySet<string>;
  private cached: LocalMinute | null = null;

  constructor(timeZone: string, calendar: SchoolCalendar) {
    this.timeZone = timeZone;
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
      numberingSystem: 'latn',
    });
    this.terms = calendar.terms;
    this.closures = new Set(calendar.closures.map((c) => c.date));
  }

  /** Whether a local date is a school day (see the module comment). */
  isSchoolDay(date: string, weekday: number): boolean {
    if (weekday > 5 || this.closures.has(date)) return false;
    if (this.terms.length === 0) return true;
    for (const term of this.terms) if (term.start <= date && date <= term.end) return true;
    return false;
  }

  /** The local date and time parts of an instant. Uses Intl: call once per minute, not per query. */
  parts(epochMs: number): { year: number; month: number; day: number; hour: number; minute: number } {
    const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0 };
    for (const part of this.format.formatToParts(epochMs)) {
      if (part.type === 'year' || part.type === 'month' || part.type === 'day' || part.type === 'hour' || part.type === 'minute') {
        out[part.type] = Number(part.value);
      }
    }
    return out;
  }

  /** The wall clock during the minute holding `epochMs`; the last minute asked is cached. */
  at(epochMs: number): LocalMinute {
    const key = Math.floor(epochMs / MINUTE_MS);
    if (this.cached && this.cached.key === key) return this.cached;
    const p = this.parts(key * MINUTE_MS);
    const date = isoDate(p.year, p.month, p.day);
    const weekday = isoWeekday(p.year, p.month, p.day);
    const yesterdayDate = isoDate(p.year, p.month, p.day - 1);
    const yesterdayWeekday = weekday === 1 ? 7 : weekday - 1;
    this.cached = {
      key,
      minute: p.hour * 60 + p.minute,
      today: { date, weekday, schoolDay: this.isSchoolDay(date, weekday) },
      yesterday: { date: yesterdayDate, weekday: yesterdayWeekday, schoolDay: this.isSchoolDay(yesterdayDate, yesterdayWeekday) },
    };
    return this.cached;
  }

  /**
   * "15:40" when `epochMs` falls on the same local day as `relativeTo`, else
   * "15:40 on 3 Mar 2026"; for reasons people read. Uses Intl: compile time only.
   */
  describe(epochMs: number, relativeTo: number): string {
    const p = this.parts(epochMs);
    const time = `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
    const r = this.parts(relativeTo);
    if (r.year === p.year && r.month === p.month && r.day === p.day) return time;
    return `${time} on ${p.day} ${MONTHS[p.month - 1]} ${p.year}`;
  }
}

/** Minutes since midnight of an `HH:MM` time (`24:00` allowed when `end`), or null when malformed. */
export function parseClockTime(text: string, end = false): number | null {
  const match = /^(\d{2}):(\d{2})$/.exec(text);
  if (!match) return null;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (minutes > 59) return null;
  if (hours === 24 && minutes === 0 && end) return 1440;
  if (hours > 23) return null;
  return hours * 60 + minutes;
}

/** A window ready to test: weekday bits (bit 1 = Monday … bit 7 = Sunday) and minutes. */
interface CompiledWindow {
  days: number;
  start: number;
  end: number;
}

/** A schedule compiled for per-minute evaluation. */
export class CompiledSchedule {
  readonly id: string;
  readonly name: string;
  readonly schoolDaysOnly: boolean;
  /** Windows that could not be read, said in words (the policy module should have refused them). */
  readonly problems: string[] = [];
  private readonly windows: CompiledWindow[] = [];

  constructor(schedule: Schedule) {
    this.id = schedule.id;
    this.name = schedule.name;
    this.schoolDaysOnly = schedule.schoolDaysOnly;
    schedule.windows.forEach((window, index) => {
      const start = parseClockTime(window.start);
      const end = parseClockTime(window.end, true);
      if (start === null || end === null) {
        this.problems.push(`schedule ${schedule.id} window ${index + 1}: times must be HH:MM (got ${window.start}–${window.end})`);
        return;
      }
      let days = 0;
      for (const day of window.days) if (Number.isInteger(day) && day >= 1 && day <= 7) days |= 1 << day;
      if (days === 0) this.problems.push(`schedule ${schedule.id} window ${index + 1}: no weekday between 1 and 7`);
      if (days !== 0 && start !== end) this.windows.push({ days, start, end });
    });
  }

  /** Whether the schedule is active during a local minute. */
  isActive(local: LocalMinute): boolean {
    const m = local.minute;
    const today = local.today;
    const yesterday = local.yesterday;
    const todayCounts = !this.schoolDaysOnly || today.schoolDay;
    const yesterdayCounts = !this.schoolDaysOnly || yesterday.schoolDay;
    for (const w of this.windows) {
      if (w.start < w.end) {
        if (todayCounts && w.days & (1 << today.weekday) && m >= w.start && m < w.end) return true;
      } else {
        // Overnight: the evening part belongs to today, the morning part to the window that started yesterday.
        if (todayCounts && w.days & (1 << today.weekday) && m >= w.start) return true;
        if (yesterdayCounts && w.days & (1 << yesterday.weekday) && m < w.end) return true;
      }
    }
    return false;
  }
}
