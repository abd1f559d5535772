/**
 * Over-blocking: the known-good sites each group's policy blocks now (the
 * school's own list of sites teachers rely on, and the allow lists of the
 * list sources), with the rule and the list line behind each and "why" on
 * demand; and the editor of the school's own known-good sites (one at a time
 * with a note, or a pasted list whose bad lines are named by number).
 * Read-only roles see the report and the sites, no edit controls.
 */
import { type FormEvent, useId, useState } from 'react';
import type { KnownGoodSiteJson, OverblockingJson } from '../../../src/lists/lists.overblocking.routes.ts';
import type { WhyJson } from '../../../src/lists/lists.routes.ts';
import { api, type FilterGroupPolicy } from '../api.ts';
import { formatDateTime, FormError, issuesFor, Loading, Notice, SelectField, TextField, useApiGet, useSave } from '../components.tsx';
import { usePageTitle } from '../router.tsx';

type GroupReport = OverblockingJson['groups'][number];
type Item = GroupReport['items'][number];

const RULE_WORDS: Record<string, string> = {
  category: 'category blocked',
  schedule: 'category blocked at this time',
  deny_entry: 'deny entry',
  safe_search: 'safe search',
  illegal: 'illegal content',
  sanction: 'sanction',
};

const sourceWord = (source: string) => (source === 'school' ? 'school’s list' : source);

export function OverblockingPage({ canWrite }: { canWrite: boolean }) {
  usePageTitle('Over-blocking');
  const groups = useApiGet<{ items: FilterGroupPolicy[] }>('/api/filter/groups');
  const [group, setGroup] = useState('');
  const report = useApiGet<OverblockingJson>(`/api/lists/overblocking${group ? `?group=${encodeURIComponent(group)}` : ''}`);
  return (
    <>
      <h1 tabIndex={-1}>Over-blocking</h1>
      <p>
        Sites teachers rely on should not be blocked. This checks every known-good site (the school’s own list below, and the allow lists of the list sources) against each group’s
        policy, as the filter decides it now, and shows which are blocked, by which rule and which list line.
      </p>
      <SelectField label="Groups" name="group" value={group} onChange={(e) => setGroup(e.target.value)}>
        <option value="">Every group with a policy of its own</option>
        {(groups.data?.items ?? []).map((g) => (
          <option key={g.groupId} value={g.groupId}>
            {g.groupName}
          </option>
        ))}
      </SelectField>
      <Loading loading={report.loading && !report.data} error={report.error}>
        {() => (report.data ? <Report report={report.data} /> : null)}
      </Loading>
      <KnownGoodSites canWrite={canWrite} onChange={report.reload} />
    </>
  );
}

function Report({ report }: { report: OverblockingJson }) {
  const notSynced = report.sources.filter((s) => !s.copy);
  return (
    <>
      <section aria-labelledby="sources-heading">
        <h2 id="sources-heading">Known-good sites checked: {report.names.toLocaleString('en-GB')}</h2>
        {report.catalog.problem ? <p className="level level-amber">{report.catalog.problem}</p> : null}
        <ul>
          {report.sources.filter((s) => s.copy).map((s) => (
            <li key={s.id}>
              <strong>{s.kind === 'school' ? 'The school’s own list' : s.label}</strong>
              {s.kind === 'list' ? <> (<code>{s.id}</code>)</> : null}:{' '}
              {s.copy && s.names ? `${s.names.toLocaleString('en-GB')} sites${s.unused ? `, ${s.unused.toLocaleString('en-GB')} lines not used` : ''}` : (s.note ?? 'nothing read')}
            </li>
          ))}
        </ul>
        {notSynced.length ? <p>Not synced yet, so not checked: {notSynced.map((s) => s.label).join(', ')}.</p> : null}
      </section>
      {report.groups.map((g) => (
        <GroupSection key={g.id} group={g} />
      ))}
      {report.groupsLeftOut.length ? <p>Not shown (no policy of their own; choose one above to see it): {report.groupsLeftOut.map((g) => g.name).join(', ')}.</p> : null}
    </>
  );
}

function GroupSection({ group }: { group: GroupReport }) {
  const id = useId();
  return (
    <section aria-labelledby={`${id}-h`} className="overblocking-group">
      <h2 id={`${id}-h`}>
        {group.name}: {group.blocked.toLocaleString('en-GB')} of {group.checked.toLocaleString('en-GB')} known-good sites blocked
      </h2>
      {!group.ownPolicy ? <p>This group has no policy of its own: these are the defaults.</p> : null}
      {group.blocked > group.blockedNow ? <p>{group.blocked - group.blockedNow} of them are blocked on a schedule: allowed now, blocked at other times (such as lessons).</p> : null}
      {group.blocked ? (
        <>
          <p>
            By category: {group.byCategory.map((c) => `${c.key} ${c.count}`).join(', ')}. By list: {group.byList.map((c) => `${c.key} ${c.count}`).join(', ')}.
          </p>
          <table className="data-table">
            <caption>Known-good sites blocked for {group.name}{group.truncated ? ` (the first ${group.items.length})` : ''}</caption>
            <thead>
              <tr>
                <th scope="col">Site</th>
                <th scope="col">Known-good from</th>
                <th scope="col">Category</th>
                <th scope="col">Rule</th>
                <th scope="col">Blocked by</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {group.items.map((item) => (
                <ItemRow key={item.name} item={item} group={group} />
              ))}
            </tbody>
          </table>
        </>
      ) : (
        <p>None: every known-good site is allowed for {group.name}.</p>
      )}
    </section>
  );
}

function ItemRow({ item, group }: { item: Item; group: GroupReport }) {
  const [why, setWhy] = useState<WhyJson | null>(null);
  const { error, busy, run } = useSave();
  const explain = () =>
    run(async () => {
      const query = new URLSearchParams({ name: item.name, group: group.id });
      setWhy((await api<{ items: WhyJson[] }>('GET', `/api/lists/why?${query}`)).items[0] ?? null);
    });
  return (
    <tr>
      <th scope="row">{item.name}</th>
      <td>{item.knownGood.map((k) => (k.line === null ? sourceWord(k.source) : `${k.source} line ${k.line}`)).join('; ')}</td>
      <td>{item.category ?? '—'}</td>
      <td>{item.when === 'at_times' ? 'scheduled: allowed now, blocked at other times' : (RULE_WORDS[item.rule] ?? item.rule)}</td>
      <td>
        {item.lists.length ? (
          item.lists.map((l) => (
            <span key={`${l.list}:${l.line}`}>
              <code>{l.list}</code> line {l.line}
              {l.entry !== item.name ? (
                <>
                  {' '}
                  (<code>{l.entry}</code>)
                </>
              ) : null}
              <br />
            </span>
          ))
        ) : (
          <>{item.reason}</>
        )}
      </td>
      <td>
        {why ? (
          <div className="why-result" aria-label={`Why ${item.name}`} role="note">
            <p>{why.categories.length ? `In: ${why.categories.join(', ')}.` : 'In no category.'}</p>
            {why.group ? (
              <p>
                For {why.group.name}: {why.group.kind} by {why.group.rule}: {why.group.reason}
                {why.group.since ? ` (since ${formatDateTime(why.group.since)})` : ''}.
              </p>
            ) : null}
          </div>
        ) : (
          <button type="button" className="secondary small" disabled={busy} onClick={() => void explain()} aria-label={`Why is ${item.name} blocked?`}>
            Why?
          </button>
        )}
        <FormError error={error} />
      </td>
    </tr>
  );
}

function KnownGoodSites({ canWrite, onChange }: { canWrite: boolean; onChange: () => void }) {
  const sites = useApiGet<{ items: KnownGoodSiteJson[] }>('/api/lists/known-good');
  const [notice, setNotice] = useState('');
  const changed = (message: string) => {
    setNotice(message);
    sites.reload();
    onChange();
  };
  return (
    <section aria-labelledby="known-good-heading">
      <h2 id="known-good-heading">The school’s known-good sites</h2>
      <p>Sites your teachers rely on. They are checked above for every group; add the ones a list or a policy might catch.</p>
      <Notice>{notice}</Notice>
      <Loading loading={sites.loading && !sites.data} error={sites.error}>
        {() =>
          sites.data?.items.length ? (
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Site</th>
                  <th scope="col">Note</th>
                  <th scope="col">Added</th>
                  {canWrite ? <th scope="col">Remove</th> : null}
                </tr>
              </thead>
              <tbody>
                {sites.data.items.map((s) => (
                  <tr key={s.id}>
                    <th scope="row">{s.domain}</th>
                    <td>{s.note ?? '—'}</td>
                    <td>
                      {formatDateTime(s.createdAt)} by {s.createdBy}
                    </td>
                    {canWrite ? (
                      <td>
                        <RemoveForm site={s} onDone={() => changed(`Removed ${s.domain}.`)} />
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p>None yet.</p>
          )
        }
      </Loading>
      {canWrite ? (
        <>
          <AddForm onDone={(domain) => changed(`Added ${domain}.`)} />
          <PasteForm onDone={(added, already) => changed(`Added ${added} site(s)${already ? `; ${already} already on the list` : ''}.`)} />
        </>
      ) : null}
    </section>
  );
}

function AddForm({ onDone }: { onDone: (domain: string) => void }) {
  const [domain, setDomain] = useState('');
  const [note, setNote] = useState('');
  const [reason, setReason] = useState('');
  const { error, busy, run } = useSave();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const { site } = await api<{ site: KnownGoodSiteJson }>('POST', '/api/lists/known-good', { domain, note, reason });
      setDomain('');
      setNote('');
      setReason('');
      onDone(site.domain);
    });
  };
  return (
    <form onSubmit={submit} className="inline-form" aria-labelledby="add-site-heading">
      <h3 id="add-site-heading">Add a site</h3>
      <FormError error={error} fields={['domain', 'note', 'reason']} />
      <TextField label="Site" name="domain" hint="Its name or address, such as www.bbc.co.uk/bitesize" error={error} value={domain} onChange={(e) => setDomain(e.target.value)} />
      <TextField label="Note (optional)" name="note" hint="What it is used for" error={error} value={note} onChange={(e) => setNote(e.target.value)} />
      <TextField label="Reason for adding" name="reason" error={error} value={reason} onChange={(e) => setReason(e.target.value)} />
      <button type="submit" disabled={busy}>
        Add site
      </button>
    </form>
  );
}

function PasteForm({ onDone }: { onDone: (added: number, already: number) => void }) {
  const [text, setText] = useState('');
  const [reason, setReason] = useState('');
  const { error, busy, run } = useSave();
  const id = useId();
  const textIssues = issuesFor(error, 'text');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const result = await api<{ added: KnownGoodSiteJson[]; alreadyListed: string[] }>('POST', '/api/lists/known-good/paste', { text, reason });
      setText('');
      setReason('');
      onDone(result.added.length, result.alreadyListed.length);
    });
  };
  return (
    <form onSubmit={submit} className="inline-form" aria-labelledby="paste-sites-heading">
      <h3 id="paste-sites-heading">Add a list of sites</h3>
      <FormError error={error} fields={['text', 'reason']} />
      <div className={`field${textIssues.length ? ' field-invalid' : ''}`}>
        <label htmlFor={`${id}-text`}>Sites</label>
        <p className="hint" id={`${id}-hint`}>
          One a line, or CSV with the site first and a note after a comma. All are added, or none if a line is not a site (each is named by its line number).
        </p>
        <p className="field-error" id={`${id}-error`} aria-live="polite">
          {textIssues.join(' ')}
        </p>
        <textarea id={`${id}-text`} name="text" rows={6} value={text} onChange={(e) => setText(e.target.value)} aria-describedby={`${id}-hint ${id}-error`} aria-invalid={textIssues.length ? true : undefined} spellCheck={false} />
      </div>
      <TextField label="Reason for adding these" name="reason" error={error} value={reason} onChange={(e) => setReason(e.target.value)} />
      <button type="submit" disabled={busy}>
        Add sites
      </button>
    </form>
  );
}

function RemoveForm({ site, onDone }: { site: KnownGoodSiteJson; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const { error, busy, run } = useSave();
  if (!open) {
    return (
      <button type="button" className="danger-outline small" onClick={() => setOpen(true)} aria-label={`Remove ${site.domain}…`}>
        Remove…
      </button>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await api('DELETE', `/api/lists/known-good/${site.id}`, { reason });
      onDone();
    });
  };
  return (
    <form onSubmit={submit} aria-label={`Remove ${site.domain}`}>
      <FormError error={error} fields={['reason']} />
      <TextField label="Reason for removing" name="reason" error={error} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
      <button type="submit" className="danger small" disabled={busy}>
        Remove
      </button>{' '}
      <button type="button" className="secondary small" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </form>
  );
}
