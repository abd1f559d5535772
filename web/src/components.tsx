/**
 * Building blocks shared by every page: labelled fields that show the API's
 * issues beside themselves, the form-level error region, paging, inline
 * confirms, and date formatting in British style.
 */
import { type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, useCallback, useEffect, useId, useRef, useState } from 'react';
import { ApiError, type Issue, type Person, api } from './api.ts';

/** Whether an issue's `where` names this field (`newPassword`, `body.newPassword`, `body.cidr`...). */
export function issueMatches(where: string, field: string): boolean {
  return where === field || where.endsWith(`.${field}`) || where.startsWith(`${field}.`) || where.startsWith(`${field}[`);
}

/** The messages of the issues that name a field. */
export function issuesFor(error: unknown, field: string): string[] {
  if (!(error instanceof ApiError)) return [];
  return error.issues.filter((i) => issueMatches(i.where, field)).map((i) => sentence(i.message));
}

/** Server messages for a field start in lower case ("must be at least 12 characters"); beside a label they read as sentences. */
function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

type FieldProps = {
  label: string;
  name: string;
  error?: unknown;
  hint?: ReactNode;
};

/** A labelled input whose error messages sit beside it in a live region. */
export function TextField(props: FieldProps & Omit<InputHTMLAttributes<HTMLInputElement>, 'name'>) {
  const { label, name, error, hint, id: givenId, ...input } = props;
  const autoId = useId();
  const id = givenId ?? `f-${name}-${autoId}`;
  const messages = issuesFor(error, name);
  const describedBy = [hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' ');
  return (
    <div className={`field${messages.length ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {hint ? <p className="hint" id={`${id}-hint`}>{hint}</p> : null}
      <p className="field-error" id={`${id}-error`} aria-live="polite">
        {messages.map((m) => (
          <span key={m}>{m} </span>
        ))}
      </p>
      <input id={id} name={name} aria-invalid={messages.length ? true : undefined} aria-describedby={describedBy} {...input} />
    </div>
  );
}

/** A labelled select with the same error handling as TextField. */
export function SelectField(props: FieldProps & Omit<SelectHTMLAttributes<HTMLSelectElement>, 'name'> & { children: ReactNode }) {
  const { label, name, error, hint, children, id: givenId, ...select } = props;
  const autoId = useId();
  const id = givenId ?? `f-${name}-${autoId}`;
  const messages = issuesFor(error, name);
  return (
    <div className={`field${messages.length ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {hint ? <p className="hint" id={`${id}-hint`}>{hint}</p> : null}
      <p className="field-error" id={`${id}-error`} aria-live="polite">
        {messages.join(' ')}
      </p>
      <select id={id} name={name} aria-invalid={messages.length ? true : undefined} aria-describedby={`${hint ? `${id}-hint ` : ''}${id}-error`} {...select}>
        {children}
      </select>
    </div>
  );
}

/** A labelled checkbox. */
export function CheckboxField(props: { label: ReactNode; name: string } & Omit<InputHTMLAttributes<HTMLInputElement>, 'name' | 'type'>) {
  const { label, name, id: givenId, ...input } = props;
  const autoId = useId();
  const id = givenId ?? `f-${name}-${autoId}`;
  return (
    <div className="field field-checkbox">
      <input type="checkbox" id={id} name={name} {...input} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

/**
 * The form's own error: the message, plus any issue that names none of the
 * form's fields. A live region, so it is announced when it appears.
 */
export function FormError({ error, fields = [] }: { error: unknown; fields?: string[] }) {
  let content: ReactNode = null;
  if (error instanceof ApiError) {
    const others: Issue[] = error.issues.filter((i) => !fields.some((f) => issueMatches(i.where, f)));
    // A validation message that only lists the field problems ("body.minLength: ...") repeats
    // what is already beside each field; say where to look instead.
    const onlyRepeatsFields = error.issues.length > 0 && others.length === 0 && error.issues.some((i) => error.message.includes(`${i.where}:`) || error.message.includes(i.message));
    content = (
      <div className="error-summary">
        <p>{onlyRepeatsFields ? 'Some answers need correcting: see the messages beside the fields.' : error.message}</p>
        {others.length ? (
          <ul>
            {others.map((i) => (
              <li key={`${i.where}:${i.message}`}>
                {i.where ? <strong>{i.where}: </strong> : null}
                {i.message}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    );
  } else if (error) {
    content = (
      <div className="error-summary">
        <p>{error instanceof Error ? error.message : String(error)}</p>
      </div>
    );
  }
  return (
    <div className="form-error" role="alert" aria-live="assertive">
      {content}
    </div>
  );
}

/** A success message, announced politely. */
export function Notice({ children }: { children: ReactNode }) {
  return (
    <div aria-live="polite" className="notice-region">
      {children ? <p className="notice">{children}</p> : null}
    </div>
  );
}

/** Runs a save, keeping its error and whether it is under way. */
export function useSave() {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async (fn: () => Promise<void>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { error, setError, busy, run };
}

/** Loads JSON from a GET path; reloads when the path changes. */
export function useApiGet<T>(path: string | null): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: path !== null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    api<T>('GET', path).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Shows a loading line or the load error, else the content. */
export function Loading({ loading, error, children }: { loading: boolean; error: unknown; children: () => ReactNode }) {
  if (error) return <FormError error={error} />;
  if (loading) return <p role="status">Loading…</p>;
  return <>{children()}</>;
}

/** Previous / next paging with "Showing 1–50 of 320". */
export function Pager({ page, pageSize, total, onPage, label }: { page: number; pageSize: number; total: number; onPage: (page: number) => void; label: string }) {
  const pages = Math.max(1, Math.ceil(total / Math.max(1, pageSize)));
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  return (
    <nav className="pager" aria-label={label}>
      <p role="status">
        {total === 0 ? 'Nothing to show' : `Showing ${first}–${last} of ${total}`}
        {pages > 1 ? ` (page ${page} of ${pages})` : ''}
      </p>
      {pages > 1 ? (
        <div className="pager-buttons">
          <button type="button" className="secondary" disabled={page <= 1} onClick={() => onPage(page - 1)}>
            Previous page
          </button>
          <button type="button" className="secondary" disabled={page >= pages} onClick={() => onPage(page + 1)}>
            Next page
          </button>
        </div>
      ) : null}
    </nav>
  );
}

/**
 * A button that asks "Are you sure?" in place, instead of a modal dialog:
 * nothing to trap focus in, and focus moves to the confirm button.
 */
export function ConfirmButton({ label, question, confirmLabel, onConfirm, danger = true, disabled }: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => void | Promise<void>;
  danger?: boolean;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    // Focus goes to the question's answer, and back to the button when it is put away.
    if (asking) confirmRef.current?.focus();
    else if (wasAsking.current) openRef.current?.focus();
    wasAsking.current = asking;
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" ref={openRef} className={danger ? 'danger-outline' : 'secondary'} disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span className="inline-confirm" role="group" aria-label={question} onKeyDown={(e) => e.key === 'Escape' && setAsking(false)}>
      <span>{question}</span>{' '}
      <button
        type="button"
        ref={confirmRef}
        className={danger ? 'danger' : ''}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {confirmLabel}
      </button>{' '}
      <button type="button" className="secondary" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

const dateFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const dateTimeFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'Europe/London' });

/** `2024-09-03` → `3 Sept 2024`. */
export function formatDate(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(`${value.slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? value : dateFormat.format(date);
}

/** An ISO timestamp in UK time. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : dateTimeFormat.format(date);
}

/** "Family, Given (Preferred)" is hard to scan; schools use "Given Family". */
export function personName(p: Pick<Person, 'givenName' | 'familyName' | 'preferredName'>): string {
  const given = p.preferredName && p.preferredName !== p.givenName ? `${p.preferredName} (${p.givenName})` : p.givenName;
  return `${given} ${p.familyName}`;
}

/** The leaver badge shown beside a person who has left. */
export function LeaverBadge({ person }: { person: Pick<Person, 'left' | 'leaveDate'> }) {
  if (!person.left) return null;
  return <span className="badge badge-leaver">Left{person.leaveDate ? ` ${formatDate(person.leaveDate)}` : ''}</span>;
}

/** Words for the kinds of person and group. */
export const KIND_LABELS: Record<string, string> = {
  pupil: 'Pupil',
  staff: 'Staff',
  governor: 'Governor',
  volunteer: 'Volunteer',
  contractor: 'Contractor',
  parent: 'Parent or carer',
  visitor: 'Visitor',
  year: 'Year groups',
  class: 'Classes',
  governors: 'Governors',
  parents: 'Parents and carers',
  visitors: 'Visitors',
  custom: 'Other groups',
};

/** Words for the roles an account can hold. */
export const ROLE_LABELS: Record<string, string> = {
  admin: 'Administrator',
  dsl: 'Designated safeguarding lead',
  head: 'Headteacher',
  staff: 'Staff',
  governor: 'Governor',
  pupil: 'Pupil',
  parent: 'Parent or carer',
  visitor: 'Visitor',
};

/** Calls `fn` once the value has stopped changing for `ms` milliseconds. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
