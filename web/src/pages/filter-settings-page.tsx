/**
 * Filtering: the school's filter settings (how a block is answered, the group
 * for unknown clients, the never-block list, the ChromeOS salt, forwarders
 * and the block page's wording), each explained for a network manager. All
 * edits are reviewed together, in words, and saved with one reason; only the
 * settings that changed are sent (the API keeps the rest as they are).
 */
import { type ReactNode, useEffect, useId, useState } from 'react';
import { ApiError, api } from '../api.ts';
import { CheckboxField, FormError, Loading, Notice, SelectField, TextField, formatDateTime, issuesFor, useApiGet, useSave } from '../components.tsx';
import { type Change, FilterNav, ReviewFirstForm, describeDomain, useFilterGroups, useReview } from '../filter/filter-common.tsx';
import { usePageTitle } from '../router.tsx';
import type { SettingsView } from '../../../src/policy/policy.service.ts';

type BlockAnswer = SettingsView['blockAnswer'];

/** What each block answer does, in words. */
export const BLOCK_ANSWER_WORDS: Record<BlockAnswer, { label: string; effect: string }> = {
  address: { label: 'The block page’s address', effect: 'people see Schoolgate’s block page, which says why and lets them ask for an unblock' },
  null: { label: '0.0.0.0 and ::', effect: 'the browser shows a connection error; nothing says why' },
  nxdomain: { label: '“No such name”', effect: 'the browser says the site does not exist; nothing says why' },
};

/** The fields the server's issues name, each shown beside its own control. */
const FIELDS = ['blockAnswer', 'blockIpv4', 'blockIpv6', 'blockedTtl', 'defaultGroupId', 'neverBlockAdded', 'neverBlockDisabled', 'chromeosSalt', 'trustedForwarders', 'conditionalForwarders', 'blockPageNotice', 'blockPageContact'];

/** The settings as edited: text fields as typed, lists as rows. */
interface Draft {
  blockAnswer: BlockAnswer;
  blockIpv4: string;
  blockIpv6: string;
  blockedTtl: string;
  defaultGroupId: string;
  /** The school's own never-block entries; a new one takes the change's reason. */
  added: { entry: string; reason: string | null }[];
  /** Built-in entries switched off, with why (null: switched off in this change). */
  disabled: Map<string, string | null>;
  newSalt: string;
  removeSalt: boolean;
  trustedForwarders: string;
  conditionalForwarders: { zone: string; servers: string }[];
  blockPageNotice: string;
  blockPageContact: string;
}

const lines = (text: string) =>
  text
    .split(/[\n,]+/)
    .map((l) => l.trim())
    .filter(Boolean);
const serversOf = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((l) => l.trim())
    .filter(Boolean);

function draftOf(s: SettingsView): Draft {
  return {
    blockAnswer: s.blockAnswer,
    blockIpv4: s.blockIpv4 ?? '',
    blockIpv6: s.blockIpv6 ?? '',
    blockedTtl: String(s.blockedTtl),
    defaultGroupId: s.defaultGroupId ?? '',
    added: s.neverBlock.added.map((a) => ({ entry: a.entry, reason: a.reason })),
    disabled: new Map(s.neverBlock.builtIn.filter((b) => !b.enabled).map((b) => [b.entry, b.disabledReason ?? ''])),
    newSalt: '',
    removeSalt: false,
    trustedForwarders: s.trustedForwarders.join('\n'),
    conditionalForwarders: s.conditionalForwarders.map((f) => ({ zone: f.zone, servers: f.servers.join(', ') })),
    blockPageNotice: s.blockPageNotice ?? '',
    blockPageContact: s.blockPageContact ?? '',
  };
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The request body for what changed (fields left out stay as they are), without the reason. */
export function settingsBody(s: SettingsView, d: Draft, reason: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (d.blockAnswer !== s.blockAnswer) body.blockAnswer = d.blockAnswer;
  if (d.blockIpv4.trim() !== (s.blockIpv4 ?? '')) body.blockIpv4 = d.blockIpv4.trim() || null;
  if (d.blockIpv6.trim() !== (s.blockIpv6 ?? '')) body.blockIpv6 = d.blockIpv6.trim() || null;
  if (d.blockedTtl.trim() !== String(s.blockedTtl)) body.blockedTtl = /^\d+$/.test(d.blockedTtl.trim()) ? Number(d.blockedTtl.trim()) : d.blockedTtl;
  if (d.defaultGroupId !== (s.defaultGroupId ?? '')) body.defaultGroupId = d.defaultGroupId || null;
  const added = d.added.filter((a) => a.entry.trim());
  if (!sameList(added.map((a) => a.entry.trim()), s.neverBlock.added.map((a) => a.entry)) || added.some((a) => a.reason === null)) {
    body.neverBlockAdded = added.map((a) => ({ entry: a.entry.trim(), reason: a.reason ?? reason }));
  }
  const offBefore = s.neverBlock.builtIn.filter((b) => !b.enabled).map((b) => b.entry);
  const offAfter = s.neverBlock.builtIn.filter((b) => d.disabled.has(b.entry)).map((b) => b.entry);
  if (!sameList(offBefore, offAfter)) body.neverBlockDisabled = offAfter.map((entry) => ({ entry, reason: d.disabled.get(entry) ?? reason }));
  if (d.removeSalt) body.chromeosSalt = null;
  else if (d.newSalt) body.chromeosSalt = d.newSalt;
  if (!sameList(lines(d.trustedForwarders), s.trustedForwarders)) body.trustedForwarders = lines(d.trustedForwarders);
  const forwarders = d.conditionalForwarders.filter((f) => f.zone.trim() || f.servers.trim()).map((f) => ({ zone: f.zone.trim(), servers: serversOf(f.servers) }));
  if (JSON.stringify(forwarders) !== JSON.stringify(s.conditionalForwarders)) body.conditionalForwarders = forwarders;
  if (d.blockPageNotice.trim() !== (s.blockPageNotice ?? '')) body.blockPageNotice = d.blockPageNotice.trim() || null;
  if (d.blockPageContact.trim() !== (s.blockPageContact ?? '')) body.blockPageContact = d.blockPageContact.trim() || null;
  if (Object.keys(body).length) body.reason = reason;
  return body;
}

/** What saving the draft changes, in words. */
function settingsChanges(s: SettingsView, d: Draft, groupName: (id: string | null) => string): Change[] {
  const out: Change[] = [];
  const body = settingsBody(s, d, '');
  const quoted = (v: string | null | undefined, none: string) => (v ? `“${v}”` : none);
  if ('blockAnswer' in body) out.push({ kind: 'change', text: `blocked names are answered with ${BLOCK_ANSWER_WORDS[d.blockAnswer].label}: ${BLOCK_ANSWER_WORDS[d.blockAnswer].effect} (was ${BLOCK_ANSWER_WORDS[s.blockAnswer].label})` });
  if ('blockIpv4' in body) out.push({ kind: 'change', text: `the block page’s IPv4 address to ${quoted(d.blockIpv4.trim(), 'none')} (was ${quoted(s.blockIpv4, 'none')})` });
  if ('blockIpv6' in body) out.push({ kind: 'change', text: `the block page’s IPv6 address to ${quoted(d.blockIpv6.trim(), 'none')} (was ${quoted(s.blockIpv6, 'none')})` });
  if ('blockedTtl' in body) out.push({ kind: 'change', text: `devices remember a block for ${d.blockedTtl.trim()} seconds (was ${s.blockedTtl})` });
  if ('defaultGroupId' in body) {
    out.push({ kind: 'change', text: `clients on a network with no group get the policy of ${d.defaultGroupId ? groupName(d.defaultGroupId) : 'no group: they are refused'} (was ${s.defaultGroupId ? groupName(s.defaultGroupId) : 'no group'})` });
  }
  const addedBefore = new Set(s.neverBlock.added.map((a) => a.entry));
  const addedAfter = new Set(d.added.map((a) => a.entry.trim()).filter(Boolean));
  for (const entry of addedAfter) if (!addedBefore.has(entry)) out.push({ kind: 'add', text: `${describeDomain(entry)} to the never-block list: no category, deny entry or schedule will block it (illegal content and sanctions still do)` });
  for (const entry of addedBefore) if (!addedAfter.has(entry)) out.push({ kind: 'remove', text: `${describeDomain(entry)} from the never-block list: the categories and deny entries apply to it again` });
  for (const b of s.neverBlock.builtIn) {
    const wasOff = !b.enabled;
    const isOff = d.disabled.has(b.entry);
    if (!wasOff && isOff) out.push({ kind: 'remove', text: `the built-in never-block entry ${describeDomain(b.entry)} (${b.service}): categories and deny entries may block it` });
    if (wasOff && !isOff) out.push({ kind: 'add', text: `the built-in never-block entry ${describeDomain(b.entry)} (${b.service}) back: it is never blocked again` });
  }
  if (d.removeSalt) out.push({ kind: 'remove', text: 'the ChromeOS salt: Chromebooks that send a hashed email are no longer recognised as their user' });
  else if (d.newSalt) out.push({ kind: 'change', text: `the ChromeOS salt (${s.chromeosSaltSet ? 'a new one' : 'set for the first time'}): give Chromebooks the same salt in the Google Admin console` });
  if ('trustedForwarders' in body) {
    const after = lines(d.trustedForwarders);
    for (const f of after) if (!s.trustedForwarders.includes(f)) out.push({ kind: 'add', text: `${f} as a trusted forwarder: the client address it passes on is believed` });
    for (const f of s.trustedForwarders) if (!after.includes(f)) out.push({ kind: 'remove', text: `${f} as a trusted forwarder` });
  }
  if ('conditionalForwarders' in body) {
    const after = (body.conditionalForwarders as { zone: string; servers: string[] }[]) ?? [];
    for (const f of after) {
      const old = s.conditionalForwarders.find((o) => o.zone === f.zone);
      if (!old) out.push({ kind: 'add', text: `names under ${f.zone || '(no zone given)'} are looked up on ${f.servers.join(', ') || '(no server given)'} instead of on the internet` });
      else if (!sameList(old.servers, f.servers)) out.push({ kind: 'change', text: `names under ${f.zone} are looked up on ${f.servers.join(', ')} (were ${old.servers.join(', ')})` });
    }
    for (const o of s.conditionalForwarders) if (!after.some((f) => f.zone === o.zone)) out.push({ kind: 'remove', text: `the forwarding of names under ${o.zone} to ${o.servers.join(', ')}` });
  }
  if ('blockPageNotice' in body) out.push({ kind: 'change', text: `the block page’s monitoring notice to ${quoted(d.blockPageNotice.trim(), 'the built-in wording')}` });
  if ('blockPageContact' in body) out.push({ kind: 'change', text: `who to ask on the block page to ${quoted(d.blockPageContact.trim(), 'nobody named')} (was ${quoted(s.blockPageContact, 'nobody named')})` });
  return out;
}

/** A labelled textarea with its issues beside it (issues on `name.N` count as its own). */
function TextAreaField(props: { label: string; name: string; hint?: ReactNode; value: string; onChange: (v: string) => void; error: unknown; rows?: number; readOnly?: boolean }) {
  const id = `f-${props.name}-${useId()}`;
  const messages = issuesFor(props.error, props.name);
  return (
    <div className={`field${messages.length ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.hint ? (
        <p className="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      <p className="field-error" id={`${id}-error`} aria-live="polite">
        {messages.join(' ')}
      </p>
      <textarea
        id={id}
        name={props.name}
        rows={props.rows ?? 3}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        aria-describedby={`${props.hint ? `${id}-hint ` : ''}${id}-error`}
        aria-invalid={messages.length ? true : undefined}
        spellCheck={false}
      />
    </div>
  );
}

export function FilterSettingsPage({ canWrite }: { canWrite: boolean }) {
  usePageTitle('Filtering: filter settings');
  const settings = useApiGet<{ settings: SettingsView }>('/api/filter/settings');
  const groups = useFilterGroups();
  const [notice, setNotice] = useState('');
  return (
    <>
      <h1 tabIndex={-1}>Filtering</h1>
      <FilterNav />
      <h2 className="page-sub">Filter settings</h2>
      <p>
        Settings for the whole school’s filter: how a blocked name is answered, what the filter must never block, and how it works with your other DNS
        servers. {canWrite ? 'Edit what you need, then review the changes and give a reason; the filter uses them within a few seconds.' : 'You can see the settings but not change them.'}
      </p>
      <Notice>{notice}</Notice>
      <Loading loading={settings.loading && !settings.data} error={settings.error}>
        {() =>
          settings.data ? (
            canWrite ? (
            <SettingsForm
              saved={settings.data.settings}
              groups={groups.items.map((g) => ({ id: g.groupId, name: g.groupName }))}
              groupName={(id) => groups.name(id)}
              onSaved={(text) => {
                setNotice(text);
                settings.reload();
              }}
            />
            ) : (
              <SettingsSummary settings={settings.data.settings} groupName={(id) => groups.name(id)} />
            )
          ) : null
        }
      </Loading>
    </>
  );
}

function SettingsForm(props: { saved: SettingsView; groups: { id: string; name: string }[]; groupName: (id: string | null) => string; onSaved: (notice: string) => void }) {
  const { saved } = props;
  const [draft, setDraftState] = useState<Draft>(() => draftOf(saved));
  const review = useReview();
  const save = useSave();
  const [newEntry, setNewEntry] = useState('');
  useEffect(() => setDraftState(draftOf(saved)), [saved]);
  const set = (patch: Partial<Draft>) => review.edited(setDraftState)({ ...draft, ...patch });
  const setForwarder = (index: number, patch: Partial<Draft['conditionalForwarders'][number]>) => set({ conditionalForwarders: draft.conditionalForwarders.map((f, i) => (i === index ? { ...f, ...patch } : f)) });
  const changes = settingsChanges(saved, draft, props.groupName);

  const submit = (reason: string) =>
    void save.run(async () => {
      await api('PUT', '/api/filter/settings', settingsBody(saved, draft, reason));
      props.onSaved(`Saved the filter settings (${changes.length} ${changes.length === 1 ? 'change' : 'changes'}). The filter uses them within a few seconds.`);
      review.setReviewing(false);
    });

  const services = [...new Set(saved.neverBlock.builtIn.map((b) => b.service))];
  const addedProblems = (i: number) => issuesFor(save.error, `neverBlockAdded.${i}`);

  const fields = (
    <>
      <FormError error={review.reviewing ? null : save.error} fields={[...FIELDS, 'neverBlockNew']} />
      <section aria-labelledby="set-answer">
        <h3 id="set-answer">How a blocked name is answered</h3>
        <p className="hint">
          When a device asks for a blocked site, the filter answers with an address of its choosing. Pointing blocked sites at the block page lets people see why
          and ask for an unblock; the other two answers only make the site fail.
        </p>
        <SelectField
          label="Answer for blocked names"
          name="blockAnswer"
          hint={`With this answer ${BLOCK_ANSWER_WORDS[draft.blockAnswer].effect}.`}
          value={draft.blockAnswer}
          onChange={(e) => set({ blockAnswer: e.target.value as BlockAnswer })}
          error={save.error}
        >
          {(Object.keys(BLOCK_ANSWER_WORDS) as BlockAnswer[]).map((k) => (
            <option key={k} value={k}>
              {BLOCK_ANSWER_WORDS[k].label}
            </option>
          ))}
        </SelectField>
        <div className="filters">
          <TextField label="Block page IPv4 address" name="blockIpv4" hint="This server’s address on the school network, for example 10.0.0.10." value={draft.blockIpv4} onChange={(e) => set({ blockIpv4: e.target.value })} error={save.error} spellCheck={false} />
          <TextField label="Block page IPv6 address" name="blockIpv6" hint="Leave empty if the school network has no IPv6." value={draft.blockIpv6} onChange={(e) => set({ blockIpv6: e.target.value })} error={save.error} spellCheck={false} />
          <TextField
            label="Seconds a device remembers a block"
            name="blockedTtl"
            type="number"
            min={0}
            max={10}
            hint="0 to 10. Short, so an unblock or an exemption works at once."
            value={draft.blockedTtl}
            onChange={(e) => set({ blockedTtl: e.target.value })}
            error={save.error}
          />
        </div>
      </section>

      <section aria-labelledby="set-default">
        <h3 id="set-default">Clients on a network with no group</h3>
        <p className="hint">
          A device on one of the school’s networks whose network names no group (on the Networks page) gets this group’s policy. With none, such devices are
          refused.
        </p>
        <SelectField label="Group for those clients" name="defaultGroupId" value={draft.defaultGroupId} onChange={(e) => set({ defaultGroupId: e.target.value })} error={save.error}>
          <option value="">No group: refuse them</option>
          {props.groups.map((g) => (
            <option key={g.id} value={g.id}>
              {g.name}
            </option>
          ))}
        </SelectField>
      </section>

      <section aria-labelledby="set-never">
        <h3 id="set-never">Never block</h3>
        <p className="hint">
          Sites that no category, deny entry or schedule may block, because the school depends on them: signing in to Microsoft 365 and Google, updates, and
          the checks devices make to see whether they are online. Only illegal content and sanctions are stronger. Each entry covers every name under it unless
          it starts with =.
        </p>
        <h4>The school’s own entries</h4>
        {draft.added.length ? (
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Site</th>
                <th scope="col">Why</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {draft.added.map((a, i) => (
                <tr key={`${a.entry}:${i}`} className={addedProblems(i).length ? 'field-invalid' : undefined}>
                  <th scope="row">
                    <code>{a.entry}</code>
                    {addedProblems(i).length ? <p className="field-error">{addedProblems(i).join(' ')}</p> : null}
                  </th>
                  <td>{a.reason ?? 'new: the reason you give for this change'}</td>
                  <td className="actions">
                      <button type="button" className="danger-outline small" aria-label={`Remove ${a.entry} from the never-block list`} onClick={() => set({ added: draft.added.filter((_, j) => j !== i) })}>
                        Remove
                      </button>
                    </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p>None yet.</p>
        )}
        <div className="filters">
            <TextField label="Site to never block" name="neverBlockNew" hint="For example vle.school.example, or =www.example.com for that name only." value={newEntry} onChange={(e) => setNewEntry(e.target.value)} error={save.error} spellCheck={false} autoCapitalize="none" />
            <button
              type="button"
              className="secondary small"
              disabled={!newEntry.trim() || draft.added.some((a) => a.entry === newEntry.trim().toLowerCase())}
              onClick={() => {
                set({ added: [...draft.added, { entry: newEntry.trim().toLowerCase(), reason: null }] });
                setNewEntry('');
                save.setError(null);
              }}
            >
              Add to the list
            </button>
          </div>
        <h4>Built in</h4>
        <p className="hint">
          {saved.neverBlock.builtIn.filter((b) => b.enabled).length} of {saved.neverBlock.builtIn.length} built-in entries are on. Switch one off only when the
          school wants it blockable (for example Google sign-in on a network that must not use Google).
        </p>
        {services.map((service) => {
          const entries = saved.neverBlock.builtIn.filter((b) => b.service === service);
          const off = entries.filter((b) => draft.disabled.has(b.entry)).length;
          return (
            <details key={service} open={off > 0 || undefined}>
              <summary>
                {service} ({entries.length - off} of {entries.length} on)
              </summary>
              {entries.map((b) => (
                <CheckboxField
                  key={b.entry}
                  name={`never-${b.entry}`}
                  label={
                    <>
                      Never block <code>{b.entry}</code>
                      {draft.disabled.get(b.entry) ? <span className="hint"> (switched off: {draft.disabled.get(b.entry)})</span> : null}
                    </>
                  }
                  checked={!draft.disabled.has(b.entry)}
                  onChange={(e) => {
                    const next = new Map(draft.disabled);
                    if (e.target.checked) next.delete(b.entry);
                    else next.set(b.entry, saved.neverBlock.builtIn.find((x) => x.entry === b.entry)?.disabledReason ?? null);
                    set({ disabled: next });
                  }}
                />
              ))}
            </details>
          );
        })}
      </section>

      <section aria-labelledby="set-chromeos">
        <h3 id="set-chromeos">ChromeOS salt</h3>
        <p className="hint">
          Chromebooks can send the filter a hash of the signed-in user’s email (set <code>DnsOverHttpsTemplatesWithIdentifiers</code> in the Google Admin
          console), so a pupil is filtered as themselves at home too. The hash uses a salt: enter the same 8 to 32 characters here and in the Admin console.
          The salt is not shown again once saved.
        </p>
        <p>{saved.chromeosSaltSet ? 'A salt is set.' : 'No salt is set.'}</p>
        <TextField label={saved.chromeosSaltSet ? 'New salt (leave empty to keep the one set)' : 'Salt'} name="chromeosSalt" value={draft.newSalt} onChange={(e) => set({ newSalt: e.target.value, removeSalt: false })} error={save.error} autoComplete="off" spellCheck={false} maxLength={32} />
        {saved.chromeosSaltSet ? <CheckboxField name="removeSalt" label="Remove the salt" checked={draft.removeSalt} onChange={(e) => set({ removeSalt: e.target.checked, newSalt: '' })} /> : null}
      </section>

      <section aria-labelledby="set-forwarders">
        <h3 id="set-forwarders">Other DNS servers</h3>
        <TextAreaField
          label="Trusted forwarders"
          name="trustedForwarders"
          hint="If another DNS server (a firewall or a Windows DNS server) passes the school’s queries on to this filter, list its address or range here, one per line, for example 10.0.0.2/32. The filter then believes the device address it passes on (EDNS client subnet) and filters each device by its own network."
          value={draft.trustedForwarders}
          onChange={(v) => set({ trustedForwarders: v })}
          error={save.error}
        />
        <h4>Conditional forwarders</h4>
        <p className="hint">
          Names under a zone you list are looked up on your own DNS servers instead of on the internet: the school’s Active Directory domain (for example
          school.local) or its reverse zone (10.in-addr.arpa), served by the domain controllers.
        </p>
        {draft.conditionalForwarders.map((f, i) => (
          <fieldset key={i}>
            <legend>Forwarder {i + 1}</legend>
            <div className="filters">
              <TextField label="Zone" name={`conditionalForwarders.${i}.zone`} value={f.zone} onChange={(e) => setForwarder(i, { zone: e.target.value })} error={save.error} spellCheck={false} />
              <TextField
                label="Servers"
                name={`conditionalForwarders.${i}.servers`}
                hint="Addresses, separated by commas; a port after a colon if not 53."
                value={f.servers}
                onChange={(e) => setForwarder(i, { servers: e.target.value })}
                error={save.error}
                spellCheck={false}
              />
              <button type="button" className="danger-outline small" aria-label={`Remove forwarder ${i + 1}`} onClick={() => set({ conditionalForwarders: draft.conditionalForwarders.filter((_, j) => j !== i) })}>
                Remove
              </button>
            </div>
          </fieldset>
        ))}
        {draft.conditionalForwarders.length ? null : <p>None.</p>}
        <p>
          <button type="button" className="secondary small" onClick={() => set({ conditionalForwarders: [...draft.conditionalForwarders, { zone: '', servers: '' }] })}>
            Add a conditional forwarder
          </button>
        </p>
      </section>

      <section aria-labelledby="set-page">
        <h3 id="set-page">The block page</h3>
        <TextField
          label="Who to ask about a block"
          name="blockPageContact"
          hint="Shown on the block page, for example “Ask Mr Patel in IT (room 14) or email ict@school.example”."
          value={draft.blockPageContact}
          onChange={(e) => set({ blockPageContact: e.target.value })}
          error={save.error}
          maxLength={300}
        />
        <TextAreaField
          label="Monitoring notice"
          name="blockPageNotice"
          hint="Tells people their use of the internet is filtered and monitored. Leave empty for the built-in wording."
          value={draft.blockPageNotice}
          onChange={(v) => set({ blockPageNotice: v })}
          error={save.error}
        />
      </section>
      {saved.updatedAt ? (
        <p className="hint">
          Last changed {formatDateTime(saved.updatedAt)} by {saved.updatedBy}.
        </p>
      ) : null}
    </>
  );

  return (
    <ReviewFirstForm
      review={review}
      save={save}
      reviewLabel={`Review changes${changes.length ? ` (${changes.length})` : ''}`}
      canReview={changes.length > 0 || Boolean(newEntry.trim())}
      check={() => {
        // A site typed but not added would silently be left out of the change.
        if (!newEntry.trim()) return true;
        save.setError(new ApiError(400, 'invalid', 'A site to never block is typed but not added.', [{ where: 'neverBlockNew', message: `press “Add to the list” to add ${newEntry.trim()}, or clear the box` }]));
        return false;
      }}
      onCancel={changes.length ? () => {
        setDraftState(draftOf(saved));
        save.setError(null);
      } : undefined}
      cancelLabel="Discard changes"
      changes={changes}
      fields={FIELDS}
      onSave={submit}
    >
      {fields}
    </ReviewFirstForm>
  );
}

/** The settings for those who may only read them: values in words, no controls. */
function SettingsSummary({ settings: s, groupName }: { settings: SettingsView; groupName: (id: string | null) => string }) {
  const off = s.neverBlock.builtIn.filter((b) => !b.enabled);
  return (
    <>
      <dl className="details">
        <dt>Answer for blocked names</dt>
        <dd>
          {BLOCK_ANSWER_WORDS[s.blockAnswer].label}: {BLOCK_ANSWER_WORDS[s.blockAnswer].effect}
        </dd>
        <dt>Block page addresses</dt>
        <dd>{[s.blockIpv4, s.blockIpv6].filter(Boolean).join(', ') || 'none'}</dd>
        <dt>Seconds a device remembers a block</dt>
        <dd>{s.blockedTtl}</dd>
        <dt>Clients on a network with no group</dt>
        <dd>{s.defaultGroupId ? `get the policy of ${groupName(s.defaultGroupId)}` : 'are refused'}</dd>
        <dt>ChromeOS salt</dt>
        <dd>{s.chromeosSaltSet ? 'set' : 'not set'}</dd>
        <dt>Trusted forwarders</dt>
        <dd>{s.trustedForwarders.join(', ') || 'none'}</dd>
        <dt>Conditional forwarders</dt>
        <dd>{s.conditionalForwarders.map((f) => `${f.zone} → ${f.servers.join(', ')}`).join('; ') || 'none'}</dd>
        <dt>Who to ask about a block</dt>
        <dd>{s.blockPageContact ?? 'nobody named'}</dd>
        <dt>Monitoring notice</dt>
        <dd>{s.blockPageNotice ?? 'the built-in wording'}</dd>
      </dl>
      <h3>Never block</h3>
      <p>Sites that no category, deny entry or schedule may block (only illegal content and sanctions are stronger).</p>
      <table className="data-table">
        <caption>The school’s own entries</caption>
        <thead>
          <tr>
            <th scope="col">Site</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {s.neverBlock.added.length ? (
            s.neverBlock.added.map((a) => (
              <tr key={a.entry}>
                <th scope="row">
                  <code>{a.entry}</code>
                </th>
                <td>{a.reason}</td>
              </tr>
            ))
          ) : (
            <tr>
              <td colSpan={2}>None.</td>
            </tr>
          )}
        </tbody>
      </table>
      <p>
        {s.neverBlock.builtIn.length - off.length} of {s.neverBlock.builtIn.length} built-in entries are on
        {off.length ? `; switched off: ${off.map((b) => `${b.entry} (${b.disabledReason ?? 'no reason given'})`).join(', ')}` : ''}.
      </p>
      {s.updatedAt ? (
        <p className="hint">
          Last changed {formatDateTime(s.updatedAt)} by {s.updatedBy}.
        </p>
      ) : null}
    </>
  );
}
