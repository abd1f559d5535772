/**
 * The Lists page's sources: every built-in source with its lists (what each
 * is for, whether it is on, its copy in service) and the school's own lists.
 * Switching lists goes through the same review step as every filter change
 * (the diff in words, then a reason); a saved change starts a refresh, so
 * the running filter follows within moments.
 */
import { type ChangeEvent, useEffect, useState } from 'react';
import type { ListSourcesJson, OwnListCheckJson } from '../../../src/lists/lists.choices.routes.ts';
import { ApiError, api } from '../api.ts';
import { formatDateTime, Loading, Notice, SelectField, TextField, useApiGet, useSave } from '../components.tsx';
import { type Change, RemovalRow, ReviewFirstForm, useCategories, useReview } from '../filter/filter-common.tsx';

type Source = ListSourcesJson['sources'][number];
type BuiltIn = Source['lists'][number];
type Own = ListSourcesJson['own'][number];

const USE_WORDS = { block: 'blocks', allow: 'known-good', ignore: 'never used' } as const;
const FORMAT_WORDS: Record<string, string> = {
  plain: 'one domain a line',
  hosts: 'hosts file (address, then names)',
  adblock: 'adblock (||example.com^)',
  dnsmasq: 'dnsmasq (server=/example.com/)',
  wildcard: 'wildcards (*.example.com)',
  tld: 'whole top-level domains',
  urls: 'URLs (whole sites only)',
  'domains-json': 'JSON with "domains" arrays (Hipo)',
};

const count = (n: number) => n.toLocaleString('en-GB');

function stateText(state: BuiltIn['state']): string {
  if (state.problem) return `${state.names ? `${count(state.names)} names in service; ` : ''}latest check failed: ${state.problem.reason}`;
  if (!state.acceptedAt) return 'not brought in yet';
  return `${count(state.names)} names, taken ${formatDateTime(state.acceptedAt)}`;
}

/** The sources and own lists sections, loaded together. */
export function ListSources({ canWrite, onChange, refreshedAt }: { canWrite: boolean; onChange: () => void; refreshedAt: string | null }) {
  const sources = useApiGet<ListSourcesJson>('/api/lists/sources');
  const { reload } = sources;
  // Each refresh that ends changes the copies in service: show them.
  useEffect(() => {
    if (refreshedAt) reload();
  }, [refreshedAt, reload]);
  const [notice, setNotice] = useState('');
  const changed = (message: string) => {
    setNotice(message);
    sources.reload();
    onChange();
  };
  return (
    <Loading loading={sources.loading && !sources.data} error={sources.error}>
      {() =>
        sources.data ? (
          <>
            <Notice>{notice}</Notice>
            <BuiltInSources data={sources.data} canWrite={canWrite} onSaved={changed} />
            <OwnLists data={sources.data} canWrite={canWrite} onSaved={changed} />
          </>
        ) : null
      }
    </Loading>
  );
}

function BuiltInSources({ data, canWrite, onSaved }: { data: ListSourcesJson; canWrite: boolean; onSaved: (message: string) => void }) {
  const [draft, setDraft] = useState<Record<string, boolean>>({});
  const review = useReview();
  const save = useSave();
  const categories = useCategories();
  const all = data.sources.flatMap((s) => s.lists);
  const changes: Change[] = all
    .filter((l) => draft[l.id] !== undefined && draft[l.id] !== l.enabled)
    .map((l) => ({ kind: draft[l.id] ? 'add' : 'remove', text: `${draft[l.id] ? 'Switch on' : 'Switch off'} ${l.id} (${l.use === 'block' ? `blocks ${categories.label(l.category)}` : 'known-good names'})` }));
  const toggle = review.edited((change: { id: string; on: boolean }) => setDraft((d) => ({ ...d, [change.id]: change.on })));
  const submit = (reason: string) =>
    void save.run(async () => {
      for (const l of all.filter((x) => draft[x.id] !== undefined && draft[x.id] !== x.enabled)) {
        await api('PUT', `/api/lists/sources/${encodeURIComponent(l.id)}`, { enabled: draft[l.id], reason });
      }
      setDraft({});
      review.setReviewing(false);
      onSaved(`Saved ${changes.length} change(s); the lists are being refreshed.`);
    });

  return (
    <section aria-labelledby="sources-heading">
      <h2 id="sources-heading">Built-in sources</h2>
      <p>
        Public category lists Schoolgate downloads (or reads from your mirror). Block lists put names in a category; each group’s policy decides which categories it blocks. Known-good lists never block: the
        over-blocking report checks your policies against them.
      </p>
      <ReviewFirstForm review={review} save={save} reviewLabel={`Review ${changes.length} change(s)`} canReview={canWrite && changes.length > 0} changes={changes} fields={[]} onSave={submit} onCancel={changes.length ? () => setDraft({}) : undefined} cancelLabel="Undo changes">
        {data.sources.map((source) => (
          <details key={source.key} className="source-details">
            <summary>
              <strong>{source.name}</strong> ({source.licence}): {source.lists.filter((l) => (draft[l.id] ?? l.enabled)).length} of {source.lists.length} lists on
            </summary>
            <p>
              <a href={source.homepage}>{source.homepage}</a>. <small>{source.attribution}</small>
            </p>
            <table className="data-table">
              <caption className="visually-hidden">{source.name}</caption>
              <thead>
                <tr>
                  <th scope="col">On</th>
                  <th scope="col">List</th>
                  <th scope="col">Use</th>
                  <th scope="col">Copy in service</th>
                  <th scope="col">Note</th>
                </tr>
              </thead>
              <tbody>
                {source.lists.map((l) => (
                  <tr key={l.id}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Use ${l.id}`}
                        checked={draft[l.id] ?? l.enabled}
                        disabled={!canWrite || l.use === 'ignore'}
                        onChange={(e: ChangeEvent<HTMLInputElement>) => toggle({ id: l.id, on: e.target.checked })}
                      />
                    </td>
                    <th scope="row">
                      <code>{l.id}</code>
                    </th>
                    <td>{l.use === 'block' ? `blocks ${categories.label(l.category)}` : USE_WORDS[l.use]}</td>
                    <td>{stateText(l.state)}</td>
                    <td>
                      {l.note ?? ''}
                      {l.switch ? (
                        <small>
                          {' '}
                          (switched {l.switch.enabled ? 'on' : 'off'} by {l.switch.changedBy}, {formatDateTime(l.switch.changedAt)}: {l.switch.reason})
                        </small>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        ))}
      </ReviewFirstForm>
    </section>
  );
}

/** Reads a chosen file as text; a `.gz` file is unpacked first. */
async function readListFile(file: File): Promise<string> {
  if (!/\.gz$/i.test(file.name)) return file.text();
  return new Response(file.stream().pipeThrough(new DecompressionStream('gzip'))).text();
}

type CheckJson = OwnListCheckJson;

function OwnLists({ data, canWrite, onSaved }: { data: ListSourcesJson; canWrite: boolean; onSaved: (message: string) => void }) {
  const [adding, setAdding] = useState(false);
  const [ending, setEnding] = useState<{ id: string; action: 'remove' | 'off' | 'on' } | null>(null);
  const [lastCheck, setLastCheck] = useState<{ name: string; check: CheckJson } | null>(null);
  const save = useSave();
  const categories = useCategories();
  const end = (list: Own, action: 'remove' | 'off' | 'on', reason: string) =>
    void save.run(async () => {
      if (action === 'remove') await api('DELETE', `/api/lists/own/${encodeURIComponent(list.id)}`, { reason });
      else await api('PATCH', `/api/lists/own/${encodeURIComponent(list.id)}`, { enabled: action === 'on', reason });
      setEnding(null);
      onSaved(action === 'remove' ? `Removed ${list.name}.` : `Switched ${list.name} ${action}.`);
    });
  return (
    <section aria-labelledby="own-heading">
      <h2 id="own-heading">Your own lists</h2>
      <p>Lists your school or trust keeps: downloaded from a URL at every refresh, or uploaded here (up to {data.maxUploadBytes >> 20} MiB; a .gz file is unpacked in the browser).</p>
      {lastCheck ? (
        <div className="check-report" role="status">
          <p>
            <strong>{lastCheck.name}</strong>: {count(lastCheck.check.names)} names from {count(lastCheck.check.lines)} lines.
            {lastCheck.check.unused ? ` ${count(lastCheck.check.unused)} line(s) not used:` : ' Every line was used.'}
          </p>
          {lastCheck.check.samples.length ? (
            <ul>
              {lastCheck.check.samples.map((s) => (
                <li key={s.line}>
                  line {s.line}: <code>{s.text}</code>: {s.reason}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {data.own.length ? (
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col">List</th>
              <th scope="col">Use</th>
              <th scope="col">From</th>
              <th scope="col">Copy in service</th>
              <th scope="col">Added</th>
              {canWrite ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {data.own.map((l) => (
              <OwnRow key={l.id} list={l} label={categories.label(l.category)} canWrite={canWrite} ending={ending?.id === l.id ? ending.action : null} onEnd={(action) => setEnding({ id: l.id, action })} onCancel={() => setEnding(null)} onSave={(reason) => end(l, ending!.action, reason)} save={save} />
            ))}
          </tbody>
        </table>
      ) : (
        <p>None yet.</p>
      )}
      {canWrite ? (
        adding ? (
          <AddOwnList
            formats={data.formats}
            maxBytes={data.maxUploadBytes}
            onCancel={() => setAdding(false)}
            onSaved={(name, check) => {
              setAdding(false);
              setLastCheck(check ? { name, check } : null);
              onSaved(`Added ${name}; the lists are being refreshed.`);
            }}
          />
        ) : (
          <button type="button" onClick={() => setAdding(true)}>
            Add a list
          </button>
        )
      ) : null}
    </section>
  );
}

function OwnRow(props: { list: Own; label: string; canWrite: boolean; ending: 'remove' | 'off' | 'on' | null; onEnd: (a: 'remove' | 'off' | 'on') => void; onCancel: () => void; onSave: (reason: string) => void; save: { error: unknown; busy: boolean } }) {
  const l = props.list;
  const words = { remove: `Remove the list ${l.name}`, off: `Switch off ${l.name}`, on: `Switch on ${l.name}` };
  return (
    <>
      <tr>
        <th scope="row">
          {l.name} <small>({l.id})</small>
          {l.enabled ? null : <strong> (off)</strong>}
          {l.note ? (
            <>
              <br />
              <small>{l.note}</small>
            </>
          ) : null}
        </th>
        <td>{l.use === 'block' ? `blocks ${props.label}` : 'known-good'}</td>
        <td>{l.url ? <code>{l.url}</code> : `uploaded ${formatDateTime(l.uploadedAt)} (${count(l.bytes ?? 0)} bytes)`}</td>
        <td>{stateText(l.state)}</td>
        <td>
          {formatDateTime(l.createdAt)} by {l.createdBy}
        </td>
        {props.canWrite ? (
          <td>
            <button type="button" className="secondary small" onClick={() => props.onEnd(l.enabled ? 'off' : 'on')}>
              {l.enabled ? 'Switch off' : 'Switch on'}
            </button>{' '}
            <button type="button" className="secondary small" onClick={() => props.onEnd('remove')}>
              Remove
            </button>
          </td>
        ) : null}
      </tr>
      {props.ending ? <RemovalRow colSpan={6} change={{ kind: props.ending === 'on' ? 'add' : 'remove', text: words[props.ending] }} save={props.save} onSave={props.onSave} onBack={props.onCancel} backLabel="Keep it as it is" /> : null}
    </>
  );
}

function AddOwnList(props: { formats: string[]; maxBytes: number; onCancel: () => void; onSaved: (name: string, check: CheckJson | null) => void }) {
  const categories = useCategories();
  const review = useReview();
  const save = useSave();
  const [name, setName] = useState('');
  const [use, setUse] = useState<'block' | 'allow'>('block');
  const [category, setCategory] = useState('');
  const [format, setFormat] = useState('plain');
  const [from, setFrom] = useState<'url' | 'file'>('file');
  const [url, setUrl] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [note, setNote] = useState('');
  const blocks = use === 'block';
  const changes: Change[] = [
    {
      kind: 'add',
      text: `Add the list “${name}”: ${blocks ? `blocks ${categories.label(category) || '(no category)'}` : 'known-good names'}, ${FORMAT_WORDS[format] ?? format}, ${from === 'url' ? `downloaded from ${url}` : `uploaded from ${file?.name ?? '(no file)'}`}`,
    },
  ];
  const check = () => {
    const problems: { where: string; message: string }[] = [];
    if (!name.trim()) problems.push({ where: 'name', message: 'give the list a name' });
    if (blocks && !category) problems.push({ where: 'category', message: 'choose the category its names are in' });
    if (from === 'url' && !/^https?:\/\/\S+$/i.test(url.trim())) problems.push({ where: 'url', message: 'an http or https URL' });
    if (from === 'file' && !file) problems.push({ where: 'content', message: 'choose a file' });
    if (problems.length) {
      save.setError(new ApiError(400, 'validation', 'Check the highlighted fields', problems));
      return false;
    }
    return true;
  };
  const submit = (reason: string) =>
    void save.run(async () => {
      let content: string | null = null;
      if (from === 'file' && file) {
        content = await readListFile(file);
        if (new TextEncoder().encode(content).length > props.maxBytes) throw new ApiError(400, 'validation', `The file is larger than ${props.maxBytes >> 20} MiB unpacked: serve it over HTTP and give the URL`, [{ where: 'content', message: 'too large' }]);
      }
      const body = { name: name.trim(), use, category: blocks ? category : null, format, note, reason, ...(from === 'url' ? { url: url.trim() } : { content }) };
      const added = await api<{ check: CheckJson | null }>('POST', '/api/lists/own', body);
      props.onSaved(name.trim(), added.check);
    });
  return (
    <ReviewFirstForm review={review} save={save} reviewLabel="Review the new list" check={check} changes={changes} fields={['name', 'category', 'format', 'url', 'content', 'note']} onSave={submit} onCancel={props.onCancel} heading="Check the new list before adding it">
      <h3>Add a list</h3>
      <TextField label="Name" name="name" error={save.error} value={name} onChange={(e) => review.edited(setName)(e.target.value)} maxLength={80} />
      <SelectField label="What it is for" name="use" error={save.error} value={use} onChange={(e) => review.edited(setUse)(e.target.value as 'block' | 'allow')}>
        <option value="block">Block: its names are in a category</option>
        <option value="allow">Known-good: sites teachers rely on (checked by the over-blocking report, never blocked)</option>
      </SelectField>
      {blocks ? (
        <SelectField label="Category" name="category" error={save.error} value={category} onChange={(e) => review.edited(setCategory)(e.target.value)}>
          <option value="">Choose…</option>
          {categories.items.map((c) => (
            <option key={c.key} value={c.key}>
              {c.label}
            </option>
          ))}
        </SelectField>
      ) : null}
      <SelectField label="Format" name="format" error={save.error} value={format} onChange={(e) => review.edited(setFormat)(e.target.value)}>
        {props.formats.map((f) => (
          <option key={f} value={f}>
            {FORMAT_WORDS[f] ?? f}
          </option>
        ))}
      </SelectField>
      <fieldset>
        <legend>Where it comes from</legend>
        <label>
          <input type="radio" name="from" checked={from === 'file'} onChange={() => review.edited(setFrom)('file')} /> A file I upload now
        </label>
        <label>
          <input type="radio" name="from" checked={from === 'url'} onChange={() => review.edited(setFrom)('url')} /> A URL Schoolgate downloads at every refresh
        </label>
      </fieldset>
      {from === 'url' ? (
        <TextField label="URL" name="url" error={save.error} value={url} onChange={(e) => review.edited(setUrl)(e.target.value)} placeholder="https://" />
      ) : (
        <TextField label="File" name="content" type="file" error={save.error} accept=".txt,.gz,.list,.hosts,.json,text/plain,application/gzip" onChange={(e) => review.edited(setFile)(e.target.files?.[0] ?? null)} />
      )}
      <TextField label="Note (optional)" name="note" error={save.error} value={note} onChange={(e) => review.edited(setNote)(e.target.value)} maxLength={1000} />
    </ReviewFirstForm>
  );
}

