/**
 * The Filter checks page's test names: which name a check asks for each
 * category, and what each group's policy expects of it now. Those who may
 * change the policy add, remove or reset names; each change is reviewed in
 * words and saved with a reason (the API replaces the whole list, so the page
 * sends the list as it will be). The illegal test name and the bypass
 * switches are always kept: the daily self-test depends on them.
 */
import { useState } from 'react';
import { api } from '../api.ts';
import { Loading, Notice, SelectField, TextField, formatDateTime, useApiGet, useSave } from '../components.tsx';
import { type Change, RemovalRow, ReviewFirstForm, ReviewPanel, useCategories, useFilterGroups, useReview } from '../filter/filter-common.tsx';

/** One test name as the API gives it. */
interface TestName {
  category: string;
  name: string;
}

interface NamesView {
  names: TestName[];
  builtIn: boolean;
  updatedAt?: string | null;
  updatedBy?: string | null;
}

/** Names every check keeps: the illegal test name and the bypass switches. */
const isFixed = (n: TestName) => n.category === 'illegal' || n.category === 'bypass';

export function CheckNamesSection({ canEdit }: { canEdit: boolean }) {
  const names = useApiGet<NamesView>('/api/checks/names');
  const categories = useCategories();
  const groups = useFilterGroups();
  const [notice, setNotice] = useState('');
  const [removing, setRemoving] = useState<string | null>(null);
  const removeSave = useSave();
  const [resetting, setResetting] = useState(false);
  const resetSave = useSave();

  const label = (key: string) => (key === 'bypass' ? 'Bypass switch' : categories.label(key));
  const keyOf = (n: TestName) => `${n.category} ${n.name}`;

  /** What each group's policy expects of a category now, in words. */
  const expectation = (category: string) => {
    if (category === 'illegal' || category === 'bypass') return 'blocked for everyone';
    const withPolicy = groups.items.filter((g) => !g.isDefault);
    if (!withPolicy.length) return 'by each group’s policy';
    const blocked = withPolicy.filter((g) => g.blocked.includes(category as (typeof g.blocked)[number])).map((g) => g.groupName);
    const scheduled = withPolicy.filter((g) => g.scheduled.some((s) => s.category === category)).map((g) => g.groupName);
    const allowed = withPolicy.filter((g) => !blocked.includes(g.groupName) && !scheduled.includes(g.groupName)).map((g) => g.groupName);
    return [
      blocked.length ? `blocked for ${blocked.join(', ')}` : '',
      scheduled.length ? `by schedule for ${scheduled.join(', ')}` : '',
      allowed.length ? `allowed for ${allowed.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; ');
  };

  const put = async (list: TestName[] | null, reason: string) => {
    await api<NamesView>('PUT', '/api/checks/names', { names: list, reason });
    names.reload();
  };

  const remove = (n: TestName, reason: string) =>
    void removeSave.run(async () => {
      await put(
        (names.data?.names ?? []).filter((x) => keyOf(x) !== keyOf(n)),
        reason,
      );
      setNotice(`Removed ${n.name} (${label(n.category)}) from the test names.`);
      setRemoving(null);
    });

  const reset = (reason: string) =>
    void resetSave.run(async () => {
      await put(null, reason);
      setNotice('The built-in test names are back.');
      setResetting(false);
    });

  return (
    <section aria-labelledby="test-names">
      <h2 id="test-names">Test names</h2>
      <p>
        A check asks these names. What it expects for each comes from the group’s policy at the time: blocked where the name’s category is blocked for the
        group (schedules included), allowed elsewhere. Pick names the lists really put in their category, and that a device may safely look up.
      </p>
      <Notice>{notice}</Notice>
      <Loading loading={names.loading && !names.data} error={names.error}>
        {() =>
          names.data ? (
            <>
              <p>
                {names.data.builtIn ? 'These are the built-in test names.' : `The school’s own test names, last changed ${formatDateTime(names.data.updatedAt)} by ${names.data.updatedBy}.`}
              </p>
              <table className="data-table">
                <thead>
                  <tr>
                    <th scope="col">Test name</th>
                    <th scope="col">Category</th>
                    <th scope="col">Expected now</th>
                    {canEdit ? <th scope="col">Actions</th> : null}
                  </tr>
                </thead>
                <tbody>
                  {names.data.names.map((n) => [
                    <tr key={keyOf(n)} data-test-name={n.name}>
                      <th scope="row">
                        <code>{n.name}</code>
                      </th>
                      <td>{label(n.category)}</td>
                      <td>{expectation(n.category)}</td>
                      {canEdit ? (
                        <td className="actions">
                          {isFixed(n) ? (
                            <span className="hint">Always asked</span>
                          ) : (
                            <button
                              type="button"
                              className="danger-outline small"
                              aria-label={`Remove the test name ${n.name}`}
                              aria-expanded={removing === keyOf(n)}
                              onClick={() => {
                                removeSave.setError(null);
                                setRemoving(removing === keyOf(n) ? null : keyOf(n));
                              }}
                            >
                              Remove
                            </button>
                          )}
                        </td>
                      ) : null}
                    </tr>,
                    removing === keyOf(n) ? (
                      <RemovalRow
                        key={`${keyOf(n)}-remove`}
                        colSpan={4}
                        change={{ kind: 'remove', text: `the test name ${n.name} (${label(n.category)}): checks no longer ask it` }}
                        save={removeSave}
                        onSave={(reason) => remove(n, reason)}
                        onBack={() => setRemoving(null)}
                        backLabel="Keep this name"
                      />
                    ) : null,
                  ])}
                </tbody>
              </table>
              {canEdit ? (
                <>
                  <AddNameForm
                    current={names.data.names}
                    categories={categories.items.filter((c) => c.key !== 'illegal').map((c) => ({ key: c.key, label: c.label }))}
                    expectation={expectation}
                    onSave={async (list, reason, text) => {
                      await put(list, reason);
                      setNotice(text);
                    }}
                  />
                  {names.data.builtIn ? null : resetting ? (
                    <ReviewPanel
                      heading="Go back to the built-in test names?"
                      changes={[{ kind: 'change', text: 'the school’s own test names are replaced by the built-in set' }]}
                      error={resetSave.error}
                      fields={[]}
                      busy={resetSave.busy}
                      onSave={reset}
                      onBack={() => setResetting(false)}
                      backLabel="Keep the school’s names"
                    />
                  ) : (
                    <p>
                      <button type="button" className="secondary" onClick={() => setResetting(true)}>
                        Go back to the built-in test names
                      </button>
                    </p>
                  )}
                </>
              ) : null}
            </>
          ) : null
        }
      </Loading>
    </section>
  );
}

function AddNameForm(props: {
  current: TestName[];
  categories: { key: string; label: string }[];
  expectation: (category: string) => string;
  onSave: (list: TestName[], reason: string, notice: string) => Promise<void>;
}) {
  const [category, setCategory] = useState('');
  const [name, setName] = useState('');
  const review = useReview();
  const save = useSave();
  const chosen = props.categories.find((c) => c.key === category);
  const entry = name.trim().toLowerCase().replace(/\.$/, '');
  const change: Change = {
    kind: 'add',
    text: `the test name ${entry || '(no name given)'} for ${chosen?.label ?? '(no category chosen)'}: ${chosen ? `expected ${props.expectation(chosen.key)}` : ''}`,
  };
  const submit = (reason: string) =>
    void save.run(async () => {
      await props.onSave([...props.current, { category, name: entry }], reason, `Added ${entry} (${chosen?.label ?? category}) to the test names. The next check asks it.`);
      setName('');
      review.setReviewing(false);
    });
  return (
    <section className="inline-form" aria-labelledby="add-test-name">
      <h3 id="add-test-name">Add a test name</h3>
      <ReviewFirstForm review={review} save={save} reviewLabel="Review this test name" canReview={Boolean(category && entry)} changes={[change]} fields={['category', 'name']} onSave={submit}>
        <SelectField label="Category" name="category" value={category} onChange={(e) => review.edited(setCategory)(e.target.value)} error={save.error}>
          <option value="">Choose a category</option>
          {props.categories.map((c) => (
            <option key={c.key} value={c.key}>
              {c.label}
            </option>
          ))}
        </SelectField>
        <TextField
          label="Test name"
          name="name"
          hint="A host name the lists put in that category, for example poki.com for games."
          value={name}
          onChange={(e) => review.edited(setName)(e.target.value)}
          error={save.error}
          spellCheck={false}
          autoCapitalize="none"
        />
      </ReviewFirstForm>
    </section>
  );
}
