/**
 * Filtering: sanctions, a person's or device's network rights removed until a
 * date, keeping a short allow list (the school's learning platform, say).
 * Sanctions are behaviour records: reading them is audited by the server,
 * and they are lifted early, never deleted.
 */
import { useState } from 'react';
import { api, type Device, type FilterSanction } from '../api.ts';
import { CheckboxField, Loading, Notice, SelectField, TextField, formatDate, formatDateTime, issuesFor, useApiGet, useSave } from '../components.tsx';
import { FilterNav, PersonPicker, RemovalRow, ReviewFirstForm, usePersonNames, useReview } from '../filter/filter-common.tsx';
import { usePageTitle } from '../router.tsx';

/** The end of a local calendar day (`YYYY-MM-DD`) as an ISO timestamp: a sanction "until Friday" lasts all Friday. */
export function endOfLocalDay(date: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return '';
  const [y, m, d] = date.split('-').map(Number);
  const at = new Date(y, m - 1, d, 23, 59, 0);
  return Number.isNaN(at.getTime()) ? '' : at.toISOString();
}

const todayPlus = (days: number) => {
  const at = new Date(Date.now() + days * 86_400_000);
  return `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, '0')}-${String(at.getDate()).padStart(2, '0')}`;
};

export function FilterSanctionsPage({ canWrite, canReadPeople, canReadDevices }: { canWrite: boolean; canReadPeople: boolean; canReadDevices: boolean }) {
  usePageTitle('Filtering: sanctions');
  const [includeAll, setIncludeAll] = useState(false);
  const sanctions = useApiGet<{ items: FilterSanction[] }>(`/api/filter/sanctions?include=${includeAll ? 'all' : 'active'}`);
  const devices = useApiGet<{ items: Device[] }>(canReadDevices ? '/api/devices' : null);
  const people = usePersonNames(sanctions.data?.items.map((s) => s.personId) ?? [], canReadPeople);
  const [notice, setNotice] = useState('');
  const [lifting, setLifting] = useState<string | null>(null);
  const liftSave = useSave();
  const who = (s: { personId: string | null; deviceId: string | null }) =>
    s.personId ? (people.get(s.personId) ?? 'a person') : s.deviceId ? (devices.data?.items.find((d) => d.id === s.deviceId)?.name ?? 'a device') : 'no one';

  const lift = (s: FilterSanction, reason: string) =>
    void liftSave.run(async () => {
      await api('POST', `/api/filter/sanctions/${encodeURIComponent(s.id)}/lift`, { reason });
      setNotice(`Lifted the sanction on ${who(s)}: their usual filtering applies again.`);
      setLifting(null);
      sanctions.reload();
    });

  return (
    <>
      <h1 tabIndex={-1}>Filtering</h1>
      <FilterNav />
      <h2 className="page-sub">Sanctions</h2>
      <p>A sanction removes a person’s or a device’s internet access until a date, except for the sites you list. Sanctions are behaviour records: looking at this page is recorded in the audit log.</p>
      <Notice>{notice}</Notice>
      <CheckboxField name="includeAll" label="Include ended and lifted sanctions" checked={includeAll} onChange={(e) => setIncludeAll(e.target.checked)} />
      <Loading loading={sanctions.loading && !sanctions.data} error={sanctions.error}>
        {() =>
          sanctions.data?.items.length ? (
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Who</th>
                  <th scope="col">Until</th>
                  <th scope="col">Still allowed</th>
                  <th scope="col">Why</th>
                  <th scope="col">State</th>
                  {canWrite ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {sanctions.data.items.map((s) => [
                  <tr key={s.id}>
                    <th scope="row">{who(s)}</th>
                    <td>{formatDateTime(s.until)}</td>
                    <td>{s.allow.length ? s.allow.join(', ') : 'Nothing'}</td>
                    <td>
                      {s.reason}
                      <span className="hint"> ({s.createdBy})</span>
                    </td>
                    <td>{s.active ? 'Active' : s.liftedAt ? `Lifted ${formatDateTime(s.liftedAt)} by ${s.liftedBy}: ${s.liftReason}` : 'Ended'}</td>
                    {canWrite ? (
                      <td className="actions">
                        {s.active ? (
                          <button type="button" className="danger-outline small" aria-expanded={lifting === s.id} aria-label={`Lift the sanction on ${who(s)}`} onClick={() => setLifting(lifting === s.id ? null : s.id)}>
                            Lift
                          </button>
                        ) : null}
                      </td>
                    ) : null}
                  </tr>,
                  lifting === s.id ? (
                    <RemovalRow key={`${s.id}-lift`} colSpan={6} change={{ kind: 'remove', text: `the sanction on ${who(s)}: their usual filtering applies again now, not at ${formatDateTime(s.until)}` }} save={liftSave} onSave={(reason) => lift(s, reason)} onBack={() => setLifting(null)} backLabel="Keep this sanction" />
                  ) : null,
                ])}
              </tbody>
            </table>
          ) : (
            <p>{includeAll ? 'No sanctions have been recorded.' : 'No sanctions are active.'}</p>
          )
        }
      </Loading>
      {canWrite ? (
        <SanctionForm
          devices={devices.data?.items.filter((d) => !d.retiredAt) ?? []}
          canReadPeople={canReadPeople}
          onSaved={(text) => {
            setNotice(text);
            sanctions.reload();
          }}
        />
      ) : null}
    </>
  );
}

function SanctionForm({ devices, canReadPeople, onSaved }: { devices: Device[]; canReadPeople: boolean; onSaved: (notice: string) => void }) {
  const [target, setTarget] = useState<'personId' | 'deviceId'>(canReadPeople ? 'personId' : 'deviceId');
  const [person, setPerson] = useState<{ id: string; name: string } | null>(null);
  const [deviceId, setDeviceId] = useState('');
  const [untilDate, setUntilDate] = useState(todayPlus(7));
  const [allow, setAllow] = useState('');
  const review = useReview();
  const save = useSave();
  const changed = review.edited;
  const allowList = allow
    .split(/[\s,]+/)
    .map((a) => a.trim())
    .filter(Boolean);
  const whoText = target === 'personId' ? (person?.name ?? 'no person chosen') : (devices.find((d) => d.id === deviceId)?.name ?? 'no device chosen');
  const until = endOfLocalDay(untilDate);
  // The allow list's issues name `allow.N`; they are shown beside the one field.
  const allowProblems = issuesFor(save.error, 'allow');

  const submit = (reason: string) =>
    void save.run(async () => {
      await api('POST', '/api/filter/sanctions', {
        personId: target === 'personId' ? (person?.id ?? null) : null,
        deviceId: target === 'deviceId' ? deviceId || null : null,
        until: until || untilDate,
        allow: allowList,
        reason,
      });
      onSaved(`Sanction recorded: ${whoText} has no internet access${allowList.length ? ` except ${allowList.join(', ')}` : ''} until the end of ${formatDate(untilDate)}.`);
      review.setReviewing(false);
      setPerson(null);
      setAllow('');
    });

  return (
    <section aria-labelledby="add-sanction" className="inline-form">
      <h2 id="add-sanction">Record a sanction</h2>
      <ReviewFirstForm review={review} save={save} reviewLabel="Review this sanction" changes={[{ kind: 'block', text: `all internet access for ${whoText} until the end of ${formatDate(untilDate)}${allowList.length ? `, except ${allowList.join(', ')}` : ''}` }]} fields={['personId', 'deviceId', 'until', 'allow']} onSave={submit}>
        <fieldset>
          <legend>Who</legend>
          {canReadPeople ? (
            <div className="field field-checkbox">
              <input type="radio" id="sa-person" name="sa-target" checked={target === 'personId'} onChange={() => changed(setTarget)('personId')} />
              <label htmlFor="sa-person">A person</label>
            </div>
          ) : null}
          <div className="field field-checkbox">
            <input type="radio" id="sa-device" name="sa-target" checked={target === 'deviceId'} onChange={() => changed(setTarget)('deviceId')} />
            <label htmlFor="sa-device">A device</label>
          </div>
          {target === 'personId' ? (
            <PersonPicker value={person} onChange={changed(setPerson)} error={save.error} />
          ) : (
            <SelectField label="Device" name="deviceId" value={deviceId} onChange={(e) => changed(setDeviceId)(e.target.value)} error={save.error}>
              <option value="">Choose a device</option>
              {devices.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </SelectField>
          )}
        </fieldset>
        <TextField label="Until the end of" name="until" type="date" value={untilDate} onChange={(e) => changed(setUntilDate)(e.target.value)} error={save.error} required />
        <div className={`field${allowProblems.length ? ' field-invalid' : ''}`}>
          <label htmlFor="sa-allow">Still allowed (optional)</label>
          <p className="hint" id="sa-allow-hint">
            Sites that stay reachable, one per line (for example the school’s learning platform).
          </p>
          <p className="field-error" id="sa-allow-error" aria-live="polite">
            {allowProblems.join(' ')}
          </p>
          <textarea id="sa-allow" rows={3} value={allow} onChange={(e) => changed(setAllow)(e.target.value)} aria-describedby="sa-allow-hint sa-allow-error" aria-invalid={allowProblems.length ? true : undefined} spellCheck={false} />
        </div>
      </ReviewFirstForm>
    </section>
  );
}
