/**
 * Filtering: schedules (weekly windows, optionally on school days only), the
 * groups' rules that use them (a category blocked or allowed during a
 * schedule), and the school calendar that decides which days are school days.
 * Every change goes through the review step with a reason.
 */
import { useState } from 'react';
import { api, type FilterCalendar, type FilterGroupPolicy, type FilterSchedule } from '../api.ts';
import { CheckboxField, Loading, Notice, SelectField, TextField, issuesFor, useApiGet, useSave } from '../components.tsx';
import { type Change, DAYS, FilterNav, RemovalRow, ReviewFirstForm, describeWindows, useCategories, useFilterGroups, useReview } from '../filter/filter-common.tsx';
import { CalendarTables } from './filter-calendar-page.tsx';
import { policyBody } from './filter-categories-page.tsx';
import { Link, usePageTitle } from '../router.tsx';

type Window = { days: number[]; start: string; end: string };
type Draft = { name: string; windows: Window[]; schoolDaysOnly: boolean };
const EMPTY: Draft = { name: '', windows: [{ days: [1, 2, 3, 4, 5], start: '08:30', end: '15:30' }], schoolDaysOnly: true };

/** What saving a schedule changes, in words. */
function scheduleChanges(before: FilterSchedule | null, d: Draft): Change[] {
  const described = `${describeWindows(d.windows)}${d.schoolDaysOnly ? ', on school days only' : ', every week of the year'}`;
  if (!before) return [{ kind: 'add', text: `the schedule “${d.name}”: ${described}` }];
  const out: Change[] = [];
  if (before.name !== d.name) out.push({ kind: 'change', text: `the name “${before.name}” to “${d.name}”` });
  if (describeWindows(before.windows) !== describeWindows(d.windows)) out.push({ kind: 'change', text: `the times of “${d.name}” to ${describeWindows(d.windows)} (were ${describeWindows(before.windows)})` });
  if (before.schoolDaysOnly !== d.schoolDaysOnly) out.push({ kind: 'change', text: `“${d.name}” applies ${d.schoolDaysOnly ? 'on school days only' : 'in holidays too'}` });
  return out;
}

export function FilterSchedulesPage({ canWrite }: { canWrite: boolean }) {
  usePageTitle('Filtering: schedules');
  const schedules = useApiGet<{ items: FilterSchedule[] }>('/api/filter/schedules');
  const calendar = useApiGet<FilterCalendar>('/api/filter/calendar');
  const groups = useFilterGroups();
  const categories = useCategories();
  const [notice, setNotice] = useState('');
  const [editing, setEditing] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const deleteSave = useSave();
  const [removingRule, setRemovingRule] = useState<string | null>(null);
  const ruleSave = useSave();

  const usedBy = (id: string) => groups.items.filter((g) => g.scheduled.some((s) => s.scheduleId === id)).map((g) => g.groupName);
  const scheduleName = (id: string) => schedules.data?.items.find((s) => s.id === id)?.name ?? 'a schedule';
  const ruleText = (g: FilterGroupPolicy, r: FilterGroupPolicy['scheduled'][number]) =>
    `${categories.label(r.category)} ${r.mode === 'block_during' ? 'blocked' : 'allowed'} for ${g.groupName} during “${scheduleName(r.scheduleId)}”`;

  const remove = (s: FilterSchedule, reason: string) =>
    void deleteSave.run(async () => {
      await api('DELETE', `/api/filter/schedules/${encodeURIComponent(s.id)}`, { reason });
      setNotice(`Removed the schedule “${s.name}”.`);
      setDeleting(null);
      schedules.reload();
    });

  const removeRule = (g: FilterGroupPolicy, index: number, reason: string) =>
    void ruleSave.run(async () => {
      const rule = g.scheduled[index];
      const scheduled = g.scheduled.filter((_, i) => i !== index);
      await api('PUT', `/api/filter/groups/${encodeURIComponent(g.groupId)}/policy`, policyBody(g, { blocked: g.blocked, scheduled, safeSearch: g.safeSearch, youtube: g.youtube }, reason));
      setNotice(`Removed the rule: ${ruleText(g, rule)}.`);
      setRemovingRule(null);
      groups.reload();
    });

  const rules = groups.items.flatMap((g) => g.scheduled.map((r, i) => ({ g, r, i, key: `${g.groupId}:${i}` })));

  return (
    <>
      <h1 tabIndex={-1}>Filtering</h1>
      <FilterNav />
      <h2 className="page-sub">Schedules</h2>
      <p>A schedule is a set of weekly times, such as the school day. A group’s policy can block a category during a schedule (games in lessons) or allow it only then.</p>
      <Notice>{notice}</Notice>
      <Loading loading={schedules.loading && !schedules.data} error={schedules.error}>
        {() =>
          schedules.data?.items.length ? (
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Schedule</th>
                  <th scope="col">Times</th>
                  <th scope="col">Days</th>
                  <th scope="col">Used by</th>
                  {canWrite ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {schedules.data.items.map((s) => [
                  <tr key={s.id}>
                    <th scope="row">{s.name}</th>
                    <td>{describeWindows(s.windows)}</td>
                    <td>{s.schoolDaysOnly ? 'School days only' : 'Every week, holidays too'}</td>
                    <td>{usedBy(s.id).join(', ') || 'No group'}</td>
                    {canWrite ? (
                      <td className="actions">
                        <button type="button" className="secondary small" aria-label={`Edit ${s.name}`} onClick={() => setEditing(editing === s.id ? null : s.id)}>
                          Edit
                        </button>{' '}
                        <button type="button" className="danger-outline small" aria-label={`Remove ${s.name}`} aria-expanded={deleting === s.id} onClick={() => setDeleting(deleting === s.id ? null : s.id)}>
                          Remove
                        </button>
                      </td>
                    ) : null}
                  </tr>,
                  editing === s.id ? (
                    <tr key={`${s.id}-edit`} className="panel-row">
                      <td colSpan={5}>
                        <ScheduleForm
                          heading={`Edit ${s.name}`}
                          before={s}
                          onCancel={() => setEditing(null)}
                          onSaved={(text) => {
                            setNotice(text);
                            setEditing(null);
                            schedules.reload();
                          }}
                        />
                      </td>
                    </tr>
                  ) : null,
                  deleting === s.id ? (
                    <RemovalRow key={`${s.id}-delete`} colSpan={5} change={{ kind: 'remove', text: `the schedule “${s.name}” (${describeWindows(s.windows)})${usedBy(s.id).length ? `. It is used by ${usedBy(s.id).join(', ')}: remove those rules first, or this will be refused` : ''}` }} save={deleteSave} onSave={(reason) => remove(s, reason)} onBack={() => setDeleting(null)} backLabel="Keep this schedule" />
                  ) : null,
                ])}
              </tbody>
            </table>
          ) : (
            <p>No schedules yet.</p>
          )
        }
      </Loading>
      {canWrite ? (
        <ScheduleForm
          heading="Make a schedule"
          before={null}
          onSaved={(text) => {
            setNotice(text);
            schedules.reload();
          }}
        />
      ) : null}

      <h2>Rules that use schedules</h2>
      <Loading loading={groups.loading && !groups.data} error={groups.error}>
        {() =>
          rules.length ? (
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Group</th>
                  <th scope="col">Category</th>
                  <th scope="col">Rule</th>
                  {canWrite ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {rules.map(({ g, r, i, key }) => [
                  <tr key={key}>
                    <th scope="row">{g.groupName}</th>
                    <td>{categories.label(r.category)}</td>
                    <td>
                      {r.mode === 'block_during' ? 'Blocked during' : 'Allowed only during'} “{scheduleName(r.scheduleId)}”
                    </td>
                    {canWrite ? (
                      <td className="actions">
                        <button type="button" className="danger-outline small" aria-label={`Remove the rule: ${ruleText(g, r)}`} onClick={() => setRemovingRule(removingRule === key ? null : key)}>
                          Remove
                        </button>
                      </td>
                    ) : null}
                  </tr>,
                  removingRule === key ? (
                    <RemovalRow key={`${key}-remove`} colSpan={4} change={{ kind: 'remove', text: `the rule: ${ruleText(g, r)}; ${categories.label(r.category)} is then ${g.blocked.includes(r.category) ? 'blocked' : 'allowed'} at all times for ${g.groupName}` }} save={ruleSave} onSave={(reason) => removeRule(g, i, reason)} onBack={() => setRemovingRule(null)} backLabel="Keep this rule" />
                  ) : null,
                ])}
              </tbody>
            </table>
          ) : (
            <p>No group uses a schedule.</p>
          )
        }
      </Loading>
      {canWrite && schedules.data?.items.length ? (
        <RuleForm
          groups={groups.items}
          schedules={schedules.data.items}
          categories={categories.items.filter((c) => c.key !== 'illegal')}
          onSaved={(text) => {
            setNotice(text);
            groups.reload();
          }}
        />
      ) : null}

      <h2>School calendar</h2>
      <p>
        Schedules marked “school days only” apply in term time and not on closure days (INSET days, bank holidays). {canWrite ? 'Change the terms and closures' : 'See them all'} on the{' '}
        <Link href="/filter/calendar">School calendar</Link> page.
      </p>
      <Loading loading={calendar.loading && !calendar.data} error={calendar.error}>
        {() =>
          calendar.data ? (
            <CalendarTables calendar={calendar.data} />
          ) : null
        }
      </Loading>
    </>
  );
}

function ScheduleForm({ heading, before, onSaved, onCancel }: { heading: string; before: FilterSchedule | null; onSaved: (notice: string) => void; onCancel?: () => void }) {
  const [draft, setDraft] = useState<Draft>(before ? { name: before.name, windows: before.windows.map((w) => ({ ...w, days: [...w.days] })), schoolDaysOnly: before.schoolDaysOnly } : EMPTY);
  const review = useReview();
  const save = useSave();
  const set = review.edited(setDraft);
  const setWindow = (i: number, w: Window) => set({ ...draft, windows: draft.windows.map((x, j) => (j === i ? w : x)) });
  const submit = (reason: string) =>
    void save.run(async () => {
      const body = { ...draft, name: draft.name.trim(), reason };
      if (before) await api('PUT', `/api/filter/schedules/${encodeURIComponent(before.id)}`, body);
      else await api('POST', '/api/filter/schedules', body);
      onSaved(`Saved the schedule “${body.name}”.`);
      review.setReviewing(false);
      if (!before) setDraft(EMPTY);
    });
  const formId = before?.id ?? 'new';
  return (
    <section className="inline-form" aria-label={heading}>
      <h2>{heading}</h2>
      <ReviewFirstForm
        review={review}
        save={save}
        reviewLabel="Review this schedule"
        onCancel={onCancel}
        changes={scheduleChanges(before, draft)}
        fields={['name', 'windows', 'schoolDaysOnly']}
        onSave={submit}
      >
        <TextField label="Name" name="name" value={draft.name} onChange={(e) => set({ ...draft, name: e.target.value })} error={save.error} required />
        {draft.windows.map((w, i) => {
          const problems = issuesFor(save.error, `windows.${i}`);
          return (
            <fieldset key={i} className={problems.length ? 'field-invalid' : undefined}>
              <legend>Times {draft.windows.length > 1 ? i + 1 : ''}</legend>
              <p className="field-error" aria-live="polite">
                {problems.join(' ')}
              </p>
              <div className="day-picks">
                {DAYS.map((d) => (
                  <div className="field field-checkbox" key={d.value}>
                    <input
                      type="checkbox"
                      id={`sch-${formId}-${i}-${d.value}`}
                      checked={w.days.includes(d.value)}
                      onChange={(e) => setWindow(i, { ...w, days: e.target.checked ? [...w.days, d.value].sort() : w.days.filter((x) => x !== d.value) })}
                    />
                    <label htmlFor={`sch-${formId}-${i}-${d.value}`}>
                      <abbr title={d.full}>{d.name}</abbr>
                    </label>
                  </div>
                ))}
              </div>
              <div className="filters">
                <div className="field">
                  <label htmlFor={`sch-${formId}-${i}-start`}>From</label>
                  <input id={`sch-${formId}-${i}-start`} type="time" value={w.start} onChange={(e) => setWindow(i, { ...w, start: e.target.value })} />
                </div>
                <div className="field">
                  <label htmlFor={`sch-${formId}-${i}-end`}>To</label>
                  <input id={`sch-${formId}-${i}-end`} type="time" value={w.end} onChange={(e) => setWindow(i, { ...w, end: e.target.value })} />
                </div>
                {draft.windows.length > 1 ? (
                  <button type="button" className="secondary small" onClick={() => set({ ...draft, windows: draft.windows.filter((_, j) => j !== i) })}>
                    Remove these times
                  </button>
                ) : null}
              </div>
            </fieldset>
          );
        })}
        <button type="button" className="secondary small" onClick={() => set({ ...draft, windows: [...draft.windows, { days: [1, 2, 3, 4, 5], start: '12:00', end: '13:00' }] })}>
          Add more times
        </button>
        <CheckboxField name="schoolDaysOnly" label="School days only (not in holidays or on closure days)" checked={draft.schoolDaysOnly} onChange={(e) => set({ ...draft, schoolDaysOnly: e.target.checked })} />
      </ReviewFirstForm>
    </section>
  );
}

function RuleForm({ groups, schedules, categories, onSaved }: { groups: FilterGroupPolicy[]; schedules: FilterSchedule[]; categories: { key: string; label: string }[]; onSaved: (notice: string) => void }) {
  const [groupId, setGroupId] = useState('');
  const [category, setCategory] = useState('');
  const [scheduleId, setScheduleId] = useState(schedules[0]?.id ?? '');
  const [mode, setMode] = useState<'block_during' | 'allow_during'>('block_during');
  const review = useReview();
  const save = useSave();
  const changed = review.edited;
  const g = groups.find((x) => x.groupId === groupId);
  const label = categories.find((c) => c.key === category)?.label ?? '(no category chosen)';
  const sName = schedules.find((s) => s.id === scheduleId)?.name ?? '(no schedule chosen)';
  const alsoUnblock = g ? (g.blocked as readonly string[]).includes(category) : false;
  const changes: Change[] = [
    { kind: 'add', text: `a rule for ${g?.groupName ?? '(no group chosen)'}: ${label} ${mode === 'block_during' ? 'blocked' : 'allowed'} during “${sName}”${mode === 'block_during' ? ', allowed at other times' : ', blocked at other times'}` },
    ...(alsoUnblock ? [{ kind: 'unblock' as const, text: `${label} at all times for ${g?.groupName} (a scheduled category is not also blocked at all times)` }] : []),
  ];
  const submit = (reason: string) =>
    void save.run(async () => {
      if (!g) throw new Error('Choose a group.');
      const blocked = g.blocked.filter((k) => k !== category);
      const scheduled = [...g.scheduled, { category: category as FilterGroupPolicy['scheduled'][number]['category'], scheduleId, mode }];
      await api('PUT', `/api/filter/groups/${encodeURIComponent(g.groupId)}/policy`, policyBody(g, { blocked, scheduled, safeSearch: g.safeSearch, youtube: g.youtube }, reason));
      onSaved(`Added the rule: ${label} ${mode === 'block_during' ? 'blocked' : 'allowed'} for ${g.groupName} during “${sName}”.`);
      review.setReviewing(false);
    });
  return (
    <section className="inline-form" aria-labelledby="add-rule">
      <h2 id="add-rule">Add a rule</h2>
      <ReviewFirstForm review={review} save={save} reviewLabel="Review this rule" canReview={Boolean(groupId && category)} changes={changes} fields={['scheduled', 'group', 'mode', 'scheduleId']} onSave={submit}>
        <SelectField label="Group" name="group" value={groupId} onChange={(e) => changed(setGroupId)(e.target.value)} error={save.error}>
          <option value="">Choose a group</option>
          {groups.map((x) => (
            <option key={x.groupId} value={x.groupId}>
              {x.groupName}
            </option>
          ))}
        </SelectField>
        <SelectField label="Category" name="scheduled" value={category} onChange={(e) => changed(setCategory)(e.target.value)} error={save.error}>
          <option value="">Choose a category</option>
          {categories.map((c) => (
            <option key={c.key} value={c.key}>
              {c.label}
            </option>
          ))}
        </SelectField>
        <SelectField label="Rule" name="mode" value={mode} onChange={(e) => changed(setMode)(e.target.value as typeof mode)} error={save.error}>
          <option value="block_during">Blocked during the schedule</option>
          <option value="allow_during">Allowed only during the schedule</option>
        </SelectField>
        <SelectField label="Schedule" name="scheduleId" value={scheduleId} onChange={(e) => changed(setScheduleId)(e.target.value)} error={save.error}>
          {schedules.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </SelectField>
      </ReviewFirstForm>
    </section>
  );
}
