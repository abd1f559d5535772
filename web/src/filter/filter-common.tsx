/**
 * Parts shared by the filtering-policy pages: the section's own navigation,
 * the category and group look-ups, and the review step every change goes
 * through (what will change, in words, then a reason, then "Save with this
 * reason"), so no change reaches the filter without a diff and a reason.
 */
import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { api, type FilterCategory, type FilterGroupPolicy } from '../api.ts';
import { FormError, TextField, issuesFor, useApiGet, useDebounced } from '../components.tsx';
import { Link, useLocation } from '../router.tsx';

/** The pages of the Filtering section, in the order of its navigation. */
export const FILTER_PAGES: { href: string; label: string }[] = [
  { href: '/filter', label: 'Categories by group' },
  { href: '/filter/entries', label: 'Allow and deny lists' },
  { href: '/filter/schedules', label: 'Schedules' },
  { href: '/filter/exemptions', label: 'Exemptions' },
  { href: '/filter/sanctions', label: 'Sanctions' },
  { href: '/filter/calendar', label: 'School calendar' },
  { href: '/filter/settings', label: 'Filter settings' },
];

/** The Filtering section's own navigation, shown at the top of each of its pages. */
export function FilterNav() {
  const { path } = useLocation();
  return (
    <nav className="sub-nav" aria-label="Filtering pages">
      <ul>
        {FILTER_PAGES.map((p) => (
          <li key={p.href}>
            <Link href={p.href} aria-current={path === p.href ? 'page' : undefined}>
              {p.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** Words for the audiences the taxonomy suggests defaults for. */
export const AUDIENCE_LABELS: Record<string, string> = {
  primary: 'primary pupils',
  secondary: 'secondary pupils',
  staff: 'staff',
  guests: 'guests',
};

/** Words for YouTube's restriction modes. */
export const YOUTUBE_LABELS: Record<string, string> = {
  strict: 'Strict (restricted mode, strict)',
  moderate: 'Moderate (restricted mode, moderate)',
  off: 'Off (no restriction)',
};

/** Every category (with its label and description) and a label look-up. */
export function useCategories() {
  const result = useApiGet<{ items: FilterCategory[] }>('/api/lists/categories');
  const items = result.data?.items ?? [];
  const byKey = new Map(items.map((c) => [c.key, c]));
  const label = (key: string | null | undefined) => (key ? (byKey.get(key)?.label ?? key) : '');
  return { ...result, items, byKey, label };
}

/** Every group with its policy, and a name look-up. */
export function useFilterGroups() {
  const result = useApiGet<{ items: FilterGroupPolicy[] }>('/api/filter/groups');
  const items = result.data?.items ?? [];
  const name = (id: string | null | undefined) => (id ? (items.find((g) => g.groupId === id)?.groupName ?? 'a group no longer there') : '');
  return { ...result, items, name };
}

/** One line of a diff: what kind of change, and the sentence that says it. */
export interface Change {
  kind: 'block' | 'unblock' | 'add' | 'remove' | 'change';
  text: string;
}

const KIND_WORDS: Record<Change['kind'], string> = { block: 'Block', unblock: 'Unblock', add: 'Add', remove: 'Remove', change: 'Change' };

/** A diff as a list; the kind is in words as well as colour. */
export function ChangeList({ changes }: { changes: Change[] }) {
  return (
    <ul className="diff-list">
      {changes.map((c, i) => (
        <li key={`${i}:${c.text}`} className={`diff-${c.kind}`}>
          <strong className="diff-kind">{KIND_WORDS[c.kind]}:</strong> {c.text}
        </li>
      ))}
    </ul>
  );
}

/**
 * The step between editing and saving: the diff, the reason (required, kept
 * in the audit log) and "Save with this reason". `error` is the save's error:
 * its issue on `reason` shows beside the reason; issues on the form's other
 * `fields` show beside those (the caller's fields), the rest here.
 */
export function ReviewPanel(props: {
  heading?: string;
  changes: Change[];
  error: unknown;
  fields: string[];
  busy: boolean;
  onSave: (reason: string) => void;
  onBack: () => void;
  backLabel?: string;
  note?: ReactNode;
}) {
  const [reason, setReason] = useState('');
  const headingId = useId();
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // The panel replaces the button that opened it: start reading at its heading.
    headingRef.current?.focus();
  }, []);
  return (
    <section className="review-panel" aria-labelledby={headingId}>
      <h2 id={headingId} ref={headingRef} tabIndex={-1}>
        {props.heading ?? 'Check the change before saving'}
      </h2>
      {props.changes.length ? <ChangeList changes={props.changes} /> : <p>Nothing has changed.</p>}
      {props.note}
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          props.onSave(reason);
        }}
      >
        <FormError error={props.error} fields={['reason', ...props.fields]} />
        <TextField
          label="Reason for this change"
          name="reason"
          hint="Required. It is kept in the audit log with the change, so say why (for example: “Year 9 history project on propaganda, agreed with the DSL”)."
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          error={props.error}
          required
          maxLength={1000}
        />
        <div className="button-row">
          <button type="submit" disabled={props.busy || props.changes.length === 0}>
            {props.busy ? 'Saving…' : 'Save with this reason'}
          </button>
          <button type="button" className="secondary" onClick={props.onBack}>
            {props.backLabel ?? 'Back to editing'}
          </button>
        </div>
      </form>
    </section>
  );
}

/** Whether a review-first form is at its review step; `edited` wraps a setter so any edit goes back to editing (the diff shown must be what is saved). */
export function useReview() {
  const [reviewing, setReviewing] = useState(false);
  const edited =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      set(v);
      setReviewing(false);
    };
  return { reviewing, setReviewing, edited };
}

/**
 * A form whose submit button opens the review step instead of saving: the
 * fields (children), then "Review …" (and Cancel), then, once asked, the
 * ReviewPanel under the form. `check` runs first and may keep the form open
 * (client-side checks that set the save's error themselves).
 */
export function ReviewFirstForm(props: {
  review: { reviewing: boolean; setReviewing: (reviewing: boolean) => void };
  save: { error: unknown; busy: boolean; setError: (error: unknown) => void };
  reviewLabel: string;
  canReview?: boolean;
  check?: () => boolean;
  onCancel?: () => void;
  cancelLabel?: string;
  changes: Change[];
  fields: string[];
  onSave: (reason: string) => void;
  heading?: string;
  note?: ReactNode;
  children: ReactNode;
}) {
  const { review, save } = props;
  return (
    <>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          save.setError(null);
          if (props.check && !props.check()) return;
          review.setReviewing(true);
        }}
      >
        {props.children}
        {!review.reviewing ? (
          <div className="button-row">
            <button type="submit" disabled={props.canReview === false}>
              {props.reviewLabel}
            </button>
            {props.onCancel ? (
              <button type="button" className="secondary" onClick={props.onCancel}>
                {props.cancelLabel ?? 'Cancel'}
              </button>
            ) : null}
          </div>
        ) : null}
      </form>
      {review.reviewing ? (
        <ReviewPanel heading={props.heading} changes={props.changes} error={save.error} fields={props.fields} busy={save.busy} onSave={props.onSave} onBack={() => review.setReviewing(false)} note={props.note} />
      ) : null}
    </>
  );
}

/**
 * The table row under a record that asks for the reason before ending it
 * (remove an entry, revoke an exemption, lift a sanction, delete a schedule).
 */
export function RemovalRow(props: { colSpan: number; change: Change; save: { error: unknown; busy: boolean }; onSave: (reason: string) => void; onBack: () => void; backLabel: string }) {
  return (
    <tr className="panel-row">
      <td colSpan={props.colSpan}>
        <ReviewPanel changes={[props.change]} error={props.save.error} fields={[]} busy={props.save.busy} onSave={props.onSave} onBack={props.onBack} backLabel={props.backLabel} />
      </td>
    </tr>
  );
}


/** A domain entry in words: `=x` is the name alone, `x` the name and everything under it. */
export function describeDomain(entry: string): string {
  return entry.startsWith('=') ? `${entry.slice(1)} (that name only)` : `${entry} (and every name under it)`;
}

const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Days 1-7 in words, runs joined: [1,2,3,4,5] → "Mon–Fri". */
export function describeDays(days: number[]): string {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j += 1;
    const first = DAY_NAMES[sorted[i] - 1];
    const last = DAY_NAMES[sorted[j] - 1];
    parts.push(j - i >= 2 ? `${first}–${last}` : j > i ? `${first}, ${last}` : first);
    i = j + 1;
  }
  return parts.join(', ');
}

/** A schedule's windows in words. */
export function describeWindows(windows: { days: number[]; start: string; end: string }[]): string {
  return windows.map((w) => `${describeDays(w.days)} ${w.start}–${w.end}`).join('; ');
}

/** The day names, for forms. */
export const DAYS = DAY_NAMES.map((name, i) => ({ value: i + 1, name, full: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'][i] }));

/** A person's display name by id, fetched once each (only when the account may read people). */
export function usePersonNames(ids: (string | null)[], canRead: boolean): Map<string, string> {
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const wanted = [...new Set(ids.filter((id): id is string => Boolean(id)))].sort().join(',');
  useEffect(() => {
    if (!canRead || !wanted) return;
    let live = true;
    const missing = wanted.split(',').filter((id) => !names.has(id));
    if (!missing.length) return;
    void Promise.all(
      missing.map(async (id) => {
        try {
          const { person: p } = await api<{ person: { givenName: string; familyName: string; preferredName: string | null } }>('GET', `/api/people/${encodeURIComponent(id)}`);
          return [id, `${p.preferredName ?? p.givenName} ${p.familyName}`] as const;
        } catch {
          return [id, 'a person'] as const;
        }
      }),
    ).then((found) => {
      if (live) setNames((old) => new Map([...old, ...found]));
    });
    return () => {
      live = false;
    };
  }, [wanted, canRead]);
  return names;
}

/**
 * Chooses one person by searching names (needs people.read). The chosen
 * person shows with a "Choose someone else" button; `name` is the field the
 * server's issues name (personId).
 */
export function PersonPicker({ value, onChange, error, label = 'Person' }: { value: { id: string; name: string } | null; onChange: (p: { id: string; name: string } | null) => void; error: unknown; label?: string }) {
  const [q, setQ] = useState('');
  const settled = useDebounced(q.trim(), 250);
  const id = useId();
  const found = useApiGet<{ items: { id: string; givenName: string; familyName: string; preferredName: string | null; kind: string; registrationGroup: string | null }[] }>(
    !value && settled.length >= 2 ? `/api/people?q=${encodeURIComponent(settled)}&pageSize=8` : null,
  );
  const messages = issuesFor(error, 'personId');
  return (
    <div className={`field${messages.length ? ' field-invalid' : ''}`}>
      <p className="field-error" id={`${id}-error`} aria-live="polite">
        {messages.join(' ')}
      </p>
      {value ? (
        <p>
          {label}: <strong>{value.name}</strong>{' '}
          <button type="button" className="secondary small" onClick={() => onChange(null)}>
            Choose someone else
          </button>
        </p>
      ) : (
        <>
          <label htmlFor={`${id}-q`}>{label}: search by name</label>
          <input id={`${id}-q`} type="search" value={q} onChange={(e) => setQ(e.target.value)} aria-describedby={`${id}-error`} aria-invalid={messages.length ? true : undefined} autoComplete="off" />
          {settled.length >= 2 && found.data ? (
            found.data.items.length ? (
              <ul className="pick-list" aria-label="Matching people">
                {found.data.items.map((p) => {
                  const name = `${p.preferredName ?? p.givenName} ${p.familyName}`;
                  return (
                    <li key={p.id}>
                      <button type="button" className="link-button" onClick={() => onChange({ id: p.id, name })}>
                        {name}
                      </button>{' '}
                      <span className="hint">
                        {p.kind}
                        {p.registrationGroup ? `, ${p.registrationGroup}` : ''}
                      </span>
                    </li>
                  );
                })}
              </ul>
            ) : (
              <p className="hint">No one matches “{settled}”.</p>
            )
          ) : null}
        </>
      )}
    </div>
  );
}

/** A `datetime-local` value (the browser's local time) as an ISO timestamp with its zone, or '' when empty or invalid. */
export function localToIso(value: string): string {
  if (!value) return '';
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? '' : at.toISOString();
}

/** A `datetime-local` value a number of days from now, at this time of day. */
export function localInDays(days: number): string {
  const at = new Date(Date.now() + days * 86_400_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}
