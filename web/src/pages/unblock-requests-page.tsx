/**
 * Unblock requests: the inbox of the network manager (decides sites), the
 * DSL (agrees to safeguarding sites) and the head (decides filter-off), with
 * a reason on every decision; and, for every signed-in account, the requests
 * it made itself with their outcome and a form to ask for a site.
 */
import { type FormEvent, useState } from 'react';
import { api, type Group, type Me } from '../api.ts';
import type { UnblockRequestView as UnblockRequest } from '../../../src/policy/policy.requests.ts';
import { FormError, formatDateTime, Loading, Notice, TextField, useApiGet, useSave } from '../components.tsx';
import { usePageTitle } from '../router.tsx';

const STATUS_LABELS: Record<UnblockRequest['status'], string> = {
  open: 'Waiting for a decision',
  awaiting_dsl: 'Waiting for the DSL',
  approved: 'Approved',
  refused: 'Refused',
};
const WAITING_LABELS: Record<string, string> = { network_manager: 'the network manager', dsl: 'the DSL', head: 'the head' };

/** Today plus `days`, as the value of a datetime-local input (local time). */
function localInputValue(days: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

const what = (r: UnblockRequest) => (r.kind === 'filter_off' ? 'Filter off' : r.site);

export function UnblockRequestsPage({ me }: { me: Me }) {
  usePageTitle('Unblock requests');
  const can = (p: string) => me.account.permissions.includes(p);
  const inbox = can('filter.policy.read');
  const [status, setStatus] = useState<'waiting' | 'all'>('waiting');
  const all = useApiGet<{ items: UnblockRequest[] }>(inbox ? '/api/filter/unblock-requests?limit=200' : null);
  const mine = useApiGet<{ items: UnblockRequest[] }>('/api/filter/unblock-requests/mine');
  const groups = useApiGet<{ items: Group[] }>(can('groups.read') ? '/api/groups' : null);
  const reload = () => {
    all.reload();
    mine.reload();
  };
  const items = (all.data?.items ?? []).filter((r) => status === 'all' || r.status === 'open' || r.status === 'awaiting_dsl');

  return (
    <>
      <h1 tabIndex={-1}>Unblock requests</h1>
      {inbox ? (
        <section aria-labelledby="inbox-heading">
          <h2 id="inbox-heading">Requests to decide</h2>
          <p>
            The network manager decides sites; a site in a safeguarding category also needs the DSL’s agreement before it opens. Filter-off is decided by the head. Every decision needs a
            reason, is shown to the person who asked, and is kept in the audit log. Approvals end by themselves.
          </p>
          <p>
            <label>
              Show{' '}
              <select value={status} onChange={(e) => setStatus(e.target.value as 'waiting' | 'all')}>
                <option value="waiting">waiting for someone</option>
                <option value="all">all requests</option>
              </select>
            </label>
          </p>
          <Loading loading={all.loading && !all.data} error={all.error}>
            {() =>
              items.length ? (
                <ul className="request-list">
                  {items.map((r) => (
                    <RequestCard key={r.id} request={r} me={me} groups={groups.data?.items ?? []} onChanged={reload} />
                  ))}
                </ul>
              ) : (
                <p>No requests {status === 'waiting' ? 'are waiting' : 'yet'}.</p>
              )
            }
          </Loading>
        </section>
      ) : null}
      <section aria-labelledby="mine-heading">
        <h2 id="mine-heading">Your requests</h2>
        <AskForm onSent={reload} />
        <Loading loading={mine.loading && !mine.data} error={mine.error}>
          {() =>
            mine.data?.items.length ? (
              <table className="data-table">
                <thead>
                  <tr>
                    <th scope="col">Asked</th>
                    <th scope="col">Site</th>
                    <th scope="col">Status</th>
                    <th scope="col">Outcome</th>
                  </tr>
                </thead>
                <tbody>
                  {mine.data.items.map((r) => (
                    <tr key={r.id}>
                      <td>{formatDateTime(r.createdAt)}</td>
                      <th scope="row">{what(r)}</th>
                      <td>{STATUS_LABELS[r.status]}</td>
                      <td>{outcome(r)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p>You have not asked for anything yet.</p>
            )
          }
        </Loading>
      </section>
    </>
  );
}

function outcome(r: UnblockRequest): string {
  if (r.status === 'approved') return `Open until ${formatDateTime(r.approval?.until)}`;
  if (r.status === 'refused') return r.dslReason ?? r.decisionReason ?? '';
  return r.waitingFor ? `With ${WAITING_LABELS[r.waitingFor]}` : '';
}

function AskForm({ onSent }: { onSent: () => void }) {
  const { error, busy, run } = useSave();
  const [sent, setSent] = useState<string | null>(null);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    void run(async () => {
      await api('POST', '/api/filter/unblock-requests', { kind: 'site', site: String(data.get('site') ?? ''), message: String(data.get('message') ?? '') });
      setSent(String(data.get('site')));
      form.reset();
      onSent();
    });
  };
  return (
    <form onSubmit={submit} className="stack" aria-label="Ask for a site to be unblocked">
      <FormError error={error} fields={['site', 'message']} />
      <Notice>{sent ? `Your request about ${sent} has been sent.` : null}</Notice>
      <TextField label="Site to unblock" name="site" error={error} placeholder="example.org" required />
      <TextField label="Why do you need it?" name="message" error={error} required />
      <button type="submit" disabled={busy}>
        Send request
      </button>
    </form>
  );
}

function RequestCard({ request: r, me, groups, onChanged }: { request: UnblockRequest; me: Me; groups: Group[]; onChanged: () => void }) {
  const roles = me.account.roles;
  const canDecide = r.status === 'open' && (r.kind === 'filter_off' ? roles.includes('head') : me.account.permissions.includes('filter.policy.write'));
  const canAnswerAsDsl = r.status === 'awaiting_dsl' && roles.includes('dsl');
  const groupName = (id: string | null) => (id ? (groups.find((g) => g.id === id)?.name ?? 'a group') : null);
  return (
    <li className="card request-card" aria-label={`Request about ${what(r)}`}>
      <h3>
        {what(r)} <span className="badge">{STATUS_LABELS[r.status]}</span>
        {r.safeguarding ? <span className="badge"> Safeguarding category</span> : null}
      </h3>
      <dl>
        <dt>Asked</dt>
        <dd>
          {formatDateTime(r.createdAt)} by {r.requesterName ?? 'someone on the block page'}
          {r.groupId ? ` (filtered as ${groupName(r.groupId)})` : ''}
        </dd>
        {r.kind === 'filter_off' ? (
          <>
            <dt>For</dt>
            <dd>{r.targetGroupId ? groupName(r.targetGroupId) : 'one person'}</dd>
          </>
        ) : (
          <>
            <dt>Categories</dt>
            <dd>{r.categories.join(', ') || 'none known'}</dd>
          </>
        )}
        <dt>Why</dt>
        <dd>{r.message}</dd>
        {r.approval ? (
          <>
            <dt>Approved</dt>
            <dd>
              by {r.approval.by} until {formatDateTime(r.approval.until)}: {r.approval.reason}
            </dd>
          </>
        ) : null}
        {r.status === 'refused' ? (
          <>
            <dt>Refused</dt>
            <dd>{r.dslReason ?? r.decisionReason}</dd>
          </>
        ) : null}
      </dl>
      {canDecide ? <DecisionForm request={r} groups={groups} onDone={onChanged} /> : null}
      {canAnswerAsDsl ? <DslForm request={r} onDone={onChanged} /> : null}
    </li>
  );
}

function DecisionForm({ request: r, groups, onDone }: { request: UnblockRequest; groups: Group[]; onDone: () => void }) {
  const { error, busy, run } = useSave();
  const [scope, setScope] = useState<'groups' | 'requester'>('groups');
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    const data = new FormData(event.currentTarget);
    const decision = submitter?.value === 'refuse' ? 'refuse' : 'approve';
    const reason = String(data.get('reason') ?? '');
    const body =
      decision === 'refuse'
        ? { decision, reason }
        : {
            decision,
            reason,
            site: r.kind === 'site' ? String(data.get('site') ?? r.site) : undefined,
            scope,
            groupIds: data.getAll('groupIds').map(String),
            until: new Date(String(data.get('until'))).toISOString(),
          };
    void run(async () => {
      await api('POST', `/api/filter/unblock-requests/${r.id}/decision`, body);
      onDone();
    });
  };
  return (
    <form onSubmit={submit} className="stack" aria-label={`Decide the request about ${what(r)}`}>
      <FormError error={error} fields={['site', 'groupIds', 'until', 'reason', 'scope']} />
      {r.kind === 'site' ? (
        <>
          <TextField label="Site" name="site" defaultValue={r.site} error={error} />
          <fieldset>
            <legend>For whom</legend>
            <label>
              <input type="radio" name="scope" value="groups" checked={scope === 'groups'} onChange={() => setScope('groups')} /> Groups
            </label>{' '}
            <label>
              <input type="radio" name="scope" value="requester" checked={scope === 'requester'} onChange={() => setScope('requester')} /> Only the person (or device) that asked
            </label>
            {scope === 'groups' ? (
              <div>
                {groups.map((g) => (
                  <label key={g.id} className="inline-check">
                    <input type="checkbox" name="groupIds" value={g.id} defaultChecked={g.id === r.groupId} /> {g.name}
                  </label>
                ))}
              </div>
            ) : null}
          </fieldset>
        </>
      ) : null}
      <TextField label="Until" name="until" type="datetime-local" defaultValue={localInputValue(7)} error={error} required />
      <TextField label="Reason (shown to the person who asked)" name="reason" error={error} />
      <div className="button-row">
        <button type="submit" value="approve" disabled={busy}>
          Approve
        </button>{' '}
        <button type="submit" value="refuse" className="secondary" disabled={busy}>
          Refuse
        </button>
      </div>
    </form>
  );
}

function DslForm({ request: r, onDone }: { request: UnblockRequest; onDone: () => void }) {
  const { error, busy, run } = useSave();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    const data = new FormData(event.currentTarget);
    void run(async () => {
      await api('POST', `/api/filter/unblock-requests/${r.id}/dsl`, { agree: submitter?.value === 'agree', reason: String(data.get('reason') ?? '') });
      onDone();
    });
  };
  return (
    <form onSubmit={submit} className="stack" aria-label={`DSL answer about ${what(r)}`}>
      <FormError error={error} fields={['reason']} />
      <TextField label="DSL’s reason (shown to the person who asked if you decline)" name="reason" error={error} />
      <div className="button-row">
        <button type="submit" value="agree" disabled={busy}>
          Agree
        </button>{' '}
        <button type="submit" value="decline" className="secondary" disabled={busy}>
          Decline
        </button>
      </div>
    </form>
  );
}
