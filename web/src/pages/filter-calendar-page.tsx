/**
 * Filtering: the school calendar. Schedules marked "school days only" apply
 * on weekdays inside a term and not on a closure day (INSET days, bank
 * holidays), so the terms and closures decide when those rules act. The
 * whole calendar is edited at once and saved with one reason (the API
 * replaces it whole); dates are checked here first so mistakes show beside
 * the row before anything is sent.
 */
import { useEffect, useState } from 'react';
import { ApiError, type FilterCalendar, type Issue, api } from '../api.ts';
import { FormError, Loading, Notice, TextField, formatDate, useApiGet, useSave } from '../components.tsx';
import { type Change, FilterNav, ReviewFirstForm, useReview } from '../filter/filter-common.tsx';
import { usePageTitle } from '../router.tsx';

/** A row being edited; `from` is the index of the saved row it started as (null: new). */
type TermRow = { label: string; start: string; end: string; from: number | null };
type ClosureRow = { date: string; label: string; from: number | null };

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Whether a text is a real calendar date `YYYY-MM-DD` (not 2026-02-30). */
export function isRealDate(text: string): boolean {
  if (!DATE.test(text)) return false;
  const at = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === text;
}

/** The day of the week of a `YYYY-MM-DD` date, in words. */
function weekdayOf(date: string): string {
  return isRealDate(date) ? WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()] : '';
}

const span = (start: string, end: string) => `${formatDate(start)} to ${formatDate(end)}`;

/**
 * The calendar's problems, with the same field paths the server uses
 * (`terms.0.end`), so each shows beside its field: missing names, dates that
 * are not dates, a term ending before it starts, terms that overlap, a
 * closure day listed twice.
 */
export function calendarIssues(terms: Omit<TermRow, 'from'>[], closures: Omit<ClosureRow, 'from'>[]): Issue[] {
  const issues: Issue[] = [];
  terms.forEach((t, i) => {
    if (!t.label.trim()) issues.push({ where: `terms.${i}.label`, message: 'give the term a name (for example “Autumn 1”)' });
    if (!isRealDate(t.start)) issues.push({ where: `terms.${i}.start`, message: t.start ? 'is not a date' : 'give the first day of the term' });
    if (!isRealDate(t.end)) issues.push({ where: `terms.${i}.end`, message: t.end ? 'is not a date' : 'give the last day of the term' });
    else if (isRealDate(t.start) && t.end < t.start) issues.push({ where: `terms.${i}.end`, message: `is before the first day (${formatDate(t.start)})` });
  });
  const dated = terms.map((t, i) => ({ t, i })).filter(({ t }) => isRealDate(t.start) && isRealDate(t.end) && t.end >= t.start);
  dated.sort((a, b) => (a.t.start < b.t.start ? -1 : a.t.start > b.t.start ? 1 : 0));
  for (let k = 1; k < dated.length; k += 1) {
    const previous = dated[k - 1].t;
    if (dated[k].t.start <= previous.end) issues.push({ where: `terms.${dated[k].i}.start`, message: `overlaps “${previous.label.trim() || 'another term'}” (${span(previous.start, previous.end)})` });
  }
  const seen = new Map<string, number>();
  closures.forEach((c, i) => {
    if (!isRealDate(c.date)) issues.push({ where: `closures.${i}.date`, message: c.date ? 'is not a date' : 'give the day the school is closed' });
    else if (seen.has(c.date)) issues.push({ where: `closures.${i}.date`, message: `is already closure ${(seen.get(c.date) ?? 0) + 1}` });
    else seen.set(c.date, i);
    if (!c.label.trim()) issues.push({ where: `closures.${i}.label`, message: 'say what the closure is (INSET day, bank holiday…)' });
  });
  return issues;
}

/** What saving the draft changes, in words. */
function calendarChanges(saved: FilterCalendar, terms: TermRow[], closures: ClosureRow[]): Change[] {
  const out: Change[] = [];
  const termText = (t: { label: string; start: string; end: string }) => `the term “${t.label.trim()}”, ${span(t.start, t.end)}`;
  const keptTerms = new Set(terms.map((t) => t.from).filter((f) => f !== null));
  saved.terms.forEach((t, i) => {
    if (!keptTerms.has(i)) out.push({ kind: 'remove', text: termText(t) });
  });
  for (const t of terms) {
    if (t.from === null) {
      out.push({ kind: 'add', text: termText(t) });
      continue;
    }
    const before = saved.terms[t.from];
    if (before.label !== t.label.trim() || before.start !== t.start || before.end !== t.end) {
      out.push({ kind: 'change', text: `${termText(before)} to ${termText(t)}` });
    }
  }
  const closureText = (c: { date: string; label: string }) => `the closure on ${weekdayOf(c.date)} ${formatDate(c.date)} (${c.label.trim()})`;
  const note = (c: { date: string }) => {
    const day = isRealDate(c.date) ? new Date(`${c.date}T00:00:00Z`).getUTCDay() : 1;
    if (day === 0 || day === 6) return ': a weekend day, which is never a school day anyway';
    if (terms.length && !terms.some((t) => t.start <= c.date && c.date <= t.end)) return ': outside every term, so it changes nothing';
    return '';
  };
  const keptClosures = new Set(closures.map((c) => c.from).filter((f) => f !== null));
  saved.closures.forEach((c, i) => {
    if (!keptClosures.has(i)) out.push({ kind: 'remove', text: `${closureText(c)}: it becomes a school day again if it is a weekday in term` });
  });
  for (const c of closures) {
    if (c.from === null) {
      out.push({ kind: 'add', text: `${closureText(c)}: “school days only” schedules do not apply that day${note(c)}` });
      continue;
    }
    const before = saved.closures[c.from];
    if (before.date !== c.date || before.label !== c.label.trim()) out.push({ kind: 'change', text: `${closureText(before)} to ${closureText(c)}${note(c)}` });
  }
  return out;
}

const termRows = (c: FilterCalendar): TermRow[] => c.terms.map((t, i) => ({ ...t, from: i }));
const closureRows = (c: FilterCalendar): ClosureRow[] => c.closures.map((x, i) => ({ ...x, from: i }));

export function FilterCalendarPage({ canWrite }: { canWrite: boolean }) {
  usePageTitle('Filtering: school calendar');
  const calendar = useApiGet<FilterCalendar>('/api/filter/calendar');
  const [notice, setNotice] = useState('');
  return (
    <>
      <h1 tabIndex={-1}>Filtering</h1>
      <FilterNav />
      <h2 className="page-sub">School calendar</h2>
      <p>
        A schedule marked “school days only” (on the Schedules page) applies on a school day: Monday to Friday, inside a term, and not a closure day. Enter your
        terms with their half-terms as gaps between them, and your INSET days and bank holidays as closures. With no terms entered, every Monday to Friday is a
        school day except the closures.
      </p>
      <Notice>{notice}</Notice>
      <Loading loading={calendar.loading && !calendar.data} error={calendar.error}>
        {() =>
          calendar.data ? (
            canWrite ? (
              <CalendarForm
                saved={calendar.data}
                onSaved={(text) => {
                  setNotice(text);
                  calendar.reload();
                }}
              />
            ) : (
              <CalendarTables calendar={calendar.data} />
            )
          ) : null
        }
      </Loading>
    </>
  );
}

/** The calendar for those who may only read it. */
/** The calendar as two read-only tables (terms, closures); also shown on the schedules page. */
export function CalendarTables({ calendar }: { calendar: FilterCalendar }) {
  return (
    <div className="two-columns">
      <table className="data-table">
        <caption>Terms</caption>
        <thead>
          <tr>
            <th scope="col">Term</th>
            <th scope="col">First day</th>
            <th scope="col">Last day</th>
          </tr>
        </thead>
        <tbody>
          {calendar.terms.length ? (
            calendar.terms.map((t) => (
              <tr key={`${t.label}:${t.start}`}>
                <th scope="row">{t.label}</th>
                <td>{formatDate(t.start)}</td>
                <td>{formatDate(t.end)}</td>
              </tr>
            ))
          ) : (
            <tr>
              <td colSpan={3}>No terms: every Monday to Friday counts as a school day.</td>
            </tr>
          )}
        </tbody>
      </table>
      <table className="data-table">
        <caption>Closures</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">What</th>
          </tr>
        </thead>
        <tbody>
          {calendar.closures.length ? (
            calendar.closures.map((c) => (
              <tr key={c.date}>
                <th scope="row">
                  {weekdayOf(c.date)} {formatDate(c.date)}
                </th>
                <td>{c.label}</td>
              </tr>
            ))
          ) : (
            <tr>
              <td colSpan={2}>No closures.</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

function CalendarForm({ saved, onSaved }: { saved: FilterCalendar; onSaved: (notice: string) => void }) {
  const [terms, setTerms] = useState<TermRow[]>(() => termRows(saved));
  const [closures, setClosures] = useState<ClosureRow[]>(() => closureRows(saved));
  const review = useReview();
  const save = useSave();
  // After a save the page reloads the calendar: start again from what the server now holds.
  useEffect(() => {
    setTerms(termRows(saved));
    setClosures(closureRows(saved));
  }, [saved]);

  const editTerms = (next: TermRow[], clearErrors = false) => {
    review.edited(setTerms)(next);
    // Adding or removing a row moves the rows after it: old messages would sit beside the wrong row.
    if (clearErrors) save.setError(null);
  };
  const editClosures = (next: ClosureRow[], clearErrors = false) => {
    review.edited(setClosures)(next);
    if (clearErrors) save.setError(null);
  };
  const changes = calendarChanges(saved, terms, closures);
  const body = (reason: string) => ({
    terms: terms.map((t) => ({ label: t.label.trim(), start: t.start, end: t.end })),
    closures: closures.map((c) => ({ date: c.date, label: c.label.trim() })),
    reason,
  });

  const check = () => {
    const issues = calendarIssues(terms, closures);
    if (!issues.length) return true;
    save.setError(new ApiError(400, 'invalid', `The calendar needs correcting: ${issues.length === 1 ? 'one problem is' : `${issues.length} problems are`} shown beside the dates.`, issues));
    return false;
  };

  const submit = (reason: string) =>
    void save.run(async () => {
      await api<FilterCalendar>('PUT', '/api/filter/calendar', body(reason));
      onSaved(`Saved the school calendar (${changes.length} ${changes.length === 1 ? 'change' : 'changes'}). The filter uses it within a few seconds.`);
      review.setReviewing(false);
    });

  return (
    <section className="inline-form" aria-labelledby="calendar-edit">
      <h2 id="calendar-edit">Terms and closures</h2>
      <ReviewFirstForm
        review={review}
        save={save}
        reviewLabel={`Review changes${changes.length ? ` (${changes.length})` : ''}`}
        canReview={changes.length > 0}
        check={check}
        onCancel={changes.length ? () => {
          setTerms(termRows(saved));
          setClosures(closureRows(saved));
          save.setError(null);
        } : undefined}
        cancelLabel="Discard changes"
        changes={changes}
        fields={['terms', 'closures']}
        onSave={submit}
      >
        {/* The review step shows a save's errors; this shows the checks made before it. */}
        <FormError error={review.reviewing ? null : save.error} fields={['terms', 'closures']} />
        <h3>Terms</h3>
        {terms.length ? null : <p>No terms: every Monday to Friday counts as a school day.</p>}
        {terms.map((t, i) => (
          <fieldset key={i}>
            <legend>Term {i + 1}</legend>
            <div className="filters">
              <TextField label="Name" name={`terms.${i}.label`} value={t.label} onChange={(e) => editTerms(terms.map((x, j) => (j === i ? { ...x, label: e.target.value } : x)))} error={save.error} maxLength={100} />
              <TextField label="First day" name={`terms.${i}.start`} type="date" value={t.start} onChange={(e) => editTerms(terms.map((x, j) => (j === i ? { ...x, start: e.target.value } : x)))} error={save.error} />
              <TextField label="Last day" name={`terms.${i}.end`} type="date" value={t.end} onChange={(e) => editTerms(terms.map((x, j) => (j === i ? { ...x, end: e.target.value } : x)))} error={save.error} />
              <button type="button" className="danger-outline small" aria-label={`Remove term ${i + 1}${t.label.trim() ? ` (${t.label.trim()})` : ''}`} onClick={() => editTerms(terms.filter((_, j) => j !== i), true)}>
                Remove
              </button>
            </div>
          </fieldset>
        ))}
        <p>
          <button type="button" className="secondary small" onClick={() => editTerms([...terms, { label: '', start: '', end: '', from: null }], true)}>
            Add a term
          </button>
        </p>
        <h3>Closures</h3>
        <p className="hint">Days the school is shut although it is term time: INSET (training) days, bank holidays, a polling day.</p>
        {closures.length ? null : <p>No closures.</p>}
        <datalist id="closure-kinds">
          <option value="INSET day" />
          <option value="Bank holiday" />
          <option value="Polling day" />
        </datalist>
        {closures.map((c, i) => (
          <fieldset key={i}>
            <legend>Closure {i + 1}</legend>
            <div className="filters">
              <TextField label="Day" name={`closures.${i}.date`} type="date" value={c.date} hint={weekdayOf(c.date) || undefined} onChange={(e) => editClosures(closures.map((x, j) => (j === i ? { ...x, date: e.target.value } : x)))} error={save.error} />
              <TextField label="What" name={`closures.${i}.label`} list="closure-kinds" value={c.label} onChange={(e) => editClosures(closures.map((x, j) => (j === i ? { ...x, label: e.target.value } : x)))} error={save.error} maxLength={100} />
              <button type="button" className="danger-outline small" aria-label={`Remove closure ${i + 1}${c.date ? ` (${formatDate(c.date)})` : ''}`} onClick={() => editClosures(closures.filter((_, j) => j !== i), true)}>
                Remove
              </button>
            </div>
          </fieldset>
        ))}
        <p>
          <button type="button" className="secondary small" onClick={() => editClosures([...closures, { date: '', label: 'INSET day', from: null }], true)}>
            Add a closure
          </button>
        </p>
      </ReviewFirstForm>
    </section>
  );
}
