/** Settings: the school's password policy. */
import { type FormEvent, useEffect, useState } from 'react';
import { api, type PasswordPolicy } from '../api.ts';
import { CheckboxField, FormError, Loading, Notice, TextField, useApiGet } from '../components.tsx';
import { usePageTitle } from '../router.tsx';

export function SettingsPage({ canWrite }: { canWrite: boolean }) {
  usePageTitle('Settings');
  const policy = useApiGet<PasswordPolicy>('/api/settings/password-policy');
  const [minLength, setMinLength] = useState('');
  const [checkBreached, setCheckBreached] = useState(false);
  const [expiryDays, setExpiryDays] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!policy.data) return;
    setMinLength(String(policy.data.minLength));
    setCheckBreached(policy.data.checkBreached);
    setExpiryDays(policy.data.expiryDays === null ? '' : String(policy.data.expiryDays));
  }, [policy.data]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setNotice('');
    setBusy(true);
    try {
      await api('PUT', '/api/settings/password-policy', {
        minLength: Number(minLength),
        checkBreached,
        expiryDays: expiryDays.trim() === '' ? null : Number(expiryDays),
      });
      setNotice('Password policy saved.');
      policy.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h1 tabIndex={-1}>Settings</h1>
      <Notice>{notice}</Notice>
      <Loading loading={policy.loading && !policy.data} error={policy.error}>
        {() => (
          <form onSubmit={submit} noValidate>
            <fieldset disabled={!canWrite}>
              <legend>
                <h2>Password policy</h2>
              </legend>
              {!canWrite ? <p>You can see the policy but not change it.</p> : null}
              <FormError error={error} fields={['minLength', 'checkBreached', 'expiryDays']} />
              <TextField label="Minimum length (characters)" name="minLength" type="number" inputMode="numeric" min={8} value={minLength} onChange={(e) => setMinLength(e.target.value)} error={error} required />
              <CheckboxField name="checkBreached" label="Refuse passwords known from data breaches" checked={checkBreached} onChange={(e) => setCheckBreached(e.target.checked)} />
              <TextField
                label="Passwords expire after (days)"
                name="expiryDays"
                type="number"
                inputMode="numeric"
                min={1}
                hint="Leave empty for passwords that never expire (the National Cyber Security Centre advises against forced expiry)."
                value={expiryDays}
                onChange={(e) => setExpiryDays(e.target.value)}
                error={error}
              />
              {canWrite ? (
                <button type="submit" disabled={busy}>
                  {busy ? 'Saving…' : 'Save password policy'}
                </button>
              ) : null}
            </fieldset>
          </form>
        )}
      </Loading>
    </>
  );
}
