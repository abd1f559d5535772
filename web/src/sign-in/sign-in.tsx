/**
 * Signing in: sign-in name and password, then whatever the server says comes
 * next (`next`): a two-factor code, first-time two-factor enrolment with its
 * recovery codes, or a forced password change. Each step is its own form.
 */
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api, type Me, type NextStep, setCsrfToken } from '../api.ts';
import { CheckboxField, FormError, TextField, useApiGet } from '../components.tsx';
import { useLocation, usePageTitle } from '../router.tsx';

type Step = NextStep | 'credentials' | 'recovery_codes';

/** The step a half-signed-in session still has to pass (after a reload mid sign-in). */
export function pendingStep(me: Me): NextStep {
  if (me.account.mustChangePassword) return 'change_password';
  if (!me.account.mfa.satisfied && (me.account.mfa.required || me.account.mfa.enabled)) {
    return me.account.mfa.enabled ? 'mfa' : 'mfa_setup';
  }
  return 'done';
}

/** The whole sign-in journey; calls onDone when the session is fully signed in. */
export function SignIn({ start, onDone }: { start: Step; onDone: () => void }) {
  const [step, setStep] = useState<Step>(start);
  // Recovery codes live only in this component's memory, shown once.
  const [recovery, setRecovery] = useState<{ codes: string[]; next: NextStep } | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const firstRender = useRef(true);
  useEffect(() => {
    // Each new step is announced and starts at its heading.
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    headingRef.current?.focus();
  }, [step]);

  const go = (next: NextStep) => (next === 'done' ? onDone() : setStep(next));
  const signOut = async () => {
    try {
      await api('POST', '/api/auth/sign-out');
    } catch {
      // Already signed out: nothing to do.
    }
    setStep('credentials');
  };

  const titles: Record<Step, string> = {
    credentials: 'Sign in to Schoolgate',
    mfa: 'Enter your two-factor code',
    mfa_setup: 'Set up two-factor sign-in',
    recovery_codes: 'Your recovery codes',
    change_password: 'Choose a new password',
    done: 'Signed in',
  };
  usePageTitle(titles[step]);

  return (
    <div className="sign-in-page">
      <header className="sign-in-header">
        <p className="brand">Schoolgate</p>
      </header>
      <main id="main" className="sign-in-card">
        <h1 tabIndex={-1} ref={headingRef}>
          {titles[step]}
        </h1>
        {step === 'credentials' ? <Credentials onNext={go} /> : null}
        {step === 'mfa' ? <MfaCode onNext={go} /> : null}
        {step === 'mfa_setup' ? <MfaSetup onConfirmed={(codes, next) => { setRecovery({ codes, next }); setStep('recovery_codes'); }} /> : null}
        {step === 'recovery_codes' && recovery ? <RecoveryCodes codes={recovery.codes} onContinue={() => go(recovery.next)} /> : null}
        {step === 'change_password' ? <ChangePassword onNext={go} /> : null}
        {step !== 'credentials' && step !== 'recovery_codes' ? (
          <p className="aside">
            <button type="button" className="link-button" onClick={signOut}>
              Cancel and sign out
            </button>
          </p>
        ) : null}
      </main>
    </div>
  );
}

function Credentials({ onNext }: { onNext: (next: NextStep) => void }) {
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { search } = useLocation();
  const ssoError = search.get('error');
  const providers = useApiGet<{ providers: { id: string; name: string }[] }>('/api/auth/providers');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await api<{ next: NextStep; csrfToken: string }>('POST', '/api/auth/sign-in', { login, password });
      setCsrfToken(result.csrfToken);
      onNext(result.next);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  const list = providers.data?.providers ?? [];
  return (
    <>
      {ssoError ? (
        <div className="error-summary" role="alert">
          <p>Single sign-on did not work: {ssoError}</p>
        </div>
      ) : null}
      <form onSubmit={submit} noValidate>
        <FormError error={error} fields={['login', 'password']} />
        <TextField label="Sign-in name" name="login" autoComplete="username" value={login} onChange={(e) => setLogin(e.target.value)} error={error} required autoFocus />
        <TextField label="Password" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={error} required />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {list.length ? (
        <section aria-labelledby="sso-heading" className="sso">
          <h2 id="sso-heading">Or sign in with your school account</h2>
          <ul className="sso-list">
            {list.map((p) => (
              <li key={p.id}>
                <a className="button secondary" href={`/api/auth/sso/${encodeURIComponent(p.id)}/start`}>
                  Sign in with {p.name}
                </a>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}

function MfaCode({ onNext }: { onNext: (next: NextStep) => void }) {
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await api<{ next: NextStep }>('POST', '/api/auth/mfa/verify', { code: code.trim() });
      onNext(result.next);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} noValidate>
      <FormError error={error} fields={['code']} />
      <TextField
        label="Code"
        name="code"
        hint="The 6-digit code from your authenticator app, or one of your recovery codes."
        autoComplete="one-time-code"
        spellCheck={false}
        value={code}
        onChange={(e) => setCode(e.target.value)}
        error={error}
        required
        autoFocus
      />
      <button type="submit" disabled={busy}>
        {busy ? 'Checking…' : 'Continue'}
      </button>
    </form>
  );
}

function MfaSetup({ onConfirmed }: { onConfirmed: (codes: string[], next: NextStep) => void }) {
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauthUrl: string; qrDataUrl: string } | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const started = useRef(false);

  useEffect(() => {
    // Starting enrolment makes a new secret; do it once per visit, not per render.
    if (started.current) return;
    started.current = true;
    api<{ secret: string; otpauthUrl: string; qrDataUrl: string }>('POST', '/api/auth/mfa/setup').then(setEnrolment, setLoadError);
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await api<{ recoveryCodes: string[]; next: NextStep }>('POST', '/api/auth/mfa/confirm', { code: code.trim() });
      onConfirmed(result.recoveryCodes, result.next);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  if (loadError) return <FormError error={loadError} />;
  if (!enrolment) return <p role="status">Preparing your two-factor set-up…</p>;
  const grouped = enrolment.secret.replace(/(.{4})/g, '$1 ').trim();
  return (
    <>
      <p>Your account needs a second step at sign-in. Use an authenticator app on your phone (for example Microsoft Authenticator or Google Authenticator).</p>
      <ol className="steps">
        <li>
          <p>Scan this QR code with the app:</p>
          <img className="qr" src={enrolment.qrDataUrl} alt="QR code to add Schoolgate to your authenticator app" width={200} height={200} />
        </li>
        <li>
          <p>
            Or, if you cannot scan it, type this key into the app: <code className="secret" data-secret={enrolment.secret} aria-label={`Set-up key: ${enrolment.secret.split('').join(' ')}`}>{grouped}</code>
          </p>
        </li>
        <li>
          <p>Enter the 6-digit code the app shows, to check it works.</p>
        </li>
      </ol>
      <form onSubmit={submit} noValidate>
        <FormError error={error} fields={['code']} />
        <TextField label="Code from the app" name="code" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} error={error} required />
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Turn on two-factor sign-in'}
        </button>
      </form>
    </>
  );
}

function RecoveryCodes({ codes, onContinue }: { codes: string[]; onContinue: () => void }) {
  const [stored, setStored] = useState(false);
  return (
    <>
      <div className="warning" role="alert">
        <p>
          <strong>Store these recovery codes safely now.</strong> They are shown only this once. Each code lets you sign in once if you lose your phone.
          Keep them somewhere private, such as a password manager: not on the phone itself.
        </p>
      </div>
      <ul className="recovery-codes" aria-label="Recovery codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (stored) onContinue();
        }}
      >
        <CheckboxField label="I have stored these codes safely" name="stored" checked={stored} onChange={(e) => setStored(e.target.checked)} />
        <button type="submit" disabled={!stored}>
          Continue
        </button>
      </form>
    </>
  );
}

function ChangePassword({ onNext }: { onNext: (next: NextStep) => void }) {
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [mismatch, setMismatch] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    if (newPassword !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    setBusy(true);
    try {
      const result = await api<{ next: NextStep }>('POST', '/api/auth/password', { currentPassword, newPassword });
      onNext(result.next);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <>
      <p>You signed in with a one-time or expired password. Choose a new password that only you know.</p>
      <form onSubmit={submit} noValidate>
        <FormError error={error} fields={['currentPassword', 'newPassword']} />
        <TextField label="Current password" name="currentPassword" type="password" autoComplete="current-password" value={currentPassword} onChange={(e) => setCurrent(e.target.value)} error={error} required autoFocus />
        <TextField
          label="New password"
          name="newPassword"
          type="password"
          autoComplete="new-password"
          hint="A long passphrase of three or four random words is strong and easy to remember."
          value={newPassword}
          onChange={(e) => setNew(e.target.value)}
          error={error}
          required
        />
        <div className={`field${mismatch ? ' field-invalid' : ''}`}>
          <label htmlFor="confirm-password">Confirm new password</label>
          <p className="field-error" id="confirm-password-error" aria-live="polite">
            {mismatch ? 'The two new passwords are not the same.' : ''}
          </p>
          <input id="confirm-password" name="confirmPassword" type="password" autoComplete="new-password" aria-invalid={mismatch || undefined} aria-describedby="confirm-password-error" value={confirm} onChange={(e) => setConfirm(e.target.value)} required />
        </div>
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Change password'}
        </button>
      </form>
    </>
  );
}
