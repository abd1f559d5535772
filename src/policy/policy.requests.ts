/**
 * Unblock requests, from asking to outcome. A pupil or teacher asks from the
 * block page (no sign-in: who asked is what the filter saw, network, device,
 * person, group; a name typed there is kept as typed and never trusted) or
 * from the app (signed in: the account is recorded). Each request gets an
 * unguessable status token: the block page links to `/blocked/status/TOKEN`,
 * where the requester sees the outcome without signing in.
 *
 * Who decides:
 * - a site: the network manager (`filter.policy.write`) approves, naming the
 *   site, the groups or the requester only, and until when, or refuses; both
 *   with a reason. When the site is in a safeguarding category
 *   (`categoryInfo(key).safeguarding`) an approval waits in `awaiting_dsl`
 *   until an account with the DSL role agrees (or declines, with a reason);
 *   only then are the exemptions made.
 * - filter-off for a person or group: the head (role `head`) approves or
 *   refuses. The engine's own filter-off is a group setting without an end,
 *   so an approved filter-off is made of category exemptions, one per
 *   category except `illegal`, that end by themselves: everything the lists
 *   categorise is allowed, `illegal` stays blocked (the engine's first rule),
 *   and the school's deny entries and safe search still apply.
 *
 * An approval creates one exemption per target (the policy's exemptions name
 * one group, person or device) and links them (`exemption_id`, the first;
 * `exemption_ids`, all). Every decision and every exemption it makes is in
 * the audit log, written in the same transaction; requests made in the app
 * are audited too (filter-off is always logged). Requests are kept with their
 * outcome and never deleted.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import type { Actor, AuditLog } from '../audit/audit.service.ts';
import { type AuthContext, actorOf } from '../auth/auth.context.ts';
import { CATEGORY_KEYS, type CategoryKey, isCategoryKey } from '../filter/categories.ts';
import type { Explanation } from '../filter/engine.ts';
import { categoryInfo } from '../lists/lists.taxonomy.ts';
import type { PeopleService } from '../people/people.service.ts';
import { conflict, DomainError, forbidden, type Issue, invalid, notFound } from '../shared/errors.ts';
import { parseOrThrow } from '../shared/schema.ts';
import type { Database, Store } from '../store/store.ts';
import { domainEntryField, reasonField, timestampField } from './policy.schema.ts';
import * as store from './policy.store.ts';
import type { FilterExemptionsTable, UnblockRequestsTable } from './policy.tables.ts';

/** How many requests one address may send in an hour, and how long a repeat for the same site counts as the same request. */
const PER_HOUR = 10;
const SAME_REQUEST_HOURS = 24;
/** Longest an approval may run (the policy's limit for exemptions): longer changes belong in the policy itself. */
const MAX_DAYS = 366;
/** How long the decision step waits for the filter to say what a site is. */
const EXPLAIN_TIMEOUT_MS = 1000;

type Status = UnblockRequestsTable['status'];
type Kind = UnblockRequestsTable['kind'];

export const unblockRequestInputSchema = z.object({
  site: z.string().trim().toLowerCase().min(1, 'is missing').max(253, 'is longer than a domain name can be'),
  message: z.string().trim().min(3, 'needs a few words: why do you need this site?').max(1000, 'is longer than 1,000 characters'),
  name: z.string().trim().max(100, 'is longer than 100 characters').optional(),
});
export type UnblockRequestInput = z.input<typeof unblockRequestInputSchema>;

/** Body of `POST /api/filter/unblock-requests`: a site, or filter-off for a person or a group. */
export const appRequestInputSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('site'),
    site: domainEntryField,
    message: z.string().trim().min(3, 'needs a few words: why do you need this site?').max(1000, 'is longer than 1,000 characters'),
  }),
  z.object({
    kind: z.literal('filter_off'),
    personId: z.string().min(1).max(100).nullish(),
    groupId: z.string().min(1).max(100).nullish(),
    message: z.string().trim().min(3, 'needs a few words: why is filtering to be switched off?').max(1000, 'is longer than 1,000 characters'),
  }),
]);
export type AppRequestInput = z.input<typeof appRequestInputSchema>;

/** Body of a decision: approve (site, groups or the requester, until when) or refuse; a reason either way. */
export const decisionInputSchema = z.discriminatedUnion('decision', [
  z.object({
    decision: z.literal('approve'),
    /** The site to unblock; the request's own when left out (a parent domain, say, when the page needs it). */
    site: domainEntryField.nullish(),
    /** `groups`: for the groups named; `requester`: for the person (else the device) the filter saw asking. Filter-off ignores it. */
    scope: z.enum(['groups', 'requester']).default('groups'),
    groupIds: z.array(z.string().min(1).max(100)).max(50).default([]),
    until: timestampField,
    reason: reasonField,
  }),
  z.object({ decision: z.literal('refuse'), reason: reasonField }),
]);
export type DecisionInput = z.input<typeof decisionInputSchema>;

/** Body of the DSL's answer to an approval of a safeguarding site. */
export const dslInputSchema = z.object({ agree: z.boolean(), reason: reasonField });
export type DslInput = z.input<typeof dslInputSchema>;

/** What an approval said, kept while it waits for the DSL. */
export interface UnblockApproval {
  site: string | null;
  scope: 'groups' | 'requester';
  groupIds: string[];
  until: string;
  reason: string;
  by: string;
  byAccount: string | null;
  at: string;
}

/** Who must act next on a request: `network_manager`, `dsl`, `head`, or null once decided. */
export type WaitingFor = 'network_manager' | 'dsl' | 'head' | null;

export interface UnblockRequestView {
  id: string;
  kind: Kind;
  /** The site asked for; `*` for filter-off. */
  site: string;
  categories: string[];
  /** Whether the site is in a safeguarding category (an approval needs the DSL). */
  safeguarding: boolean;
  rule: string;
  reason: string;
  clientAddress: string;
  networkId: string | null;
  deviceId: string | null;
  personId: string | null;
  groupId: string | null;
  accountId: string | null;
  targetGroupId: string | null;
  targetPersonId: string | null;
  requesterName: string | null;
  message: string;
  status: Status;
  waitingFor: WaitingFor;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
  approval: UnblockApproval | null;
  dslBy: string | null;
  dslAt: string | null;
  dslReason: string | null;
  exemptionIds: string[];
}

const approvalJson = z.object({
  site: z.string().nullable(),
  scope: z.enum(['groups', 'requester']),
  groupIds: z.array(z.string()),
  until: z.string(),
  reason: z.string(),
  by: z.string(),
  byAccount: z.string().nullable(),
  at: z.string(),
});

export const unblockRequestJson = z.object({
  id: z.string(),
  kind: z.enum(['site', 'filter_off']),
  site: z.string(),
  categories: z.array(z.string()),
  safeguarding: z.boolean(),
  rule: z.string(),
  reason: z.string(),
  clientAddress: z.string(),
  networkId: z.string().nullable(),
  deviceId: z.string().nullable(),
  personId: z.string().nullable(),
  groupId: z.string().nullable(),
  accountId: z.string().nullable(),
  targetGroupId: z.string().nullable(),
  targetPersonId: z.string().nullable(),
  requesterName: z.string().nullable(),
  message: z.string(),
  status: z.enum(['open', 'awaiting_dsl', 'approved', 'refused']),
  waitingFor: z.enum(['network_manager', 'dsl', 'head']).nullable(),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decisionReason: z.string().nullable(),
  approval: approvalJson.nullable(),
  dslBy: z.string().nullable(),
  dslAt: z.string().nullable(),
  dslReason: z.string().nullable(),
  exemptionIds: z.array(z.string()),
});

/** What the requester may see on the status page (no sign-in): nothing about who else is involved. */
export interface UnblockStatusView {
  kind: Kind;
  site: string;
  status: Status;
  waitingFor: WaitingFor;
  createdAt: string;
  decidedAt: string | null;
  /** Until when the approval runs. */
  until: string | null;
  /** Who the approval is for, in words ("Pupils", "the person who asked"). */
  appliesTo: string | null;
  /** The reason given for a refusal (or the DSL's for declining). */
  refusalReason: string | null;
}

export interface UnblockRequests {
  /**
   * Records a request from the block page, from `clientAddress` as the filter
   * explained it. A second request for the same site from the same address
   * within a day returns the first (`repeated`); more than a few an hour is
   * refused. `statusToken` opens the request's status page.
   */
  submit(schoolId: string, input: UnblockRequestInput, from: { clientAddress: string; explanation: Explanation | null }): Promise<{ request: UnblockRequestView; repeated: boolean; statusToken: string | null }>;
  /** A request made in the app by a signed-in account (a site, or filter-off for a person or group); audited. */
  submitSigned(auth: AuthContext, ip: string, input: AppRequestInput): Promise<{ request: UnblockRequestView; statusToken: string }>;
  list(schoolId: string, options?: { status?: Status | null; limit?: number }): Promise<UnblockRequestView[]>;
  get(schoolId: string, id: string): Promise<UnblockRequestView>;
  /** The requests an account made in the app, newest first. */
  mine(auth: AuthContext): Promise<UnblockRequestView[]>;
  /** The requester's view of a request by its status token, or null. */
  statusByToken(token: string): Promise<UnblockStatusView | null>;
  /** The network manager's (a site) or the head's (filter-off) decision. */
  decide(auth: AuthContext, ip: string, id: string, input: DecisionInput): Promise<UnblockRequestView>;
  /** The DSL's answer to an approval of a site in a safeguarding category. */
  answerAsDsl(auth: AuthContext, ip: string, id: string, input: DslInput): Promise<UnblockRequestView>;
}

/** What the requests service is built from. */
export interface UnblockRequestsDeps {
  store: Store;
  /** Needed to decide (requests can be recorded without). */
  audit?: AuditLog;
  people?: Pick<PeopleService, 'listGroups' | 'getPerson'>;
  /** Why the running filter blocks a name for an address (null without a filter): the app's requests and the decisions read categories from it. */
  explain?: (site: string, address: string) => Promise<Explanation | null>;
  /** Told after a decision changed the policy (the running filter reloads it). */
  onPolicyChange?: (schoolId: string) => void;
  clock?: () => Date;
}

const json = <T>(text: string | null, fallback: T): T => (text ? (JSON.parse(text) as T) : fallback);

function waitingFor(row: UnblockRequestsTable): WaitingFor {
  if (row.status === 'awaiting_dsl') return 'dsl';
  if (row.status !== 'open') return null;
  return row.kind === 'filter_off' ? 'head' : 'network_manager';
}

function present(row: UnblockRequestsTable): UnblockRequestView {
  return {
    id: row.id,
    kind: row.kind ?? 'site',
    site: row.site,
    categories: json<string[]>(row.categories, []),
    safeguarding: Number(row.safeguarding) === 1,
    rule: row.rule,
    reason: row.reason,
    clientAddress: row.client_address,
    networkId: row.network_id,
    deviceId: row.device_id,
    personId: row.person_id,
    groupId: row.group_id,
    accountId: row.account_id,
    targetGroupId: row.target_group_id,
    targetPersonId: row.target_person_id,
    requesterName: row.requester_name,
    message: row.message,
    status: row.status,
    waitingFor: waitingFor(row),
    createdAt: row.created_at,
    decidedAt: row.decided_at,
    decidedBy: row.decided_by,
    decisionReason: row.decision_reason,
    approval: json<UnblockApproval | null>(row.approval, null),
    dslBy: row.dsl_by,
    dslAt: row.dsl_at,
    dslReason: row.dsl_reason,
    exemptionIds: json<string[]>(row.exemption_ids, []),
  };
}

/** Whether any of these categories makes unblocking a safeguarding decision. */
export function isSafeguarding(categories: readonly string[]): boolean {
  return categories.some((c) => isCategoryKey(c) && categoryInfo(c as CategoryKey).safeguarding);
}

/** A status token: 32 random bytes, URL-safe. */
const newToken = () => randomBytes(32).toString('base64url');

type Db = Kysely<Database> | Transaction<Database>;

async function getRow(db: Db, schoolId: string, id: string): Promise<UnblockRequestsTable | undefined> {
  return db.selectFrom('unblock_requests').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
}

export function createUnblockRequests(deps: UnblockRequestsDeps): UnblockRequests {
  const db = deps.store.db;
  const clock = deps.clock ?? (() => new Date());

  async function explain(site: string, address: string): Promise<Explanation | null> {
    if (!deps.explain) return null;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(resolve, EXPLAIN_TIMEOUT_MS, null)));
    try {
      return await Promise.race([deps.explain(site, address).catch(() => null), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  function needs<T>(value: T | undefined, what: string): T {
    if (!value) throw new Error(`unblock requests: ${what} is needed to decide requests`);
    return value;
  }

  function baseRow(schoolId: string, now: Date, fields: Partial<UnblockRequestsTable> & Pick<UnblockRequestsTable, 'site' | 'message' | 'client_address'>): UnblockRequestsTable {
    return {
      id: randomUUID(),
      school_id: schoolId,
      categories: '[]',
      rule: 'unknown',
      reason: 'the filter was not running when the request was sent',
      network_id: null,
      device_id: null,
      person_id: null,
      group_id: null,
      requester_name: null,
      status: 'open',
      created_at: now.toISOString(),
      decided_at: null,
      decided_by: null,
      decision_reason: null,
      exemption_id: null,
      kind: 'site',
      status_token: newToken(),
      account_id: null,
      target_group_id: null,
      target_person_id: null,
      safeguarding: 0,
      approval: null,
      dsl_by: null,
      dsl_at: null,
      dsl_reason: null,
      exemption_ids: null,
      ...fields,
    };
  }

  function fromExplanation(e: Explanation | null): Partial<UnblockRequestsTable> {
    if (!e) return {};
    return {
      categories: JSON.stringify(e.categories),
      rule: e.decision.rule,
      reason: e.decision.reason,
      network_id: e.networkId,
      device_id: e.deviceId,
      person_id: e.personId,
      group_id: e.groupId,
      safeguarding: isSafeguarding(e.categories) ? 1 : 0,
    };
  }

  /** `until` must be ahead, and not more than a year ahead. */
  function untilIssues(until: string): Issue[] {
    const now = clock().getTime();
    const at = Date.parse(until);
    if (at <= now) return [{ where: 'until', message: 'is not in the future' }];
    if (at > now + MAX_DAYS * 86_400_000) return [{ where: 'until', message: `is more than ${MAX_DAYS} days away: make a lasting change in the policy instead` }];
    return [];
  }

  /** The exemptions an approval makes: one per target, for the site (or every category but illegal, for filter-off). */
  async function exemptionsFor(row: UnblockRequestsTable, approval: UnblockApproval, approvedBy: string, createdBy: string): Promise<FilterExemptionsTable[]> {
    const now = clock().toISOString();
    const targets: { group_id: string | null; person_id: string | null; device_id: string | null }[] = [];
    if (row.kind === 'filter_off') {
      targets.push({ group_id: row.target_group_id, person_id: row.target_person_id, device_id: null });
    } else if (approval.scope === 'requester') {
      targets.push({ group_id: null, person_id: row.person_id, device_id: row.person_id ? null : row.device_id });
    } else {
      for (const groupId of approval.groupIds) targets.push({ group_id: groupId, person_id: null, device_id: null });
    }
    const what: { domain: string | null; category: string | null }[] =
      row.kind === 'filter_off' ? CATEGORY_KEYS.filter((c) => c !== 'illegal').map((c) => ({ domain: null, category: c })) : [{ domain: approval.site ?? row.site, category: null }];
    const reason = row.kind === 'filter_off' ? `filter off (unblock request ${row.id.slice(0, 8)}): ${approval.reason}` : `unblock request ${row.id.slice(0, 8)}: ${approval.reason}`;
    return targets.flatMap((target) =>
      what.map((w) => ({
        id: randomUUID(),
        school_id: row.school_id,
        ...w,
        ...target,
        until: approval.until,
        reason,
        approved_by: approvedBy,
        created_by: createdBy,
        created_at: now,
        revoked_at: null,
        revoked_by: null,
        revoke_reason: null,
      })),
    );
  }

  /** Stores the exemptions with their audit entries and marks the request approved (inside the caller's transaction). */
  async function makeExemptions(trx: Transaction<Database>, actor: Actor, row: UnblockRequestsTable, exemptions: FilterExemptionsTable[], patch: Partial<UnblockRequestsTable>) {
    const audit = needs(deps.audit, 'the audit log');
    for (const e of exemptions) {
      await store.insertExemption(trx, e);
      await audit.append(trx, actor, {
        schoolId: row.school_id, action: 'filter.exemption.create', targetType: 'filter_exemption', targetId: e.id,
        details: { domain: e.domain, category: e.category, groupId: e.group_id, personId: e.person_id, deviceId: e.device_id, until: e.until, approvedBy: e.approved_by, reason: e.reason, unblockRequestId: row.id },
      });
    }
    await update(trx, row, { ...patch, status: 'approved', exemption_id: exemptions[0]?.id ?? null, exemption_ids: JSON.stringify(exemptions.map((e) => e.id)) });
  }

  /** Changes a request only if nobody decided it meanwhile (two deciders at once: the second gets a conflict). */
  async function update(trx: Transaction<Database>, row: UnblockRequestsTable, patch: Partial<UnblockRequestsTable>) {
    const result = await trx.updateTable('unblock_requests').set(patch).where('school_id', '=', row.school_id).where('id', '=', row.id).where('status', '=', row.status).executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw conflict('Someone else decided this request meanwhile: reload it');
  }

  async function describeTarget(schoolId: string, row: UnblockRequestsTable, approval: UnblockApproval | null): Promise<string | null> {
    if (row.kind === 'filter_off') {
      if (row.target_group_id) return (await deps.people?.listGroups(schoolId))?.find((g) => g.id === row.target_group_id)?.name ?? 'a group';
      return 'one person';
    }
    if (!approval) return null;
    if (approval.scope === 'requester') return 'the person (or device) that asked';
    const groups = new Map((await deps.people?.listGroups(schoolId) ?? []).map((g) => [g.id, g.name]));
    return approval.groupIds.map((id) => groups.get(id) ?? 'a group').join(', ');
  }

  function afterChange(schoolId: string) {
    try {
      deps.onPolicyChange?.(schoolId);
    } catch {
      // The decision has committed; the filter also polls for changes.
    }
  }

  return {
    async submit(schoolId, input, from) {
      const data = parseOrThrow(unblockRequestInputSchema, input, 'request');
      const now = clock();
      const since = (hours: number) => new Date(now.getTime() - hours * 3_600_000).toISOString();
      const existing = await store.openRequestFrom(db, schoolId, from.clientAddress, data.site, since(SAME_REQUEST_HOURS));
      if (existing) return { request: present(existing), repeated: true, statusToken: existing.status_token };
      if ((await store.countRequestsFrom(db, schoolId, from.clientAddress, since(1))) >= PER_HOUR) {
        throw new DomainError('rate_limited', `This device has sent ${PER_HOUR} requests in the last hour; ask a member of staff instead`);
      }
      const row = baseRow(schoolId, now, { site: data.site, message: data.message, client_address: from.clientAddress, requester_name: data.name || null, ...fromExplanation(from.explanation) });
      await store.insertUnblockRequest(db, row);
      return { request: present(row), repeated: false, statusToken: row.status_token };
    },

    async submitSigned(auth, ip, input) {
      const data = parseOrThrow(appRequestInputSchema, input, 'request');
      const schoolId = auth.schoolId;
      const audit = needs(deps.audit, 'the audit log');
      const now = clock();
      if ((await store.countRequestsFrom(db, schoolId, ip, new Date(now.getTime() - 3_600_000).toISOString())) >= PER_HOUR) {
        throw new DomainError('rate_limited', `${PER_HOUR} requests were sent from this address in the last hour; try again later`);
      }
      let row: UnblockRequestsTable;
      if (data.kind === 'site') {
        const site = data.site.replace(/^=/, '');
        const e = await explain(site, ip);
        // The signed-in person asked, whatever the filter took the address for.
        row = baseRow(schoolId, now, { site, message: data.message, client_address: ip, requester_name: auth.name, account_id: auth.accountId, ...fromExplanation(e), person_id: auth.personId });
      } else {
        const people = needs(deps.people, 'the people service');
        const given = [data.personId, data.groupId].filter(Boolean);
        const issues: Issue[] = [];
        if (given.length !== 1) issues.push({ where: 'personId', message: 'give exactly one of a person or a group' });
        else if (data.groupId && !(await people.listGroups(schoolId)).some((g) => g.id === data.groupId)) issues.push({ where: 'groupId', message: 'no such group' });
        else if (data.personId && !(await people.getPerson(schoolId, data.personId))) issues.push({ where: 'personId', message: 'no such person' });
        if (issues.length) throw invalid(`The request is not valid: ${issues.map((i) => `${i.where} ${i.message}`).join('; ')}`, issues);
        row = baseRow(schoolId, now, {
          kind: 'filter_off', site: '*', message: data.message, client_address: ip, requester_name: auth.name, account_id: auth.accountId, person_id: auth.personId,
          rule: 'filter_off_request', reason: 'filter-off asked for', target_group_id: data.groupId ?? null, target_person_id: data.personId ?? null,
        });
      }
      await audit.transaction(async (trx) => {
        await store.insertUnblockRequest(trx, row);
        await audit.append(trx, actorOf(auth, ip), {
          schoolId, action: 'filter.unblock_request.create', targetType: 'unblock_request', targetId: row.id,
          details: { kind: row.kind, site: row.site, targetGroupId: row.target_group_id, targetPersonId: row.target_person_id, message: row.message },
        });
      });
      return { request: present(row), statusToken: row.status_token! };
    },

    async list(schoolId, options = {}) {
      const rows = await store.unblockRequests(db, schoolId, options.status ?? null, Math.min(options.limit ?? 200, 1000));
      return rows.map(present);
    },

    async get(schoolId, id) {
      const row = await getRow(db, schoolId, id);
      if (!row) throw notFound('Unblock request');
      return present(row);
    },

    async mine(auth) {
      const rows = await db.selectFrom('unblock_requests').selectAll().where('school_id', '=', auth.schoolId).where('account_id', '=', auth.accountId).orderBy('created_at', 'desc').limit(200).execute();
      return rows.map(present);
    },

    async statusByToken(token) {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
      const row = await db.selectFrom('unblock_requests').selectAll().where('status_token', '=', token).executeTakeFirst();
      if (!row) return null;
      const approval = json<UnblockApproval | null>(row.approval, null);
      return {
        kind: row.kind,
        site: approval?.site ?? row.site,
        status: row.status,
        waitingFor: waitingFor(row),
        createdAt: row.created_at,
        decidedAt: row.decided_at,
        until: row.status === 'approved' ? (approval?.until ?? null) : null,
        appliesTo: row.status === 'approved' ? await describeTarget(row.school_id, row, approval) : null,
        refusalReason: row.status === 'refused' ? (row.dsl_reason ?? row.decision_reason) : null,
      };
    },

    async decide(auth, ip, id, input) {
      const audit = needs(deps.audit, 'the audit log');
      const people = needs(deps.people, 'the people service');
      const schoolId = auth.schoolId;
      const data = parseOrThrow(decisionInputSchema, input, 'decision');
      const row = await getRow(db, schoolId, id);
      if (!row) throw notFound('Unblock request');
      if (row.kind === 'filter_off') {
        if (!auth.roles.includes('head')) throw forbidden('Filter-off is decided by the head');
      } else if (!auth.permissions.has('filter.policy.write')) {
        throw forbidden('Unblock requests are decided by the network manager');
      }
      if (row.status !== 'open') throw conflict(row.status === 'awaiting_dsl' ? 'This request is waiting for the DSL’s agreement' : `This request was already ${row.status} by ${row.decided_by}`);
      const actor = actorOf(auth, ip);
      const now = clock().toISOString();

      if (data.decision === 'refuse') {
        const result = await audit.transaction(async (trx) => {
          const patch = { status: 'refused' as const, decided_at: now, decided_by: actor.label, decision_reason: data.reason };
          await update(trx, row, patch);
          await audit.append(trx, actor, { schoolId, action: 'filter.unblock_request.refuse', targetType: 'unblock_request', targetId: id, details: { kind: row.kind, site: row.site, reason: data.reason } });
          return present({ ...row, ...patch });
        });
        return result;
      }

      // Approve: check what it names before anything is stored.
      const issues: Issue[] = [...untilIssues(data.until)];
      const site = row.kind === 'site' ? (data.site ?? row.site).replace(/^=/, '') : null;
      let categories = json<string[]>(row.categories, []);
      if (row.kind === 'site') {
        const now = await explain(site!, row.client_address);
        if (now) categories = [...new Set([...categories, ...now.categories])];
        if (categories.includes('illegal')) issues.push({ where: 'site', message: 'is in the illegal category (IWF / CTIRU lists): it can never be unblocked' });
        if (data.scope === 'requester') {
          if (!row.person_id && !row.device_id) issues.push({ where: 'scope', message: 'the filter did not know which person or device asked: choose groups instead' });
        } else {
          if (!data.groupIds.length) issues.push({ where: 'groupIds', message: 'choose at least one group (or approve for the requester only)' });
          const known = new Set((await people.listGroups(schoolId)).map((g) => g.id));
          data.groupIds.forEach((g, i) => {
            if (!known.has(g)) issues.push({ where: `groupIds.${i}`, message: 'no such group' });
          });
        }
      }
      if (issues.length) throw invalid(`The approval is not valid: ${issues.map((i) => `${i.where} ${i.message}`).join('; ')}`, issues);
      const approval: UnblockApproval = {
        site, scope: data.scope, groupIds: row.kind === 'site' && data.scope === 'groups' ? [...new Set(data.groupIds)] : [], until: data.until, reason: data.reason,
        by: actor.label, byAccount: auth.accountId, at: now,
      };
      const safeguarding = row.kind === 'site' && isSafeguarding(categories);
      const patch: Partial<UnblockRequestsTable> = {
        decided_at: now, decided_by: actor.label, decision_reason: data.reason, approval: JSON.stringify(approval), categories: JSON.stringify(categories), safeguarding: safeguarding ? 1 : 0,
      };
      const details = { kind: row.kind, site, scope: approval.scope, groupIds: approval.groupIds, targetGroupId: row.target_group_id, targetPersonId: row.target_person_id, until: approval.until, reason: data.reason };
      if (safeguarding) {
        return audit.transaction(async (trx) => {
          await update(trx, row, { ...patch, status: 'awaiting_dsl' });
          await audit.append(trx, actor, { schoolId, action: 'filter.unblock_request.approve', targetType: 'unblock_request', targetId: id, details: { ...details, categories, waitingForDsl: true } });
          return present({ ...row, ...patch, status: 'awaiting_dsl' });
        });
      }
      const exemptions = await exemptionsFor(row, approval, actor.label, actor.label);
      const result = await audit.transaction(async (trx) => {
        await makeExemptions(trx, actor, row, exemptions, patch);
        await audit.append(trx, actor, {
          schoolId, action: row.kind === 'filter_off' ? 'filter.unblock_request.filter_off_approve' : 'filter.unblock_request.approve', targetType: 'unblock_request', targetId: id,
          details: { ...details, exemptionIds: exemptions.map((e) => e.id) },
        });
        return present((await getRow(trx, schoolId, id))!);
      });
      afterChange(schoolId);
      return result;
    },

    async answerAsDsl(auth, ip, id, input) {
      const audit = needs(deps.audit, 'the audit log');
      const schoolId = auth.schoolId;
      const data = parseOrThrow(dslInputSchema, input, 'answer');
      if (!auth.roles.includes('dsl')) throw forbidden('Only the designated safeguarding lead (an account with the DSL role) can answer this');
      const row = await getRow(db, schoolId, id);
      if (!row) throw notFound('Unblock request');
      if (row.status !== 'awaiting_dsl') throw conflict(row.status === 'open' ? 'The network manager has not approved this request yet' : `This request was already ${row.status}`);
      const actor = actorOf(auth, ip);
      const now = clock().toISOString();
      const approval = json<UnblockApproval | null>(row.approval, null)!;
      const patch: Partial<UnblockRequestsTable> = { dsl_by: actor.label, dsl_at: now, dsl_reason: data.reason };
      if (!data.agree) {
        return audit.transaction(async (trx) => {
          await update(trx, row, { ...patch, status: 'refused' });
          await audit.append(trx, actor, { schoolId, action: 'filter.unblock_request.dsl_decline', targetType: 'unblock_request', targetId: id, details: { site: approval.site ?? row.site, reason: data.reason } });
          return present({ ...row, ...patch, status: 'refused' });
        });
      }
      const issues = untilIssues(approval.until);
      if (issues.length) throw conflict(`The approval ran until ${approval.until}, which has passed: the network manager must decide again`);
      const exemptions = await exemptionsFor(row, approval, `${approval.by}; agreed by ${actor.label} (DSL)`, actor.label);
      const result = await audit.transaction(async (trx) => {
        await makeExemptions(trx, actor, row, exemptions, patch);
        await audit.append(trx, actor, {
          schoolId, action: 'filter.unblock_request.dsl_agree', targetType: 'unblock_request', targetId: id,
          details: { site: approval.site ?? row.site, until: approval.until, reason: data.reason, exemptionIds: exemptions.map((e) => e.id) },
        });
        return present((await getRow(trx, schoolId, id))!);
      });
      afterChange(schoolId);
      return result;
    },
  };
}
