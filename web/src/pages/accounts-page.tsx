/**
 * Users & roles: the school's sign-in accounts. Change roles, disable,
 * unlock, reset two-factor or password, and create an account for a person
 * (its one-time password is shown once, here, and never again).
 */
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { type Account, api, type Me, type Page, type Person, query } from '../api.ts';
import { CheckboxField, ConfirmButton, FormError, Loading, Notice, Pager, ROLE_LABELS, TextField, formatDateTime, issuesFor, personName, useApiGet, useDebounced } from '../components.tsx';
import { useQueryParams, usePageTitle } from '../router.tsx';
import { ROLES } from '../../../src/auth/permissions.ts';

const PAGE_SIZE = 50;

export function AccountsPage({ canWrite, me }: { canWrite: boolean; me: Me }) {
  usePageTitle('Users & roles');
  const [params, setParams] = useQueryParams();
  const q = params.get('q') ?? '';
  const page = Math.max(1, Number(params.get('page') ?? '1') || 1);
  const [typed, setTyped] = useState(q);
  const settled = useDebounced(typed, 300);
  useEffect(() => {
    if (settled.trim() !== q) setParams({ q: settled.trim(), page: null }, true);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [settled]);
  const accounts = useApiGet<Page<Account>>(`/api/accounts${query({ q, page, pageSize: PAGE_SIZE })}`);
  const [open, setOpen] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ login: string; password: string } | null>(null);
  const [notice, setNotice] = useState('');

  return (
    <>
      <h1 tabIndex={-1}>Users & roles</h1>
      <Notice>{notice}</Notice>
      {secret ? <OneTimePassword login={secret.login} password={secret.password} onDone={() => setSecret(null)} /> : null}
      <form role="search" aria-label="Accounts" className="filters" onSubmit={(e) => { e.preventDefault(); setParams({ q: typed.trim(), page: null }); }}>
        <TextField label="Search accounts" name="q" type="search" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
        <button type="submit">Search</button>
      </form>
      <Loading loading={accounts.loading && !accounts.data} error={accounts.error}>
        {() =>
          accounts.data ? (
            <>
              <table className="data-table">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Sign-in name</th>
                    <th scope="col">Roles</th>
                    <th scope="col">Two-factor</th>
                    <th scope="col">Status</th>
                    <th scope="col">Last signed in</th>
                    {canWrite ? <th scope="col">Actions</th> : null}
                  </tr>
                </thead>
                <tbody>
                  {accounts.data.items.map((a) => (
                    <AccountRow
                      key={a.id}
                      account={a}
                      canWrite={canWrite}
                      isSelf={a.id === me.account.id}
                      open={open === a.id}
                      onToggle={() => setOpen(open === a.id ? null : a.id)}
                      onChanged={(message, oneTime) => {
                        setNotice(message);
                        if (oneTime) setSecret({ login: a.login, password: oneTime });
                        accounts.reload();
                      }}
                    />
                  ))}
                </tbody>
              </table>
              <Pager label="Account pages" page={accounts.data.page ?? page} pageSize={accounts.data.pageSize ?? PAGE_SIZE} total={accounts.data.total} onPage={(p) => setParams({ page: p })} />
            </>
          ) : null
        }
      </Loading>
      {canWrite ? (
        <CreateAccount
          onCreated={(account, password) => {
            setSecret({ login: account.login, password });
            setNotice(`Created an account for ${account.name}.`);
            accounts.reload();
          }}
        />
      ) : null}
    </>
  );
}

function statusOf(a: Account): string {
  if (a.disabled) return 'Disabled';
  if (a.lockedUntil && new Date(a.lockedUntil) > new Date()) return `Locked until ${formatDateTime(a.lockedUntil)}`;
  return 'Active';
}

function AccountRow({ account: a, canWrite, isSelf, open, onToggle, onChanged }: {
  account: Account;
  canWrite: boolean;
  isSelf: boolean;
  open: boolean;
  onToggle: () => void;
  onChanged: (message: string, oneTimePassword?: string) => void;
}) {
  const [roles, setRoles] = useState<Set<string>>(new Set(a.roles));
  const [error, setError] = useState<unknown>(null);
  useEffect(() => setRoles(new Set(a.roles)), [a.roles]);

  const run = async (call: () => Promise<{ oneTimePassword?: string }>, message: string) => {
    setError(null);
    try {
      const result = await call();
      onChanged(message, result.oneTimePassword);
    } catch (e) {
      setError(e);
    }
  };
  const saveRoles = (event: FormEvent) => {
    event.preventDefault();
    void run(() => api('PATCH', `/api/accounts/${a.id}`, { roles: [...roles] }), `Saved the roles of ${a.name}.`);
  };
  const locked = !!a.lockedUntil && new Date(a.lockedUntil) > new Date();
  const panelId = `account-panel-${a.id}`;

  return (
    <>
      <tr>
        <th scope="row">
          {a.name}
          {isSelf ? <span className="muted"> (you)</span> : null}
        </th>
        <td>
          <code>{a.login}</code>
        </td>
        <td>{a.roles.map((r) => ROLE_LABELS[r] ?? r).join(', ') || '—'}</td>
        <td>{a.mfaEnabled ? 'On' : 'Off'}</td>
        <td>{statusOf(a)}</td>
        <td>{formatDateTime(a.lastSignInAt)}</td>
        {canWrite ? (
          <td>
            <button type="button" className="secondary small" aria-expanded={open} aria-controls={panelId} onClick={onToggle}>
              {open ? 'Close' : 'Manage'}
              <span className="visually-hidden"> {a.name}</span>
            </button>
          </td>
        ) : null}
      </tr>
      {open && canWrite ? (
        <tr className="panel-row">
          <td colSpan={7} id={panelId}>
            <FormError error={error} fields={['roles']} />
            <form onSubmit={saveRoles} className="inline-form">
              <fieldset>
                <legend>Roles of {a.name}</legend>
                <RoleCheckboxes prefix="role-" roles={roles} onChange={setRoles} />
              </fieldset>
              <button type="submit">Save roles</button>
            </form>
            <div className="button-row">
              {a.disabled ? (
                <button type="button" className="secondary" onClick={() => run(() => api('PATCH', `/api/accounts/${a.id}`, { disabled: false }), `Enabled ${a.name}.`)}>
                  Enable account
                </button>
              ) : (
                <ConfirmButton
                  label="Disable account"
                  question={`Disable ${a.name}? They will be signed out and cannot sign in.`}
                  confirmLabel="Yes, disable"
                  disabled={isSelf}
                  onConfirm={() => run(() => api('PATCH', `/api/accounts/${a.id}`, { disabled: true }), `Disabled ${a.name}.`)}
                />
              )}
              {locked ? (
                <button type="button" className="secondary" onClick={() => run(() => api('POST', `/api/accounts/${a.id}/unlock`), `Unlocked ${a.name}.`)}>
                  Unlock
                </button>
              ) : null}
              <ConfirmButton
                label="Reset two-factor"
                question={`Reset two-factor for ${a.name}? They will set it up again at their next sign-in.`}
                confirmLabel="Yes, reset two-factor"
                disabled={!a.mfaEnabled || isSelf}
                onConfirm={() => run(() => api('POST', `/api/accounts/${a.id}/reset-mfa`), `Reset two-factor for ${a.name}.`)}
              />
              <ConfirmButton
                label="Reset password"
                disabled={isSelf}
                question={`Give ${a.name} a new one-time password? They will be signed out everywhere.`}
                confirmLabel="Yes, reset password"
                onConfirm={() => run(() => api('POST', `/api/accounts/${a.id}/reset-password`), `Reset the password of ${a.name}.`)}
              />
            </div>
            {isSelf ? <p className="muted">You cannot disable your own account or reset your own password or two-factor here: ask another administrator.</p> : null}
          </td>
        </tr>
      ) : null}
    </>
  );
}

function OneTimePassword({ login, password, onDone }: { login: string; password: string; onDone: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div className="warning one-time" tabIndex={-1} ref={ref} role="alert">
      <h2>One-time password for {login}</h2>
      <p>
        Give this password to its owner in person or by another safe route. It is shown only now; they must choose their own at first sign-in.
      </p>
      <p className="one-time-password">
        <code>{password}</code>
      </p>
      <button type="button" className="secondary" onClick={onDone}>
        I have passed it on: hide it
      </button>
    </div>
  );
}

function CreateAccount({ onCreated }: { onCreated: (account: Account, oneTimePassword: string) => void }) {
  const [search, setSearch] = useState('');
  const settled = useDebounced(search.trim(), 300);
  const people = useApiGet<Page<Person>>(settled ? `/api/people${query({ q: settled, pageSize: 20 })}` : null);
  const [personId, setPersonId] = useState('');
  const [login, setLogin] = useState('');
  const [roles, setRoles] = useState<Set<string>>(new Set());
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const result = await api<{ account: Account; oneTimePassword: string }>('POST', '/api/accounts', { personId, login, roles: [...roles] });
      onCreated(result.account, result.oneTimePassword);
      setPersonId('');
      setLogin('');
      setRoles(new Set());
      setSearch('');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const matches = settled ? (people.data?.items ?? []) : [];
  return (
    <section aria-labelledby="create-account">
      <h2 id="create-account">Create an account for a person</h2>
      <form onSubmit={submit} noValidate className="inline-form">
        <FormError error={error} fields={['personId', 'login', 'roles']} />
        <TextField label="Find the person" name="person-search" type="search" hint="Type part of their name or email." value={search} onChange={(e) => setSearch(e.target.value)} autoComplete="off" />
        <div className="field">
          <label htmlFor="create-person">Person</label>
          <p className="field-error" id="create-person-error" aria-live="polite">
            {issuesFor(error, 'personId').join(' ')}
          </p>
          <select id="create-person" name="personId" value={personId} onChange={(e) => {
            setPersonId(e.target.value);
            const chosen = matches.find((p) => p.id === e.target.value);
            if (chosen && !login && chosen.email) setLogin(chosen.email.toLowerCase());
          }} aria-describedby="create-person-error">
            <option value="">{settled ? (people.loading ? 'Searching…' : `${matches.length} found: choose one`) : 'Search above first'}</option>
            {matches.map((p) => (
              <option key={p.id} value={p.id}>
                {personName(p)} ({p.kind}{p.email ? `, ${p.email}` : ''})
              </option>
            ))}
          </select>
        </div>
        <TextField label="Sign-in name" name="login" value={login} onChange={(e) => setLogin(e.target.value)} error={error} autoComplete="off" spellCheck={false} required />
        <fieldset>
          <legend>Roles</legend>
          <RoleCheckboxes prefix="new-role-" roles={roles} onChange={setRoles} />
        </fieldset>
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create account'}
        </button>
      </form>
    </section>
  );
}

/** One checkbox per role; `prefix` keeps the field names of two forms apart. */
function RoleCheckboxes({ prefix, roles, onChange }: { prefix: string; roles: Set<string>; onChange: (roles: Set<string>) => void }) {
  return (
    <>
      {ROLES.map((r) => (
        <CheckboxField
          key={r}
          name={`${prefix}${r}`}
          label={ROLE_LABELS[r] ?? r}
          checked={roles.has(r)}
          onChange={(e) => {
            const next = new Set(roles);
            if (e.target.checked) next.add(r);
            else next.delete(r);
            onChange(next);
          }}
        />
      ))}
    </>
  );
}
