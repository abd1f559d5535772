/**
 * Filtering: allow and deny entries, for the whole school or one group. An
 * allow entry lets a name through whatever its categories (never an illegal
 * one); a deny entry blocks it whatever the categories say. Adding and
 * removing both go through the review step with a reason.
 */
import { useState } from 'react';
import { api, type FilterEntry } from '../api.ts';
import { Loading, Notice, SelectField, TextField, formatDateTime, useApiGet, useSave } from '../components.tsx';
import { type Change, FilterNav, RemovalRow, ReviewFirstForm, describeDomain, useFilterGroups, useReview } from '../filter/filter-common.tsx';
import { usePageTitle } from '../router.tsx';

const LIST_WORDS = { allow: 'allow list', deny: 'deny list' } as const;

/** What adding an entry does, in words. */
export function entryChange(list: 'allow' | 'deny', domain: string, scope: string, kind: 'add' | 'remove'): Change {
  const effect = list === 'deny' ? 'blocked' : 'allowed';
  const text =
    kind === 'add'
      ? `${describeDomain(domain)} to the ${LIST_WORDS[list]} for ${scope}: it will be ${effect} whatever its categories`
      : `${describeDomain(domain)} from the ${LIST_WORDS[list]} for ${scope}: its categories decide again`;
  return { kind, text };
}

export function FilterEntriesPage({ canWrite }: { canWrite: boolean }) {
  usePageTitle('Filtering: allow and deny lists');
  const groups = useFilterGroups();
  const [scopeFilter, setScopeFilter] = useState('');
  const entries = useApiGet<{ items: FilterEntry[] }>(`/api/filter/entries${scopeFilter ? `?groupId=${encodeURIComponent(scopeFilter)}` : ''}`);
  const [notice, setNotice] = useState('');
  const [removing, setRemoving] = useState<string | null>(null);
  const removeSave = useSave();

  const [list, setList] = useState<'allow' | 'deny'>('deny');
  const [domain, setDomain] = useState('');
  const [groupId, setGroupId] = useState('');
  const review = useReview();
  const addSave = useSave();

  const scope = (id: string | null) => (id ? groups.name(id) : 'the whole school');
  const edit = review.edited;

  const add = (reason: string) =>
    void addSave.run(async () => {
      const { entry } = await api<{ entry: FilterEntry }>('POST', '/api/filter/entries', { list, domain: domain.trim(), groupId: groupId || null, reason });
      setNotice(`Added ${entry.domain} to the ${LIST_WORDS[entry.list]} for ${scope(entry.groupId)}. The filter uses it within a few seconds.`);
      setDomain('');
      review.setReviewing(false);
      entries.reload();
    });

  const remove = (entry: FilterEntry, reason: string) =>
    void removeSave.run(async () => {
      await api('DELETE', `/api/filter/entries/${encodeURIComponent(entry.id)}`, { reason });
      setNotice(`Removed ${entry.domain} from the ${LIST_WORDS[entry.list]} for ${scope(entry.groupId)}.`);
      setRemoving(null);
      entries.reload();
    });

  return (
    <>
      <h1 tabIndex={-1}>Filtering</h1>
      <FilterNav />
      <h2 className="page-sub">Allow and deny lists</h2>
      <p>
        A deny entry blocks a site whatever its categories; an allow entry lets it through (never a site on the illegal-content lists). <code>example.com</code> covers every name under it;{' '}
        <code>=example.com</code> covers that name only. A group’s entries win over the whole school’s.
      </p>
      <Notice>{notice}</Notice>
      <div className="filters">
        <div className="field">
          <label htmlFor="entries-scope">Show</label>
          <select id="entries-scope" value={scopeFilter} onChange={(e) => setScopeFilter(e.target.value)}>
            <option value="">Every entry</option>
            <option value="school">Whole-school entries only</option>
            {groups.items.map((g) => (
              <option key={g.groupId} value={g.groupId}>
                Entries for {g.groupName}
              </option>
            ))}
          </select>
        </div>
      </div>
      <Loading loading={entries.loading && !entries.data} error={entries.error}>
        {() =>
          entries.data?.items.length ? (
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Site</th>
                  <th scope="col">List</th>
                  <th scope="col">For</th>
                  <th scope="col">Why</th>
                  <th scope="col">Added</th>
                  {canWrite ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {entries.data.items.map((e) => [
                  <tr key={e.id}>
                    <th scope="row">
                      <code>{e.domain}</code>
                    </th>
                    <td>
                      <span className={`badge badge-${e.list}`}>{e.list === 'allow' ? 'Allow' : 'Deny'}</span>
                    </td>
                    <td>{scope(e.groupId)}</td>
                    <td>{e.reason}</td>
                    <td>
                      {formatDateTime(e.createdAt)} by {e.createdBy}
                    </td>
                    {canWrite ? (
                      <td className="actions">
                        <button
                          type="button"
                          className="danger-outline small"
                          aria-label={`Remove ${e.domain} from the ${LIST_WORDS[e.list]}`}
                          aria-expanded={removing === e.id}
                          onClick={() => {
                            removeSave.setError(null);
                            setRemoving(removing === e.id ? null : e.id);
                          }}
                        >
                          Remove
                        </button>
                      </td>
                    ) : null}
                  </tr>,
                  removing === e.id ? (
                    <RemovalRow key={`${e.id}-remove`} colSpan={6} change={entryChange(e.list, e.domain, scope(e.groupId), 'remove')} save={removeSave} onSave={(reason) => remove(e, reason)} onBack={() => setRemoving(null)} backLabel="Keep this entry" />
                  ) : null,
                ])}
              </tbody>
            </table>
          ) : (
            <p>No allow or deny entries{scopeFilter ? ' here' : ' yet'}.</p>
          )
        }
      </Loading>
      {canWrite ? (
        <section aria-labelledby="add-entry" className="inline-form">
          <h2 id="add-entry">Add an entry</h2>
          <ReviewFirstForm
            review={review}
            save={addSave}
            reviewLabel="Review this entry"
            canReview={Boolean(domain.trim())}
            changes={[entryChange(list, domain.trim(), scope(groupId || null), 'add')]}
            fields={['list', 'domain', 'groupId']}
            onSave={add}
          >
            <SelectField label="List" name="list" value={list} onChange={(e) => edit(setList)(e.target.value as 'allow' | 'deny')} error={addSave.error}>
              <option value="deny">Deny: block this site</option>
              <option value="allow">Allow: let this site through</option>
            </SelectField>
            <TextField
              label="Site"
              name="domain"
              hint="A domain such as example.com (and every name under it), or =example.com for that name only."
              value={domain}
              onChange={(e) => edit(setDomain)(e.target.value)}
              error={addSave.error}
              required
              spellCheck={false}
              autoCapitalize="none"
            />
            <SelectField label="For" name="groupId" value={groupId} onChange={(e) => edit(setGroupId)(e.target.value)} error={addSave.error}>
              <option value="">The whole school</option>
              {groups.items.map((g) => (
                <option key={g.groupId} value={g.groupId}>
                  {g.groupName}
                </option>
              ))}
            </SelectField>
          </ReviewFirstForm>
        </section>
      ) : null}
    </>
  );
}
