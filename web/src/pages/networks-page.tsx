/**
 * Networks: the address ranges (CIDR) the filter uses to tell which group a
 * device belongs to. Add, edit in place, delete with an inline confirm.
 */
import { type FormEvent, useState } from 'react';
import { api, type Group, type Network } from '../api.ts';
import { ConfirmButton, FormError, Loading, Notice, SelectField, TextField, useApiGet } from '../components.tsx';
import { usePageTitle } from '../router.tsx';

type Draft = { name: string; cidr: string; groupId: string; description: string };
const EMPTY: Draft = { name: '', cidr: '', groupId: '', description: '' };
const FIELDS = ['name', 'cidr', 'groupId', 'description'];

export function NetworksPage({ canWrite }: { canWrite: boolean }) {
  usePageTitle('Networks');
  const networks = useApiGet<{ items: Network[] }>('/api/networks');
  const groups = useApiGet<{ items: Group[] }>(canWrite ? '/api/groups' : null);
  const [editing, setEditing] = useState<string | null>(null);
  const [notice, setNotice] = useState('');
  const [deleteError, setDeleteError] = useState<unknown>(null);

  const remove = async (n: Network) => {
    setDeleteError(null);
    try {
      await api('DELETE', `/api/networks/${n.id}`);
      setNotice(`Deleted the network “${n.name}”.`);
      networks.reload();
    } catch (e) {
      setDeleteError(e);
    }
  };

  return (
    <>
      <h1 tabIndex={-1}>Networks</h1>
      <p>Each network is a range of addresses (in CIDR form, such as 10.20.0.0/16) whose devices are treated as members of a group.</p>
      <Notice>{notice}</Notice>
      <FormError error={deleteError} />
      <Loading loading={networks.loading && !networks.data} error={networks.error}>
        {() =>
          networks.data?.items.length ? (
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Range (CIDR)</th>
                  <th scope="col">Group</th>
                  <th scope="col">Description</th>
                  {canWrite ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {networks.data.items.map((n) =>
                  editing === n.id ? (
                    <tr key={n.id}>
                      <td colSpan={5}>
                        <NetworkForm
                          heading={`Edit ${n.name}`}
                          initial={{ name: n.name, cidr: n.cidr, groupId: n.groupId ?? '', description: n.description ?? '' }}
                          groups={groups.data?.items ?? []}
                          submitLabel="Save changes"
                          onSubmit={async (d) => {
                            await api('PATCH', `/api/networks/${n.id}`, { name: d.name, cidr: d.cidr, groupId: d.groupId || null, description: d.description || null });
                            setEditing(null);
                            setNotice(`Saved the network “${d.name}”.`);
                            networks.reload();
                          }}
                          onCancel={() => setEditing(null)}
                        />
                      </td>
                    </tr>
                  ) : (
                    <tr key={n.id}>
                      <th scope="row">{n.name}</th>
                      <td>
                        <code>{n.cidr}</code>
                      </td>
                      <td>{n.groupName ?? '—'}</td>
                      <td>{n.description ?? ''}</td>
                      {canWrite ? (
                        <td className="actions">
                          <button type="button" className="secondary small" onClick={() => setEditing(n.id)} aria-label={`Edit ${n.name}`}>
                            Edit
                          </button>{' '}
                          <ConfirmButton label="Delete" question={`Delete ${n.name}?`} confirmLabel="Yes, delete" onConfirm={() => remove(n)} />
                        </td>
                      ) : null}
                    </tr>
                  ),
                )}
              </tbody>
            </table>
          ) : (
            <p>No networks yet.</p>
          )
        }
      </Loading>
      {canWrite ? (
        <section aria-labelledby="add-network">
          <NetworkForm
            heading="Add a network"
            headingId="add-network"
            initial={EMPTY}
            groups={groups.data?.items ?? []}
            submitLabel="Add network"
            resetAfter
            onSubmit={async (d) => {
              await api('POST', '/api/networks', { name: d.name, cidr: d.cidr, groupId: d.groupId, ...(d.description ? { description: d.description } : {}) });
              setNotice(`Added the network “${d.name}”.`);
              networks.reload();
            }}
          />
        </section>
      ) : null}
    </>
  );
}

function NetworkForm(props: {
  heading: string;
  headingId?: string;
  initial: Draft;
  groups: Group[];
  submitLabel: string;
  resetAfter?: boolean;
  onSubmit: (draft: Draft) => Promise<void>;
  onCancel?: () => void;
}) {
  const [draft, setDraft] = useState<Draft>(props.initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (key: keyof Draft) => (e: { target: { value: string } }) => setDraft({ ...draft, [key]: e.target.value });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await props.onSubmit(draft);
      if (props.resetAfter) setDraft(props.initial);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="inline-form" noValidate>
      <h2 id={props.headingId}>{props.heading}</h2>
      <FormError error={error} fields={FIELDS} />
      <TextField label="Name" name="name" value={draft.name} onChange={set('name')} error={error} required />
      <TextField label="Range (CIDR)" name="cidr" hint="For example 10.20.0.0/16 or 2001:db8::/48" value={draft.cidr} onChange={set('cidr')} error={error} required spellCheck={false} />
      <SelectField label="Group" name="groupId" value={draft.groupId} onChange={set('groupId')} error={error} required>
        <option value="">Choose a group</option>
        {props.groups.map((g) => (
          <option key={g.id} value={g.id}>
            {g.name}
          </option>
        ))}
      </SelectField>
      <TextField label="Description (optional)" name="description" value={draft.description} onChange={set('description')} error={error} />
      <div className="button-row">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : props.submitLabel}
        </button>
        {props.onCancel ? (
          <button type="button" className="secondary" onClick={props.onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
