/**
 * Lists: whether the licensed illegal-content feeds are in service, the
 * lists' refresh (with progress, and "refresh now"), lists whose latest
 * check failed, the sources and the school's own lists (switched on and off,
 * added and removed with a reason), open system alerts, and "why is this blocked?" for any name
 * and group, with the exact list line behind each category.
 */
import { type FormEvent, useEffect, useState } from 'react';
import type { SystemAlertJson } from '../../../src/alerts/alerts.routes.ts';
import type { ListsHealthJson, WhyJson } from '../../../src/lists/lists.routes.ts';
import { api, type FilterGroupPolicy } from '../api.ts';
import { formatDateTime, FormError, Loading, Notice, SelectField, TextField, useApiGet, useSave } from '../components.tsx';
import { ListSources } from '../lists/list-sources.tsx';
import { usePageTitle } from '../router.tsx';

const LEVEL_WORD = { green: 'In service', amber: 'Needs attention', red: 'Not in service' } as const;

export function ListsPage({ canWrite }: { canWrite: boolean }) {
  usePageTitle('Lists');
  const status = useApiGet<ListsHealthJson>('/api/lists/status');
  const running = status.data?.refresh.running ?? false;
  const { reload } = status;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(reload, 1500);
    return () => clearInterval(timer);
  }, [running, reload]);

  return (
    <>
      <h1 tabIndex={-1}>Lists</h1>
      <Loading loading={status.loading && !status.data} error={status.error}>
        {() => (status.data ? <StatusSections health={status.data} canWrite={canWrite} onChange={reload} /> : null)}
      </Loading>
      <ListSources canWrite={canWrite} onChange={reload} refreshedAt={status.data?.refresh.last?.finishedAt ?? null} />
      <Alerts canWrite={canWrite} />
      <Why />
    </>
  );
}

function StatusSections({ health, canWrite, onChange }: { health: ListsHealthJson; canWrite: boolean; onChange: () => void }) {
  const { error, run } = useSave();
  const feed = health.illegalFeed;
  const refresh = health.refresh;
  const refreshNow = () =>
    run(async () => {
      await api('POST', '/api/lists/refresh');
      onChange();
    });
  return (
    <>
      <section aria-labelledby="feeds-heading">
        <h2 id="feeds-heading">Illegal-content feeds (IWF, CTIRU)</h2>
        <p data-level={feed.level} className={`level level-${feed.level}`}>
          <strong>{LEVEL_WORD[feed.level]}.</strong> {feed.summary}
        </p>
        {feed.feeds.length ? (
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Feed</th>
                <th scope="col">Status</th>
                <th scope="col">Sites blocked</th>
                <th scope="col">Page URLs left to URL filtering</th>
                <th scope="col">Last brought in</th>
              </tr>
            </thead>
            <tbody>
              {feed.feeds.map((f) => (
                <tr key={f.id}>
                  <th scope="row">
                    {f.name}
                    <br />
                    <small>{f.url}</small>
                  </th>
                  <td>
                    <strong>{LEVEL_WORD[f.level]}</strong>: {f.message}
                  </td>
                  <td>{f.names.toLocaleString('en-GB')}</td>
                  <td>{f.linesNotUsed.toLocaleString('en-GB')}</td>
                  <td>{formatDateTime(f.checkedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        {feed.advice ? <p>{feed.advice}</p> : null}
        <p>
          Check enforcement from any device: <code>{feed.testName}</code> is always blocked. Set-up: <code>{feed.docs}</code>.
        </p>
      </section>

      <section aria-labelledby="refresh-heading">
        <h2 id="refresh-heading">Refreshing the lists</h2>
        {refresh.running ? (
          <p role="status">
            Refreshing: {refresh.done} of {refresh.total || '…'} lists checked{refresh.step ? ` (${refresh.step})` : ''}.{' '}
            <progress max={refresh.total || 1} value={refresh.done} aria-label="Lists checked" />
          </p>
        ) : (
          <p role="status">
            {refresh.last
              ? `Last refresh ${formatDateTime(refresh.last.finishedAt)} (${refresh.last.trigger}): ${refresh.last.error ?? `${refresh.last.updated} list(s) updated, ${refresh.last.problems} with a problem`}.`
              : 'No refresh has run since Schoolgate started.'}{' '}
            {refresh.nextAt ? `Next scheduled refresh: ${formatDateTime(refresh.nextAt)}.` : 'Scheduled refreshes start once the lists have been synced (schoolgate lists sync) or a licensed feed is configured.'}
          </p>
        )}
        <FormError error={error} />
        {canWrite ? (
          <button type="button" onClick={() => void refreshNow()} disabled={refresh.running}>
            Refresh now
          </button>
        ) : null}
      </section>

      <section aria-labelledby="problems-heading">
        <h2 id="problems-heading">Lists with a problem</h2>
        {health.problems.length ? (
          <ul>
            {health.problems.map((p) => (
              <li key={p.id}>
                <strong>{p.id}</strong> ({formatDateTime(p.at)}): {p.reason}. {p.inService ? 'Its last good copy stays in service.' : 'It is not in service.'}
              </li>
            ))}
          </ul>
        ) : (
          <p>None: every list’s latest check was fine.</p>
        )}
      </section>
    </>
  );
}

function Alerts({ canWrite }: { canWrite: boolean }) {
  const alerts = useApiGet<{ items: SystemAlertJson[] }>('/api/alerts');
  const [notice, setNotice] = useState('');
  return (
    <section aria-labelledby="alerts-heading">
      <h2 id="alerts-heading">System alerts</h2>
      <Notice>{notice}</Notice>
      <Loading loading={alerts.loading && !alerts.data} error={alerts.error}>
        {() =>
          alerts.data?.items.length ? (
            <ul className="alert-list">
              {alerts.data.items.map((a) => (
                <li key={a.id} className={`alert-${a.severity}`}>
                  <strong>{a.severity === 'critical' ? 'Critical' : 'Warning'}: {a.title}</strong>
                  <br />
                  {a.detail} <small>(since {formatDateTime(a.firstAt)}{a.times > 1 ? `, ${a.times} times, last ${formatDateTime(a.lastAt)}` : ''})</small>
                  {canWrite ? (
                    <DismissForm
                      alert={a}
                      onDone={() => {
                        setNotice(`Dismissed “${a.title}”.`);
                        alerts.reload();
                      }}
                    />
                  ) : null}
                </li>
              ))}
            </ul>
          ) : (
            <p>No open alerts.</p>
          )
        }
      </Loading>
    </section>
  );
}

function DismissForm({ alert, onDone }: { alert: SystemAlertJson; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const { error, busy, run } = useSave();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await api('POST', `/api/alerts/${alert.id}/dismiss`, { reason });
      onDone();
    });
  };
  return (
    <form onSubmit={submit} className="inline-form" aria-label={`Dismiss ${alert.title}`}>
      <FormError error={error} fields={['reason']} />
      <TextField label="Reason for dismissing" name="reason" error={error} value={reason} onChange={(e) => setReason(e.target.value)} />
      <button type="submit" className="secondary small" disabled={busy}>
        Dismiss
      </button>
    </form>
  );
}

function Why() {
  const groups = useApiGet<{ items: FilterGroupPolicy[] }>('/api/filter/groups');
  const [names, setNames] = useState('');
  const [group, setGroup] = useState('');
  const [results, setResults] = useState<WhyJson[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const ask = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const list = names.split(/[\s,]+/).filter(Boolean);
    const query = new URLSearchParams();
    for (const n of list) query.append('name', n);
    if (group) query.set('group', group);
    try {
      setResults((await api<{ items: WhyJson[] }>('GET', `/api/lists/why?${query}`)).items);
    } catch (e) {
      setResults(null);
      setError(e);
    }
  };
  return (
    <section aria-labelledby="why-heading">
      <h2 id="why-heading">Why is this blocked?</h2>
      <form onSubmit={ask}>
        <FormError error={error} fields={['name', 'names', 'group']} />
        <TextField label="Site names" name="names" hint="One or more, separated by spaces or commas, such as www.example.com" error={error} value={names} onChange={(e) => setNames(e.target.value)} />
        <SelectField label="For the group" name="group" error={error} value={group} onChange={(e) => setGroup(e.target.value)}>
          <option value="">Lists only (no group)</option>
          {(groups.data?.items ?? []).map((g) => (
            <option key={g.groupId} value={g.groupId}>
              {g.groupName}
            </option>
          ))}
        </SelectField>
        <button type="submit">Explain</button>
      </form>
      {results?.map((r) => (
        <article key={r.name} className="why-result" aria-label={`Why ${r.name}`}>
          <h3>{r.name}</h3>
          <p>{r.categories.length ? `In: ${r.categories.join(', ')}.` : 'In no category.'}</p>
          {r.matches.length ? (
            <ul>
              {r.matches.map((m) => (
                <li key={`${m.list}:${m.line}`}>
                  {m.category}: list <code>{m.list}</code> line {m.line}: <code>{m.entry}</code> ({m.via === 'name' ? 'the name itself' : 'a parent domain'}
                  {m.exact ? ', exact' : ''})
                </li>
              ))}
            </ul>
          ) : null}
          {r.group ? (
            <p>
              For <strong>{r.group.name}</strong>: <strong>{r.group.kind}</strong> by {r.group.rule}: {r.group.reason}
              {r.group.since ? ` (since ${formatDateTime(r.group.since)})` : ''}.
            </p>
          ) : null}
        </article>
      ))}
    </section>
  );
}
