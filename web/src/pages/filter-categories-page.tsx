/**
 * Filtering: groups × categories. Each group's blocked categories are a
 * column of checkboxes (illegal always checked and locked), with safe search
 * and YouTube mode below; a column can start from the suggested defaults for
 * an audience. Edits stay in the page until reviewed: the diff in words, a
 * reason, then each changed group is saved in turn.
 */
import { useEffect, useRef, useState } from 'react';
import { api, type FilterCategory, type FilterGroupPolicy, type FilterSchedule } from '../api.ts';
import { KIND_LABELS, Loading, Notice, formatDateTime, issuesFor, useApiGet, useSave } from '../components.tsx';
import { AUDIENCE_LABELS, type Change, FilterNav, ReviewPanel, YOUTUBE_LABELS, useCategories, useFilterGroups } from '../filter/filter-common.tsx';
import { usePageTitle } from '../router.tsx';

type Scheduled = FilterGroupPolicy['scheduled'][number];
/** What can be edited of a group's policy on this page. */
interface Draft {
  blocked: string[];
  scheduled: Scheduled[];
  safeSearch: boolean;
  youtube: FilterGroupPolicy['youtube'];
}

/** Whether a list of category keys has this key (the API's lists are typed narrower than the keys the page handles). */
const has = (list: readonly string[], key: string) => list.includes(key);

const draftOf = (p: FilterGroupPolicy): Draft => ({ blocked: [...p.blocked], scheduled: p.scheduled.map((s) => ({ ...s })), safeSearch: p.safeSearch, youtube: p.youtube });

const AUDIENCES = ['primary', 'secondary', 'staff', 'guests'] as const;

/** The change from a group's saved policy to its draft, in words. */
export function groupChanges(p: FilterGroupPolicy, d: Draft, label: (key: string) => string, scheduleName: (id: string) => string): Change[] {
  const changes: Change[] = [];
  const g = p.groupName;
  for (const key of d.blocked.filter((k) => !has(p.blocked, k))) {
    const was = p.scheduled.find((s) => s.category === key);
    changes.push({ kind: 'block', text: `${label(key)} for ${g}${was ? ` at all times (was ${was.mode === 'block_during' ? 'blocked' : 'allowed'} only during “${scheduleName(was.scheduleId)}”)` : ''}` });
  }
  for (const key of p.blocked.filter((k) => !d.blocked.includes(k))) changes.push({ kind: 'unblock', text: `${label(key)} for ${g}` });
  for (const s of p.scheduled.filter((s) => !d.scheduled.some((x) => x.category === s.category && x.scheduleId === s.scheduleId && x.mode === s.mode))) {
    if (d.blocked.includes(s.category)) continue; // said above, with the block
    changes.push({ kind: 'remove', text: `the rule for ${g}: ${label(s.category)} ${s.mode === 'block_during' ? 'blocked' : 'allowed'} during “${scheduleName(s.scheduleId)}”` });
  }
  for (const s of d.scheduled.filter((s) => !p.scheduled.some((x) => x.category === s.category && x.scheduleId === s.scheduleId && x.mode === s.mode))) {
    changes.push({ kind: 'add', text: `a rule for ${g}: ${label(s.category)} ${s.mode === 'block_during' ? 'blocked' : 'allowed'} during “${scheduleName(s.scheduleId)}”` });
  }
  if (p.safeSearch !== d.safeSearch) changes.push({ kind: 'change', text: `safe search for ${g}: ${d.safeSearch ? 'on' : 'off'} (was ${p.safeSearch ? 'on' : 'off'})` });
  if (p.youtube !== d.youtube) changes.push({ kind: 'change', text: `YouTube mode for ${g}: ${d.youtube} (was ${p.youtube})` });
  return changes;
}

/** The body of the PUT for a group's policy: the draft, with what this page does not edit kept as saved. */
export function policyBody(p: FilterGroupPolicy, d: Draft, reason: string) {
  return { priority: p.priority, blocked: d.blocked, scheduled: d.scheduled, safeSearch: d.safeSearch, youtube: d.youtube, filterOff: p.filterOff, filterOffApprovedBy: p.filterOffApprovedBy, reason };
}

export function FilterCategoriesPage({ canWrite }: { canWrite: boolean }) {
  usePageTitle('Filtering: categories by group');
  const groups = useFilterGroups();
  const categories = useCategories();
  const schedules = useApiGet<{ items: FilterSchedule[] }>('/api/filter/schedules');
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  // Saved groups keep their drafts until the reloaded policies arrive, so the grid never flickers back to the old state.
  const savedAwaitingReload = useRef<string[]>([]);
  useEffect(() => {
    const saved = savedAwaitingReload.current;
    if (!saved.length) return;
    savedAwaitingReload.current = [];
    setDrafts((all) => Object.fromEntries(Object.entries(all).filter(([id]) => !saved.includes(id))));
  }, [groups.data]);
  const [showAll, setShowAll] = useState(false);
  const [reviewing, setReviewing] = useState(false);
  const [notice, setNotice] = useState('');
  const [failedGroup, setFailedGroup] = useState<string | null>(null);
  const save = useSave();
  const [fillGroup, setFillGroup] = useState('');
  const [fillAudience, setFillAudience] = useState<(typeof AUDIENCES)[number]>('secondary');

  const scheduleName = (id: string) => schedules.data?.items.find((s) => s.id === id)?.name ?? 'a schedule';
  const policies = groups.items;
  const draft = (p: FilterGroupPolicy) => drafts[p.groupId] ?? draftOf(p);
  const shown = policies.filter((p) => showAll || !p.isDefault || drafts[p.groupId]);
  const changed = policies.map((p) => ({ p, changes: drafts[p.groupId] ? groupChanges(p, drafts[p.groupId], categories.label, scheduleName) : [] })).filter((c) => c.changes.length);

  const edit = (p: FilterGroupPolicy, fn: (d: Draft) => Draft) => {
    setReviewing(false);
    setNotice('');
    setDrafts((all) => ({ ...all, [p.groupId]: fn(all[p.groupId] ?? draftOf(p)) }));
  };
  const toggle = (p: FilterGroupPolicy, key: string, block: boolean) =>
    edit(p, (d) => ({
      ...d,
      blocked: block ? [...d.blocked, key] : d.blocked.filter((k) => k !== key),
      // A category blocked at all times has no schedule rule (the server refuses both).
      scheduled: block ? d.scheduled.filter((s) => s.category !== key) : d.scheduled,
    }));

  const fill = () => {
    const p = policies.find((x) => x.groupId === fillGroup);
    if (!p) return;
    const suggested = categories.items.filter((c) => c.key === 'illegal' || c.suggestedBlock[fillAudience]).map((c) => c.key);
    edit(p, (d) => ({ ...d, blocked: suggested, scheduled: d.scheduled.filter((s) => !suggested.includes(s.category)) }));
    setNotice(`Filled ${p.groupName}’s column from the suggested defaults for ${AUDIENCE_LABELS[fillAudience]}. Nothing is saved until you review and save it.`);
  };

  const saveAll = (reason: string) =>
    void save.run(async () => {
      setFailedGroup(null);
      const saved: string[] = [];
      try {
        for (const { p } of changed) {
          setFailedGroup(p.groupId);
          await api('PUT', `/api/filter/groups/${encodeURIComponent(p.groupId)}/policy`, policyBody(p, drafts[p.groupId], reason));
          saved.push(p.groupId);
        }
        setFailedGroup(null);
      } finally {
        if (saved.length) {
          savedAwaitingReload.current = saved;
          const names = saved.map((id) => policies.find((p) => p.groupId === id)?.groupName).join(', ');
          setNotice(`Saved the policy of ${names}. The filter uses it within a few seconds.`);
          groups.reload();
        }
      }
      setReviewing(false);
    });

  const cell = (p: FilterGroupPolicy, c: FilterCategory) => {
    const d = draft(p);
    const blocked = d.blocked.includes(c.key);
    const wasBlocked = has(p.blocked, c.key);
    const rule = d.scheduled.find((s) => s.category === c.key);
    const ruleText = rule ? `${rule.mode === 'block_during' ? 'Blocked' : 'Allowed'} during “${scheduleName(rule.scheduleId)}”` : null;
    const isChanged = blocked !== wasBlocked;
    return (
      <td key={p.groupId} className={`grid-cell${isChanged ? ' changed' : ''}`}>
        {canWrite ? (
          <label className="grid-check">
            <input
              type="checkbox"
              checked={blocked}
              disabled={c.key === 'illegal'}
              onChange={(e) => toggle(p, c.key, e.target.checked)}
              aria-label={`Block ${c.label} for ${p.groupName}`}
              aria-describedby={c.key === 'illegal' ? 'illegal-note' : undefined}
            />
            <span aria-hidden="true">{blocked ? 'Blocked' : 'Allowed'}</span>
          </label>
        ) : (
          <span className={blocked ? 'state-blocked' : 'state-allowed'}>{blocked ? 'Blocked' : 'Allowed'}</span>
        )}
        {ruleText && !blocked ? <span className="grid-rule">{ruleText}</span> : null}
        {isChanged ? <span className="visually-hidden"> (changed, not saved)</span> : null}
      </td>
    );
  };

  return (
    <>
      <h1 tabIndex={-1}>Filtering</h1>
      <FilterNav />
      <h2 className="page-sub">Categories by group</h2>
      <p>
        Each column is a group: a ticked category is blocked for its members. Where a person is in several groups, the group with the lower priority number decides.
        {canWrite ? ' Changes are not saved until you review them and give a reason.' : ' You can see the policy but not change it.'}
      </p>
      <Notice>{notice}</Notice>
      <Loading loading={(groups.loading && !groups.data) || (categories.loading && !categories.data)} error={groups.error ?? categories.error}>
        {() => (
          <>
            <div className="field field-checkbox">
              <input type="checkbox" id="show-all-groups" checked={showAll} onChange={(e) => setShowAll(e.target.checked)} />
              <label htmlFor="show-all-groups">Show groups that have no policy of their own ({policies.filter((p) => p.isDefault).length})</label>
            </div>
            {canWrite ? (
              <form
                className="filters"
                aria-label="Start from suggested defaults"
                onSubmit={(e) => {
                  e.preventDefault();
                  fill();
                }}
              >
                <div className="field">
                  <label htmlFor="fill-group">Group</label>
                  <select id="fill-group" value={fillGroup} onChange={(e) => setFillGroup(e.target.value)}>
                    <option value="">Choose a group</option>
                    {policies.map((p) => (
                      <option key={p.groupId} value={p.groupId}>
                        {p.groupName}
                      </option>
                    ))}
                  </select>
                </div>
                <div className="field">
                  <label htmlFor="fill-audience">Audience</label>
                  <select id="fill-audience" value={fillAudience} onChange={(e) => setFillAudience(e.target.value as (typeof AUDIENCES)[number])}>
                    {AUDIENCES.map((a) => (
                      <option key={a} value={a}>
                        {AUDIENCE_LABELS[a]}
                      </option>
                    ))}
                  </select>
                </div>
                <button type="submit" className="secondary" disabled={!fillGroup}>
                  Start from suggested defaults for {AUDIENCE_LABELS[fillAudience]}
                </button>
              </form>
            ) : null}
            <p id="illegal-note" className="hint">
              Illegal content (IWF and CTIRU lists) is blocked for every group and can never be unblocked.
            </p>
            <div className="grid-scroll" role="region" aria-label="Categories by group" tabIndex={0}>
              <table className="data-table policy-grid">
                <caption className="visually-hidden">Blocked categories for each group</caption>
                <thead>
                  <tr>
                    <th scope="col">Category</th>
                    {shown.map((p) => {
                      const problems = failedGroup === p.groupId ? issuesFor(save.error, 'blocked').concat(issuesFor(save.error, 'scheduled')) : [];
                      return (
                        <th scope="col" key={p.groupId} className={drafts[p.groupId] && changed.some((c) => c.p.groupId === p.groupId) ? 'changed' : undefined}>
                          {p.groupName}
                          <span className="grid-meta">
                            {KIND_LABELS[p.groupKind] ?? p.groupKind}, priority {p.priority}
                            {p.isDefault ? ', default policy' : ''}
                          </span>
                          {p.updatedAt ? <span className="grid-meta">Changed {formatDateTime(p.updatedAt)}{p.updatedBy ? ` by ${p.updatedBy}` : ''}</span> : null}
                          {p.filterOff ? <span className="badge badge-leaver">Filtering off</span> : null}
                          {problems.length ? (
                            <span className="field-error" role="alert">
                              {problems.join(' ')}
                            </span>
                          ) : null}
                        </th>
                      );
                    })}
                  </tr>
                </thead>
                <tbody>
                  {categories.items.map((c) => (
                    <tr key={c.key} data-category={c.key}>
                      <th scope="row">
                        <span className="grid-label">{c.label}</span>
                        {c.safeguarding ? <span className="badge badge-safeguarding">Safeguarding</span> : null}
                        <span className="grid-description">{c.description}</span>
                        {c.key === 'illegal' ? (
                          <span className="grid-description">
                            <strong>Always blocked: it can never be unblocked.</strong>
                          </span>
                        ) : (
                          <span className="grid-meta">
                            Suggested block for: {AUDIENCES.filter((a) => c.suggestedBlock[a]).map((a) => AUDIENCE_LABELS[a]).join(', ') || 'no one'}
                          </span>
                        )}
                      </th>
                      {shown.map((p) => cell(p, c))}
                    </tr>
                  ))}
                  <tr>
                    <th scope="row">
                      <span className="grid-label">Safe search</span>
                      <span className="grid-description">Google, Bing and DuckDuckGo show only their safe results.</span>
                    </th>
                    {shown.map((p) => {
                      const d = draft(p);
                      return (
                        <td key={p.groupId} className={`grid-cell${d.safeSearch !== p.safeSearch ? ' changed' : ''}`}>
                          {canWrite ? (
                            <label className="grid-check">
                              <input type="checkbox" checked={d.safeSearch} onChange={(e) => edit(p, (x) => ({ ...x, safeSearch: e.target.checked }))} aria-label={`Safe search for ${p.groupName}`} />
                              <span aria-hidden="true">{d.safeSearch ? 'On' : 'Off'}</span>
                            </label>
                          ) : (
                            <span>{d.safeSearch ? 'On' : 'Off'}</span>
                          )}
                        </td>
                      );
                    })}
                  </tr>
                  <tr>
                    <th scope="row">
                      <span className="grid-label">YouTube</span>
                      <span className="grid-description">YouTube’s restricted mode.</span>
                    </th>
                    {shown.map((p) => {
                      const d = draft(p);
                      return (
                        <td key={p.groupId} className={`grid-cell${d.youtube !== p.youtube ? ' changed' : ''}`}>
                          {canWrite ? (
                            <select value={d.youtube} onChange={(e) => edit(p, (x) => ({ ...x, youtube: e.target.value as Draft['youtube'] }))} aria-label={`YouTube mode for ${p.groupName}`}>
                              {Object.entries(YOUTUBE_LABELS).map(([value, text]) => (
                                <option key={value} value={value}>
                                  {text}
                                </option>
                              ))}
                            </select>
                          ) : (
                            <span>{YOUTUBE_LABELS[d.youtube]}</span>
                          )}
                        </td>
                      );
                    })}
                  </tr>
                </tbody>
              </table>
            </div>
            {canWrite ? (
              reviewing ? (
                <ReviewPanel
                  heading="Check these changes before saving"
                  changes={changed.flatMap((c) => c.changes)}
                  error={save.error}
                  fields={['blocked', 'scheduled']}
                  busy={save.busy}
                  onSave={saveAll}
                  onBack={() => setReviewing(false)}
                  note={changed.length > 1 ? <p>Each group is saved in turn with the same reason.</p> : null}
                />
              ) : (
                <div className="button-row">
                  <button type="button" disabled={!changed.length} onClick={() => setReviewing(true)}>
                    Review changes{changed.length ? ` (${changed.reduce((n, c) => n + c.changes.length, 0)})` : ''}
                  </button>
                  {Object.keys(drafts).length ? (
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => {
                        setDrafts({});
                        save.setError(null);
                      }}
                    >
                      Discard changes
                    </button>
                  ) : null}
                </div>
              )
            ) : null}
          </>
        )}
      </Loading>
    </>
  );
}
