/**
 * The school's own known-good sites: the sites its teachers rely on, which
 * the over-blocking report checks against every group's policy (beside the
 * allow lists of the list sources). Adding and removing say why and are
 * audited in the same transaction; a pasted list is taken whole or not at
 * all, with every bad line named by its number.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Actor, AuditLog } from '../audit/audit.service.ts';
import { normalizeName } from '../filter/list-formats.ts';
import { reasonField } from '../policy/policy.schema.ts';
import { conflict, type Issue, invalid, notFound } from '../shared/errors.ts';
import { optionalText, parseOrThrow } from '../shared/schema.ts';
import type { Store } from '../store/store.ts';
import * as store from './lists.known-good.store.ts';
import type { KnownGoodSitesTable } from './lists.tables.ts';

/** Most lines a pasted list may have. */
export const MAX_PASTED_LINES = 5000;

/** A known-good site as the API shows it. */
export interface KnownGoodSiteView {
  id: string;
  domain: string;
  note: string | null;
  createdBy: string;
  createdAt: string;
}

/** Body of adding one site. */
export const knownGoodInputSchema = z.object({
  domain: z.string().max(2000),
  note: optionalText(300),
  reason: reasonField,
});

/** Body of adding a pasted list (one site a line, or CSV with the site first and an optional note). */
export const knownGoodPasteSchema = z.object({
  text: z.string().max(1_000_000),
  reason: reasonField,
});

/** The school's known-good sites. */
export interface KnownGoodSites {
  list(schoolId: string): Promise<KnownGoodSiteView[]>;
  /** Adds one site; a site already on the list is a conflict. */
  add(actor: Actor, schoolId: string, input: { domain: string; note?: string | null; reason: string }): Promise<KnownGoodSiteView>;
  /** Adds every site of a pasted list, or none when a line is not a site (each named by its line number); sites already listed are skipped. */
  addPasted(actor: Actor, schoolId: string, input: { text: string; reason: string }): Promise<{ added: KnownGoodSiteView[]; alreadyListed: string[] }>;
  remove(actor: Actor, schoolId: string, id: string, reason: string): Promise<void>;
}

/**
 * A site name as a teacher may give it (`www.bbc.co.uk`, `https://www.bbc.co.uk/bitesize`,
 * `BBC.co.uk/bitesize`) in catalog form, or why it is not one.
 */
export function siteName(raw: string): { ok: true; name: string } | { ok: false; reason: string } {
  let text = raw.trim();
  if (text === '') return { ok: false, reason: 'is required: give the site’s name, such as www.bbc.co.uk' };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      text = new URL(text).hostname;
    } catch {
      return { ok: false, reason: 'is not a web address or a site name' };
    }
  } else {
    text = text.replace(/[/?#].*$/, ''); // a path after the name: the filter works on whole sites
  }
  const checked = normalizeName(text.replace(/^\[|\]$/g, ''));
  if (!checked.ok) return { ok: false, reason: checked.reason };
  if (checked.ip) return { ok: false, reason: 'is an IP address: give the site’s name (the filter decides by name)' };
  return { ok: true, name: checked.name };
}

/** One cell of a CSV line, without surrounding quotes. */
const unquote = (cell: string) => cell.trim().replace(/^"(.*)"$/, '$1').replace(/""/g, '"').trim();

/**
 * The sites of a pasted list: one a line, or CSV (`site,note`; tab and ';'
 * separate too). Blank lines, `#` comments and a header line (`domain`,
 * `site`, `url`, `name`) are skipped. Bad lines are returned by number.
 */
export function parsePastedSites(text: string): { sites: { domain: string; note: string | null; line: number }[]; issues: Issue[] } {
  const lines = text.split(/\r?\n/);
  const sites: { domain: string; note: string | null; line: number }[] = [];
  const issues: Issue[] = [];
  const seen = new Set<string>();
  lines.forEach((raw, index) => {
    const line = index + 1;
    const content = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (content.trim() === '' || content.trim().startsWith('#')) return;
    const [first, ...rest] = content.split(/[,;\t]/);
    const cell = unquote(first);
    if (index === 0 && /^(domain|site|url|name|website|web address)s?$/i.test(cell)) return;
    const checked = siteName(cell);
    if (!checked.ok) {
      issues.push({ where: `line ${line}`, message: `"${cell.slice(0, 80)}" ${checked.reason}` });
      return;
    }
    if (seen.has(checked.name)) return;
    seen.add(checked.name);
    const note = unquote(rest.join(',')).slice(0, 300);
    sites.push({ domain: checked.name, note: note === '' ? null : note, line });
  });
  return { sites, issues };
}

const present = (row: KnownGoodSitesTable): KnownGoodSiteView => ({ id: row.id, domain: row.domain, note: row.note, createdBy: row.created_by, createdAt: row.created_at });

/** Builds the known-good sites service. */
export function createKnownGoodSites(deps: { store: Store; audit: AuditLog }): KnownGoodSites {
  const { audit } = deps;
  const db = deps.store.db;
  const rowOf = (actor: Actor, schoolId: string, domain: string, note: string | null, at: string): KnownGoodSitesTable => ({
    id: randomUUID(), school_id: schoolId, domain, note, created_by_account_id: actor.id, created_by: actor.label, created_at: at,
  });

  return {
    async list(schoolId) {
      return (await store.sitesOf(db, schoolId)).map(present);
    },

    async add(actor, schoolId, input) {
      const data = parseOrThrow(knownGoodInputSchema, input, 'site');
      const checked = siteName(data.domain);
      if (!checked.ok) throw invalid(`"${data.domain.trim().slice(0, 80)}" is not a site name: ${checked.reason}`, [{ where: 'domain', message: checked.reason }]);
      return audit.transaction(async (trx) => {
        const [clash] = await store.sitesByDomain(trx, schoolId, [checked.name]);
        if (clash) throw conflict(`${checked.name} is already on the school’s known-good sites (added by ${clash.created_by})`);
        const row = rowOf(actor, schoolId, checked.name, data.note ?? null, new Date().toISOString());
        await store.insertSites(trx, [row]);
        await audit.append(trx, actor, {
          schoolId, action: 'lists.known_good.create', targetType: 'known_good_site', targetId: row.id,
          details: { domain: row.domain, note: row.note, reason: data.reason },
        });
        return present(row);
      });
    },

    async addPasted(actor, schoolId, input) {
      const data = parseOrThrow(knownGoodPasteSchema, input, 'list of sites');
      const lineCount = data.text.split(/\r?\n/).length;
      if (lineCount > MAX_PASTED_LINES) throw invalid(`The list has ${lineCount} lines; paste at most ${MAX_PASTED_LINES} at a time`, [{ where: 'text', message: `at most ${MAX_PASTED_LINES} lines` }]);
      const { sites, issues } = parsePastedSites(data.text);
      if (issues.length) throw invalid(`${issues.length} line(s) are not site names, so nothing was added: correct or remove them and paste again`, issues);
      if (sites.length === 0) throw invalid('The list has no site names', [{ where: 'text', message: 'no site names: one a line, such as www.bbc.co.uk' }]);
      return audit.transaction(async (trx) => {
        const listed = new Set((await store.sitesByDomain(trx, schoolId, sites.map((s) => s.domain))).map((r) => r.domain));
        const now = new Date().toISOString();
        const rows = sites.filter((s) => !listed.has(s.domain)).map((s) => rowOf(actor, schoolId, s.domain, s.note, now));
        await store.insertSites(trx, rows);
        if (rows.length) {
          await audit.append(trx, actor, {
            schoolId, action: 'lists.known_good.import', targetType: 'known_good_site',
            details: { added: rows.length, domains: rows.map((r) => r.domain), alreadyListed: listed.size, reason: data.reason },
          });
        }
        return { added: rows.map(present), alreadyListed: [...listed].sort() };
      });
    },

    async remove(actor, schoolId, id, reason) {
      const data = parseOrThrow(z.object({ reason: reasonField }), { reason }, 'removal');
      await audit.transaction(async (trx) => {
        const row = await store.siteById(trx, schoolId, id);
        if (!row) throw notFound('Known-good site');
        await store.deleteSite(trx, schoolId, id);
        await audit.append(trx, actor, {
          schoolId, action: 'lists.known_good.delete', targetType: 'known_good_site', targetId: id,
          details: { domain: row.domain, note: row.note, reason: data.reason, addedBy: row.created_by },
        });
      });
    },
  };
}
