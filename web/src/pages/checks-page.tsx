/**
 * Filter checks (the DfE check log): run a check now, see each run with who
 * ran it and when, every test name per group and transport with the expected
 * and actual outcome, and record the follow-up action beside each result.
 */
import { useState } from 'react';
import { api } from '../api.ts';
import { FormError, Loading, formatDateTime, useApiGet } from '../components.tsx';
import type { CheckResultView, CheckRunDetail, CheckRunView } from '../../../src/checks/checks.service.ts';
import { usePageTitle } from '../router.tsx';
import { CheckNamesSection } from './checks-names-section.tsx';

const TRANSPORT: Record<string, string> = { udp: 'DNS (UDP)', tcp: 'DNS (TCP)', doh: 'DNS-over-HTTPS' };
const category = (key: string) => (key === 'bypass' ? 'bypass switch' : key.replace(/_/g, ' '));

function outcomeText(r: CheckResultView): string {
  if (r.outcome === 'not_checked') return 'not checked';
  if (r.outcome === 'error') return 'no answer';
  return r.outcome;
}

function ActionCell({ result, canRun, onSaved }: { result: CheckResultView; canRun: boolean; onSaved: (r: CheckResultView) => void }) {
  const [text, setText] = useState(result.action ?? '');
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  if (!canRun) return <>{result.action ?? '—'}</>;
  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      onSaved(await api<CheckResultView>('PUT', `/api/checks/results/${result.id}/action`, { action: text }));
    } catch (e) {
      setError(e);
    } finally {
      setSaving(false);
    }
  };
  return (
    <div className="check-action">
      <label className="visually-hidden" htmlFor={`action-${result.id}`}>
        Action for {result.name} ({result.groupName}, {TRANSPORT[result.transport]})
      </label>
      <textarea id={`action-${result.id}`} rows={2} value={text} onChange={(e) => setText(e.target.value)} />
      <button type="button" className="secondary small" disabled={saving || text === (result.action ?? '')} onClick={save}>
        Save action
      </button>
      {result.actionBy ? (
        <small>
          {' '}
          by {result.actionBy}, {formatDateTime(result.actionAt)}
        </small>
      ) : null}
      <FormError error={error} />
    </div>
  );
}

function RunDetail({ id, canRun }: { id: string; canRun: boolean }) {
  const { data, error, loading, reload } = useApiGet<CheckRunDetail>(`/api/checks/runs/${id}`);
  const [onlyProblems, setOnlyProblems] = useState(false);
  return (
    <Loading loading={loading && !data} error={error}>
      {() => {
        const run = data!;
        const rows = run.results.filter((r) => !onlyProblems || r.asExpected !== true);
        return (
          <section aria-labelledby="run-heading">
            <h2 id="run-heading">
              Check of {formatDateTime(run.startedAt)} by {run.ranBy}
            </h2>
            <p>
              {run.total} results for {run.groups.map((g) => g.name).join(', ') || 'no group'}: <strong>{run.unexpected} not as expected</strong>, {run.notChecked} not checked.
              {run.policyVersion !== null ? ` Policy version ${run.policyVersion}.` : ''}
            </p>
            {run.problem ? <p role="alert"><strong>{run.problem}</strong></p> : null}
            <label>
              <input type="checkbox" checked={onlyProblems} onChange={(e) => setOnlyProblems(e.target.checked)} /> Show only results that are not as expected or not checked
            </label>
            <table className="data-table checks-table">
              <thead>
                <tr>
                  <th scope="col">Group</th>
                  <th scope="col">Test name</th>
                  <th scope="col">How</th>
                  <th scope="col">Expected</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Details</th>
                  <th scope="col">Follow-up action</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.id} data-result={`${r.groupName} ${r.name} ${r.transport}`} className={r.asExpected === false ? 'check-unexpected' : undefined}>
                    <td>{r.groupName}</td>
                    <td>
                      <code>{r.name}</code>
                      <br />
                      <small>{category(r.category)}</small>
                    </td>
                    <td>
                      {TRANSPORT[r.transport]}
                      {r.source ? (
                        <>
                          <br />
                          <small>from {r.source}</small>
                        </>
                      ) : null}
                    </td>
                    <td>{r.expected}</td>
                    <td>
                      {outcomeText(r)}
                      <br />
                      <strong>{r.asExpected === null ? '' : r.asExpected ? 'as expected' : 'NOT as expected'}</strong>
                    </td>
                    <td className="details-cell">{r.detail}</td>
                    <td>
                      <ActionCell result={r} canRun={canRun} onSaved={() => reload()} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        );
      }}
    </Loading>
  );
}

export function ChecksPage({ canRun, canEditNames = false }: { canRun: boolean; canEditNames?: boolean }) {
  usePageTitle('Filter checks');
  const runs = useApiGet<{ items: CheckRunView[] }>('/api/checks/runs');
  const [selected, setSelected] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const items = runs.data?.items ?? [];
  const shown = selected ?? items[0]?.id ?? null;

  const runNow = async () => {
    setRunning(true);
    setError(null);
    try {
      const run = await api<CheckRunDetail>('POST', '/api/checks/runs', {});
      setSelected(run.id);
      runs.reload();
    } catch (e) {
      setError(e);
    } finally {
      setRunning(false);
    }
  };

  return (
    <>
      <h1 tabIndex={-1}>Filter checks</h1>
      <p>
        A check asks the running filter a test name for each category as each group, over plain DNS and DNS-over-HTTPS, and compares what happens with what the
        group’s policy says. Record here what was done about anything not as expected: this is the check log the DfE filtering standard asks for. To check a
        real device, open <a href="/check">/check</a> on it.
      </p>
      {canRun ? (
        <p>
          <button type="button" onClick={runNow} disabled={running}>
            {running ? 'Checking…' : 'Run a check now'}
          </button>
        </p>
      ) : null}
      <FormError error={error} />
      <Loading loading={runs.loading && !runs.data} error={runs.error}>
        {() =>
          items.length ? (
            <>
              <h2>Check log</h2>
              <table className="data-table">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">Groups</th>
                    <th scope="col">Results</th>
                    <th scope="col">Not as expected</th>
                    <th scope="col">
                      <span className="visually-hidden">Open</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((run) => (
                    <tr key={run.id} aria-current={run.id === shown ? 'true' : undefined}>
                      <td>{formatDateTime(run.startedAt)}</td>
                      <td>{run.trigger === 'self_test' ? 'daily self-test' : run.ranBy}</td>
                      <td>{run.groups.map((g) => g.name).join(', ') || '—'}</td>
                      <td>{run.problem ? run.problem : run.total}</td>
                      <td>{run.unexpected}</td>
                      <td>
                        <button type="button" className="secondary small" onClick={() => setSelected(run.id)} disabled={run.id === shown}>
                          Show
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {shown ? <RunDetail key={shown} id={shown} canRun={canRun} /> : null}
            </>
          ) : (
            <p>No checks yet.</p>
          )
        }
      </Loading>
      <CheckNamesSection canEdit={canEditNames} />
    </>
  );
}
