/**
 * Which lists an install uses: the school's switches on the built-in lists,
 * and its own lists (a URL Schoolgate downloads, or a file uploaded here).
 *
 * Both are install-wide, like the catalog they compile into, and every change
 * is audited with its reason in the same transaction. An own list is checked
 * as a downloaded one is: an upload with no usable line (or an HTML page) is
 * refused, naming the lines that were wrong, and the lines it cannot use are
 * shown to the person who uploaded it. A removed list keeps its row (what was
 * used, and when) but leaves the catalog at the next refresh.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { Actor, AuditLog } from '../audit/audit.service.ts';
import type { Store } from '../store/store.ts';
import { type CategoryKey, isCategoryKey } from '../filter/categories.ts';
import { isListFormat, type ListFormat } from '../filter/list-formats.ts';
import { conflict, type Issue, invalid, notFound } from '../shared/errors.ts';
import type { OwnListsTable } from './lists.choices.tables.ts';
import { BUILT_IN_LISTS, type BuiltInList, enabledLists } from './lists.sources.ts';
import { type Candidate, checkListText, type ListCheck, type ListState, type SyncList } from './lists.sync.ts';

/** A check that found a usable list. */
type UsableCheck = Extract<ListCheck, { ok: true }>;

/** The largest own list that can be uploaded (uncompressed text). */
export const MAX_UPLOAD_BYTES = 32 << 20;

/** One of the school's own lists, as the app shows it (never with its content). */
export interface OwnList {
  id: string;
  name: string;
  use: 'block' | 'allow';
  category: CategoryKey | null;
  format: ListFormat;
  url: string | null;
  /** The upload's size and when it was uploaded (null for a URL list). */
  bytes: number | null;
  uploadedAt: string | null;
  note: string;
  enabled: boolean;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
}

/** An own list as the sync sees it. */
export interface OwnSyncList extends SyncList {
  own: true;
  name: string;
  url: string | null;
  sha256: string | null;
}

/** A school's switch on a built-in list. */
export interface ListSwitch {
  listId: string;
  enabled: boolean;
  reason: string;
  changedAt: string;
  changedBy: string;
}

/** What a sync brings in, by the school's choices. */
export interface ListSelection {
  builtIn: BuiltInList[];
  own: OwnSyncList[];
  /** An uploaded list's text. */
  upload(id: string): Promise<string | null>;
}

export interface OwnListInput {
  name: string;
  use: 'block' | 'allow';
  category?: string | null;
  format: string;
  url?: string | null;
  content?: string | null;
  note?: string;
}

export interface OwnListPatch {
  enabled?: boolean;
  url?: string | null;
  content?: string | null;
  category?: string | null;
  format?: string;
  note?: string;
}

export interface ListChoices {
  switches(): Promise<ListSwitch[]>;
  /** Switches a built-in list on or off (its default when the switch matches it is still recorded). */
  setEnabled(actor: Actor, schoolId: string | null, listId: string, enabled: boolean, reason: string): Promise<ListSwitch>;
  listOwn(): Promise<OwnList[]>;
  addOwn(actor: Actor, schoolId: string | null, input: OwnListInput, reason: string): Promise<{ list: OwnList; check: UsableCheck | null }>;
  updateOwn(actor: Actor, schoolId: string | null, id: string, patch: OwnListPatch, reason: string): Promise<{ list: OwnList; check: UsableCheck | null }>;
  removeOwn(actor: Actor, schoolId: string | null, id: string, reason: string): Promise<void>;
  /** The lists a sync should bring in now. */
  selection(): Promise<ListSelection>;
}

const toOwn = (row: Omit<OwnListsTable, 'content'>): OwnList => ({
  id: row.id,
  name: row.name,
  use: row.use,
  category: row.category as CategoryKey | null,
  format: row.format as ListFormat,
  url: row.url,
  bytes: row.content_bytes === null ? null : Number(row.content_bytes),
  uploadedAt: row.uploaded_at,
  note: row.note,
  enabled: Number(row.enabled) === 1,
  createdAt: row.created_at,
  createdBy: row.created_by,
  updatedAt: row.updated_at,
});

const OWN_COLUMNS = ['id', 'name', 'use', 'category', 'format', 'url', 'content_bytes', 'content_sha256', 'uploaded_at', 'note', 'enabled', 'created_at', 'created_by', 'updated_at', 'removed_at'] as const;

function needReason(reason: string) {
  if (!reason.trim()) throw invalid('Say why (the reason goes in the audit log)', [{ where: 'reason', message: 'required' }]);
}

/** Refuses what a list's category, format and URL cannot be; returns them checked. */
function checkShape(input: { use: 'block' | 'allow'; category: string | null; format: string; url: string | null }): { category: CategoryKey | null; format: ListFormat } {
  const issues: Issue[] = [];
  if (input.use === 'block' && !input.category) issues.push({ where: 'category', message: 'a block list needs the category its names are in' });
  if (input.use === 'block' && input.category && !isCategoryKey(input.category)) issues.push({ where: 'category', message: `no category "${input.category}"` });
  if (input.use === 'allow' && input.category) issues.push({ where: 'category', message: 'an allow list (known-good names) has no category' });
  if (!isListFormat(input.format)) issues.push({ where: 'format', message: `no list format "${input.format}"` });
  if (input.url !== null) {
    let url: URL | null = null;
    try {
      url = new URL(input.url);
    } catch {
      issues.push({ where: 'url', message: 'not a URL' });
    }
    if (url && url.protocol !== 'https:' && url.protocol !== 'http:') issues.push({ where: 'url', message: 'only http and https URLs can be downloaded' });
  }
  if (issues.length) throw invalid(issues.map((i) => `${i.where}: ${i.message}`).join('; '), issues);
  return { category: (input.category as CategoryKey | null) ?? null, format: input.format as ListFormat };
}

/** Checks uploaded text; refuses it (naming the lines) when it is not a usable list. */
function checkUpload(content: string, format: ListFormat): UsableCheck {
  const bytes = Buffer.byteLength(content);
  if (bytes > MAX_UPLOAD_BYTES) throw invalid(`The file is ${(bytes / 1048576).toFixed(1)} MiB; an uploaded list may be at most ${MAX_UPLOAD_BYTES >> 20} MiB (larger lists: serve them over HTTP and give the URL)`, [{ where: 'content', message: 'too large' }]);
  if (content.includes('\u0000')) throw invalid('The file is not text (it holds NUL bytes): upload a plain or gzip list', [{ where: 'content', message: 'not text' }]);
  const check = checkListText(content, format);
  if (!check.ok) {
    const lines = check.samples.map((s): Issue => ({ where: `content:line ${s.line}`, message: `${s.reason}: ${s.text}` }));
    throw invalid(`The file is not a usable ${format} list: ${check.reason}`, [{ where: 'content', message: check.reason }, ...lines]);
  }
  return check;
}

const slug = (name: string) =>
  name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'list';

/** The choices service over the store. */
export function createListChoices(deps: { store: Store; audit: AuditLog; clock?: () => Date }): ListChoices {
  const { store, audit } = deps;
  const db = store.db;
  const now = () => (deps.clock ?? (() => new Date()))().toISOString();
  const ownRow = (id: string) => db.selectFrom('own_lists').select(OWN_COLUMNS).where('id', '=', id).where('removed_at', 'is', null).executeTakeFirst();

  const switches = async (): Promise<ListSwitch[]> => {
    const rows = await db.selectFrom('list_choices').selectAll().orderBy('list_id').execute();
    return rows.map((r) => ({ listId: r.list_id, enabled: Number(r.enabled) === 1, reason: r.reason, changedAt: r.changed_at, changedBy: r.changed_by }));
  };

  return {
    switches,

    async setEnabled(actor, schoolId, listId, enabled, reason) {
      needReason(reason);
      const list = BUILT_IN_LISTS.get(listId);
      if (!list) throw notFound(`Built-in list ${listId}`);
      if (list.use === 'ignore') throw invalid(`${listId} is never used (${list.note ?? 'not a list schools filter with'})`, [{ where: 'listId', message: 'this list cannot be switched on' }]);
      const at = now();
      const row = { list_id: listId, enabled: enabled ? 1 : 0, reason, changed_at: at, changed_by: actor.label };
      await audit.transaction(async (trx) => {
        const before = await trx.selectFrom('list_choices').select('enabled').where('list_id', '=', listId).executeTakeFirst();
        const was = before ? Number(before.enabled) === 1 : list.enabledByDefault;
        await trx.deleteFrom('list_choices').where('list_id', '=', listId).execute();
        await trx.insertInto('list_choices').values(row).execute();
        await audit.append(trx, actor, { schoolId, action: enabled ? 'lists.enable' : 'lists.disable', targetType: 'list', targetId: listId, details: { was: was ? 'on' : 'off', use: list.use, category: list.category, reason } });
      });
      return { listId, enabled, reason, changedAt: at, changedBy: actor.label };
    },

    async listOwn() {
      const rows = await db.selectFrom('own_lists').select(OWN_COLUMNS).where('removed_at', 'is', null).orderBy('name').execute();
      return rows.map(toOwn);
    },

    async addOwn(actor, schoolId, input, reason) {
      needReason(reason);
      const name = input.name.trim();
      if (!name || name.length > 80) throw invalid('A list needs a name (at most 80 characters)', [{ where: 'name', message: 'required, at most 80 characters' }]);
      const url = input.url?.trim() || null;
      const content = input.content ?? null;
      if ((url === null) === (content === null)) throw invalid('Give either a URL to download the list from or a file to upload, not both', [{ where: url ? 'content' : 'url', message: 'one of url or content' }]);
      const shape = checkShape({ use: input.use, category: input.category ?? null, format: input.format, url });
      const check = content === null ? null : checkUpload(content, shape.format);
      const at = now();
      return audit.transaction(async (trx) => {
        const taken = await trx.selectFrom('own_lists').select(['id', 'name', 'removed_at']).execute();
        if (taken.some((r) => r.removed_at === null && r.name.toLowerCase() === name.toLowerCase())) throw conflict(`There is already a list called ${name}`);
        const ids = new Set(taken.map((r) => r.id));
        let id = `own:${slug(name)}`;
        for (let n = 2; ids.has(id); n++) id = `own:${slug(name)}-${n}`;
        const row: OwnListsTable = {
          id,
          name,
          use: input.use,
          category: shape.category,
          format: shape.format,
          url,
          content,
          content_bytes: content === null ? null : Buffer.byteLength(content),
          content_sha256: content === null ? null : createHash('sha256').update(content).digest('hex'),
          uploaded_at: content === null ? null : at,
          note: input.note?.trim() ?? '',
          enabled: 1,
          created_at: at,
          created_by: actor.label,
          updated_at: at,
          removed_at: null,
        };
        await trx.insertInto('own_lists').values(row).execute();
        await audit.append(trx, actor, { schoolId, action: 'lists.own.add', targetType: 'list', targetId: id, details: { name, use: row.use, category: row.category, format: row.format, url: row.url, bytes: row.content_bytes, names: check?.names ?? null, reason } });
        return { list: toOwn(row), check };
      });
    },

    async updateOwn(actor, schoolId, id, patch, reason) {
      needReason(reason);
      const row = await ownRow(id);
      if (!row) throw notFound('List');
      const next = {
        use: row.use,
        category: patch.category !== undefined ? patch.category : row.category,
        format: patch.format ?? row.format,
        url: patch.url !== undefined ? patch.url?.trim() || null : patch.content != null ? null : row.url,
      };
      if (patch.url && patch.content != null) throw invalid('Give either a URL or a file, not both', [{ where: 'content', message: 'one of url or content' }]);
      const shape = checkShape(next);
      const content = patch.content ?? null;
      if (next.url === null && content === null && row.content_sha256 === null) throw invalid('A list without a URL needs a file', [{ where: 'content', message: 'required without a URL' }]);
      const check = content === null ? null : checkUpload(content, shape.format);
      const at = now();
      const changes: Partial<OwnListsTable> = { category: shape.category, format: shape.format, url: next.url, updated_at: at };
      if (patch.enabled !== undefined) changes.enabled = patch.enabled ? 1 : 0;
      if (patch.note !== undefined) changes.note = patch.note.trim();
      if (content !== null) Object.assign(changes, { content, content_bytes: Buffer.byteLength(content), content_sha256: createHash('sha256').update(content).digest('hex'), uploaded_at: at });
      if (next.url !== null) Object.assign(changes, { content: null, content_bytes: null, content_sha256: null, uploaded_at: null });
      return audit.transaction(async (trx) => {
        await trx.updateTable('own_lists').set(changes).where('id', '=', id).execute();
        const { content: _content, ...logged } = changes;
        await audit.append(trx, actor, { schoolId, action: 'lists.own.update', targetType: 'list', targetId: id, details: { ...logged, names: check?.names ?? null, reason } });
        const updated = await trx.selectFrom('own_lists').select(OWN_COLUMNS).where('id', '=', id).executeTakeFirstOrThrow();
        return { list: toOwn(updated), check };
      });
    },

    async removeOwn(actor, schoolId, id, reason) {
      needReason(reason);
      const row = await ownRow(id);
      if (!row) throw notFound('List');
      await audit.transaction(async (trx) => {
        // The text goes (it may be large and is no longer used); the row stays as the record.
        await trx.updateTable('own_lists').set({ removed_at: now(), enabled: 0, content: null }).where('id', '=', id).execute();
        await audit.append(trx, actor, { schoolId, action: 'lists.own.remove', targetType: 'list', targetId: id, details: { name: row.name, use: row.use, category: row.category, reason } });
      });
    },

    async selection() {
      const chosen = new Map((await switches()).map((s) => [s.listId, s.enabled]));
      const own = await db.selectFrom('own_lists').select(OWN_COLUMNS).where('removed_at', 'is', null).where('enabled', '=', 1).orderBy('name').execute();
      return {
        builtIn: enabledLists(chosen),
        own: own.map((r) => ({ id: r.id, own: true as const, name: r.name, category: r.category as CategoryKey | null, format: r.format as ListFormat, url: r.url, sha256: r.content_sha256 })),
        async upload(id) {
          const row = await db.selectFrom('own_lists').select('content').where('id', '=', id).executeTakeFirst();
          return row?.content ?? null;
        },
      };
    },
  };
}

/** The known-good lists the over-blocking report reads: enabled built-in allow lists, then the school's own allow lists. */
export async function knownGoodLists(choices: ListChoices): Promise<{ id: string; label: string; format: ListFormat }[]> {
  const selection = await choices.selection();
  return [
    ...selection.builtIn.filter((l) => l.use === 'allow').map((l) => ({ id: l.id, label: `${BUILT_IN_LISTS.get(l.id)?.source ?? ''} ${l.name}`.trim(), format: l.format })),
    ...selection.own.filter((l) => l.category === null).map((l) => ({ id: l.id, label: `own list ${l.name}`, format: l.format })),
  ];
}

/** The new version of an uploaded list: its text from the store (unchanged when the copy in service has its hash). */
export function uploadCandidate(selection: ListSelection) {
  return async (list: OwnSyncList, last: ListState | undefined, scratch: string): Promise<Candidate> => {
    const from = `uploaded file (${list.name})`;
    if (list.sha256 && last?.copy?.sha256 === list.sha256) return { kind: 'not-modified', from };
    const content = await selection.upload(list.id);
    if (content === null) return { kind: 'unavailable', from, reason: 'the uploaded file is not in the store', missing: true };
    await writeFile(scratch, content);
    return { kind: 'file', file: scratch, from };
  };
}
