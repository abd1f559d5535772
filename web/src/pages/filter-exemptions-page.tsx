/**
 * Filtering: exemptions, approved unblocks of a site or a category for one
 * group, person or device, that end by themselves at their expiry. Creating
 * and revoking both go through the review step with a reason; the record of
 * an exemption stays after it ends.
 */
import { useState } from 'react';
import { api, type Device, type FilterExemption } from '../api.ts';
import { CheckboxField, Loading, Notice, SelectField, TextField, formatDateTime, useApiGet, useSave } from '../components.tsx';
import { type Change, FilterNav, PersonPicker, RemovalRow, ReviewFirstForm, describeDomain, localInDays, localToIso, useCategories, useFilterGroups, usePersonNames, useReview } from '../filter/filter-common.tsx';
import { usePageTitle } from '../router.tsx';

type Target = 'groupId' | 'personId' | 'deviceId';

export function FilterExemptionsPage({ canWrite, canReadPeople, canReadDevices }: { canWrite: boolean; canReadPeople: boolean; canReadDevices: boolean }) {
  usePageTitle('Filtering: exemptions');
  const [includeAll, setIncludeAll] = useState(false);
  const exemptions = useApiGet<{ items: FilterExemption[] }>(`/api/filter/exemptions?include=${includeAll ? 'all' : 'active'}`);
  const groups = useFilterGroups();
  const categories = useCategories();
  const devices = useApiGet<{ items: Device[] }>(canReadDevices ? '/api/devices' : null);
  const people = usePersonNames(exemptions.data?.items.map((e) => e.personId) ?? [], canReadPeople);
  const [notice, setNotice] = useState('');
  const [revoking, setRevoking] = useState<string | null>(null);
  const revokeSave = useSave();

  const deviceName = (id: string) => devices.data?.items.find((d) => d.id === id)?.name ?? 'a device';
  const who = (e: { groupId: string | null; personId: string | null; deviceId: string | null }) =>
    e.groupId ? groups.name(e.groupId) : e.personId ? (people.get(e.personId) ?? 'a person') : e.deviceId ? deviceName(e.deviceId) : 'no one';
  const what = (e: { domain: string | null; category: string | null }) => (e.domain ? describeDomain(e.domain) : `the ${categories.label(e.category)} category`);

  const revoke = (e: FilterExemption, reason: string) =>
    void revokeSave.run(async () => {
      await api('POST', `/api/filter/exemptions/${encodeURIComponent(e.id)}/revoke`, { reason });
      setNotice(`Revoked the exemption for ${who(e)}: ${e.domain ?? categories.label(e.category)} is filtered as before.`);
      setRevoking(null);
      exemptions.reload();
    });

  return (
    <>
      <h1 tabIndex={-1}>Filtering</h1>
      <FilterNav />
      <h2 className="page-sub">Exemptions</h2>
      <p>An exemption unblocks a site or a category for one group, person or device until a time, then ends by itself. Illegal content can never be exempted.</p>
      <Notice>{notice}</Notice>
      <CheckboxField name="includeAll" label="Include ended and revoked exemptions" checked={includeAll} onChange={(e) => setIncludeAll(e.target.checked)} />
      <Loading loading={exemptions.loading && !exemptions.data} error={exemptions.error}>
        {() =>
          exemptions.data?.items.length ? (
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Unblocks</th>
                  <th scope="col">For</th>
                  <th scope="col">Until</th>
                  <th scope="col">Why</th>
                  <th scope="col">Approved by</th>
                  <th scope="col">State</th>
                  {canWrite ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {exemptions.data.items.map((e) => [
                  <tr key={e.id}>
                    <th scope="row">{e.domain ? <code>{e.domain}</code> : categories.label(e.category)}</th>
                    <td>{who(e)}</td>
                    <td>{formatDateTime(e.until)}</td>
                    <td>{e.reason}</td>
                    <td>
                      {e.approvedBy}
                      {e.approvedBy !== e.createdBy ? <span className="hint"> (recorded by {e.createdBy})</span> : null}
                    </td>
                    <td>{e.active ? 'Active' : e.revokedAt ? `Revoked ${formatDateTime(e.revokedAt)} by ${e.revokedBy}: ${e.revokeReason}` : 'Ended'}</td>
                    {canWrite ? (
                      <td className="actions">
                        {e.active ? (
                          <button type="button" className="danger-outline small" aria-expanded={revoking === e.id} aria-label={`Revoke the exemption for ${who(e)}`} onClick={() => setRevoking(revoking === e.id ? null : e.id)}>
                            Revoke
                          </button>
                        ) : null}
                      </td>
                    ) : null}
                  </tr>,
                  revoking === e.id ? (
                    <RemovalRow key={`${e.id}-revoke`} colSpan={7} change={{ kind: 'remove', text: `the exemption for ${who(e)}: ${what(e)} is filtered again now, not at ${formatDateTime(e.until)}` }} save={revokeSave} onSave={(reason) => revoke(e, reason)} onBack={() => setRevoking(null)} backLabel="Keep this exemption" />
                  ) : null,
                ])}
              </tbody>
            </table>
          ) : (
            <p>{includeAll ? 'No exemptions have been made.' : 'No exemptions are active.'}</p>
          )
        }
      </Loading>
      {canWrite ? (
        <ExemptionForm
          groups={groups.items.map((g) => ({ id: g.groupId, name: g.groupName }))}
          categories={categories.items.filter((c) => c.key !== 'illegal')}
          devices={devices.data?.items.filter((d) => !d.retiredAt) ?? []}
          canReadPeople={canReadPeople}
          onSaved={(text) => {
            setNotice(text);
            exemptions.reload();
          }}
        />
      ) : null}
    </>
  );
}

function ExemptionForm(props: {
  groups: { id: string; name: string }[];
  categories: { key: string; label: string; safeguarding: boolean }[];
  devices: Device[];
  canReadPeople: boolean;
  onSaved: (notice: string) => void;
}) {
  const [kind, setKind] = useState<'domain' | 'category'>('domain');
  const [domain, setDomain] = useState('');
  const [category, setCategory] = useState('');
  const [target, setTarget] = useState<Target>('groupId');
  const [groupId, setGroupId] = useState('');
  const [person, setPerson] = useState<{ id: string; name: string } | null>(null);
  const [deviceId, setDeviceId] = useState('');
  const [until, setUntil] = useState(localInDays(7));
  const [approvedBy, setApprovedBy] = useState('');
  const review = useReview();
  const save = useSave();
  const changed = review.edited;

  const chosenCategory = props.categories.find((c) => c.key === category);
  const forWhom =
    target === 'groupId' ? (props.groups.find((g) => g.id === groupId)?.name ?? 'no group chosen') : target === 'personId' ? (person?.name ?? 'no person chosen') : (props.devices.find((d) => d.id === deviceId)?.name ?? 'no device chosen');
  const untilIso = localToIso(until);
  const change: Change = {
    kind: 'unblock',
    text: `${kind === 'domain' ? describeDomain(domain.trim() || '(no site given)') : `the ${chosenCategory?.label ?? '(no category chosen)'} category`} for ${forWhom} until ${untilIso ? formatDateTime(untilIso) : '(no time given)'}, then it is filtered again by itself`,
  };

  const submit = (reason: string) =>
    void save.run(async () => {
      const body = {
        domain: kind === 'domain' ? domain.trim() : null,
        category: kind === 'category' ? category || null : null,
        groupId: target === 'groupId' ? groupId || null : null,
        personId: target === 'personId' ? (person?.id ?? null) : null,
        deviceId: target === 'deviceId' ? deviceId || null : null,
        until: untilIso || until,
        approvedBy: approvedBy.trim() || null,
        reason,
      };
      await api('POST', '/api/filter/exemptions', body);
      props.onSaved(`Exempted ${kind === 'domain' ? domain.trim() : chosenCategory?.label} for ${forWhom} until ${formatDateTime(untilIso)}. The filter uses it within a few seconds.`);
      setDomain('');
      review.setReviewing(false);
    });

  return (
    <section aria-labelledby="add-exemption" className="inline-form">
      <h2 id="add-exemption">Make an exemption</h2>
      <ReviewFirstForm review={review} save={save} reviewLabel="Review this exemption" changes={[change]} fields={['domain', 'category', 'groupId', 'personId', 'deviceId', 'until', 'approvedBy']} onSave={submit}>
        <fieldset>
          <legend>What to unblock</legend>
          <div className="field field-checkbox">
            <input type="radio" id="ex-kind-domain" name="ex-kind" checked={kind === 'domain'} onChange={() => changed(setKind)('domain')} />
            <label htmlFor="ex-kind-domain">A site</label>
          </div>
          <div className="field field-checkbox">
            <input type="radio" id="ex-kind-category" name="ex-kind" checked={kind === 'category'} onChange={() => changed(setKind)('category')} />
            <label htmlFor="ex-kind-category">A whole category</label>
          </div>
          {kind === 'domain' ? (
            <TextField label="Site" name="domain" hint="For example bbc.co.uk, or =www.bbc.co.uk for that name only." value={domain} onChange={(e) => changed(setDomain)(e.target.value)} error={save.error} spellCheck={false} autoCapitalize="none" />
          ) : (
            <SelectField label="Category" name="category" value={category} onChange={(e) => changed(setCategory)(e.target.value)} error={save.error}>
              <option value="">Choose a category</option>
              {props.categories.map((c) => (
                <option key={c.key} value={c.key}>
                  {c.label}
                  {c.safeguarding ? ' (safeguarding)' : ''}
                </option>
              ))}
            </SelectField>
          )}
          {chosenCategory?.safeguarding && kind === 'category' ? <p className="warning">Unblocking {chosenCategory.label} is a safeguarding decision: record the DSL’s agreement under “Approved by”.</p> : null}
        </fieldset>
        <fieldset>
          <legend>For whom</legend>
          {(
            [
              ['groupId', 'A group'],
              ['personId', 'A person'],
              ['deviceId', 'A device'],
            ] as const
          )
            .filter(([t]) => t !== 'personId' || props.canReadPeople)
            .map(([t, text]) => (
              <div className="field field-checkbox" key={t}>
                <input type="radio" id={`ex-target-${t}`} name="ex-target" checked={target === t} onChange={() => changed(setTarget)(t)} />
                <label htmlFor={`ex-target-${t}`}>{text}</label>
              </div>
            ))}
          {target === 'groupId' ? (
            <SelectField label="Group" name="groupId" value={groupId} onChange={(e) => changed(setGroupId)(e.target.value)} error={save.error}>
              <option value="">Choose a group</option>
              {props.groups.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
            </SelectField>
          ) : target === 'personId' ? (
            <PersonPicker value={person} onChange={changed(setPerson)} error={save.error} />
          ) : (
            <SelectField label="Device" name="deviceId" value={deviceId} onChange={(e) => changed(setDeviceId)(e.target.value)} error={save.error}>
              <option value="">Choose a device</option>
              {props.devices.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                  {d.assetTag ? ` (${d.assetTag})` : ''}
                </option>
              ))}
            </SelectField>
          )}
        </fieldset>
        <TextField
          label="Until"
          name="until"
          type="datetime-local"
          hint="The exemption ends by itself at this time (your computer’s time zone), at most a year ahead."
          value={until}
          onChange={(e) => changed(setUntil)(e.target.value)}
          error={save.error}
          required
        />
        <TextField
          label="Approved by (optional)"
          name="approvedBy"
          hint="Who agreed to it, when not you: the DSL for a safeguarding category."
          value={approvedBy}
          onChange={(e) => changed(setApprovedBy)(e.target.value)}
          error={save.error}
        />
      </ReviewFirstForm>
    </section>
  );
}
