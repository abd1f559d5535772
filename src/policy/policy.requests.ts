/**
 * Requests to review a block, sent from the block page. Who asked is what the
 * filter saw when the request came in (network, device, person, group); a
 * name the requester typed is kept as typed and never trusted. The network
 * manager sees them at `GET /api/filter/unblock-requests`; deciding them
 * (approve into an exemption, or refuse with a reason) is the lists issue's
 * flow. Requests are kept with their outcome and never deleted.
 */
import { z } from 'zod';
import type { Explanation } from '../filter/engine.ts';
import { DomainError } from '../shared/errors.ts';
import { parseOrThrow } from '../shared/schema.ts';
import type { Store } from '../store/store.ts';
import * as store from './policy.store.ts';
import type { UnblockRequestsTable } from './policy.tables.ts';

/** How many requests one address may send in an hour, and how long a repeat for the same site counts as the same request. */
const PER_HOUR = 10;
const SAME_REQUEST_HOURS = 24;

export const unblockRequestInputSchema = z.object({
  site: z.string().trim().toLowerCase().min(1, 'is missing').max(253, 'is longer than a domain name can be'),
  message: z.string().trim().min(3, 'needs a few words: why do you need this site?').max(1000, 'is longer than 1,000 characters'),
  name: z.string().trim().max(100, 'is longer than 100 characters').optional(),
});
export type UnblockRequestInput = z.input<typeof unblockRequestInputSchema>;

export interface UnblockRequestView {
  id: string;
  site: string;
  categories: string[];
  rule: string;
  reason: string;
  clientAddress: string;
  networkId: string | null;
  deviceId: string | null;
  personId: string | null;
  groupId: string | null;
  requesterName: string | null;
  message: string;
  status: UnblockRequestsTable['status'];
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  decisionReason: string | null;
}

export const unblockRequestJson = z.object({
  id: z.string(),
  site: z.string(),
  categories: z.array(z.string()),
  rule: z.string(),
  reason: z.string(),
  clientAddress: z.string(),
  networkId: z.string().nullable(),
  deviceId: z.string().nullable(),
  personId: z.string().nullable(),
  groupId: z.string().nullable(),
  requesterName: z.string().nullable(),
  message: z.string(),
  status: z.enum(['open', 'approved', 'refused']),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decisionReason: z.string().nullable(),
});

export interface UnblockRequests {
  /**
   * Records a request from `clientAddress` as the filter explained it. A
   * second request for the same site from the same address within a day
   * returns the first (`repeated`); more than a few an hour is refused.
   */
  submit(schoolId: string, input: UnblockRequestInput, from: { clientAddress: string; explanation: Explanation | null }): Promise<{ request: UnblockRequestView; repeated: boolean }>;
  list(schoolId: string, options?: { status?: UnblockRequestsTable['status'] | null; limit?: number }): Promise<UnblockRequestView[]>;
}

function present(row: UnblockRequestsTable): UnblockRequestView {
  return {
    id: row.id,
    site: row.site,
    categories: JSON.parse(row.categories) as string[],
    rule: row.rule,
    reason: row.reason,
    clientAddress: row.client_address,
    networkId: row.network_id,
    deviceId: row.device_id,
    personId: row.person_id,
    groupId: row.group_id,
    requesterName: row.requester_name,
    message: row.message,
    status: row.status,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
    decidedBy: row.decided_by,
    decisionReason: row.decision_reason,
  };
}

export function createUnblockRequests(deps: { store: Store; clock?: () => Date }): UnblockRequests {
  const db = deps.store.db;
  const clock = deps.clock ?? (() => new Date());
  return {
    async submit(schoolId, input, from) {
      const data = parseOrThrow(unblockRequestInputSchema, input, 'request');
      const now = clock();
      const since = (hours: number) => new Date(now.getTime() - hours * 3_600_000).toISOString();
      const existing = await store.openRequestFrom(db, schoolId, from.clientAddress, data.site, since(SAME_REQUEST_HOURS));
      if (existing) return { request: present(existing), repeated: true };
      if ((await store.countRequestsFrom(db, schoolId, from.clientAddress, since(1))) >= PER_HOUR) {
        throw new DomainError('rate_limited', `This device has sent ${PER_HOUR} requests in the last hour; ask a member of staff instead`);
      }
      const e = from.explanation;
      const row: UnblockRequestsTable = {
        id: crypto.randomUUID(),
        school_id: schoolId,
        site: data.site,
        categories: JSON.stringify(e?.categories ?? []),
        rule: e?.decision.rule ?? 'unknown',
        reason: e?.decision.reason ?? 'the filter was not running when the request was sent',
        client_address: from.clientAddress,
        network_id: e?.networkId ?? null,
        device_id: e?.deviceId ?? null,
        person_id: e?.personId ?? null,
        group_id: e?.groupId ?? null,
        requester_name: data.name || null,
        message: data.message,
        status: 'open',
        created_at: now.toISOString(),
        decided_at: null,
        decided_by: null,
        decision_reason: null,
        exemption_id: null,
      };
      await store.insertUnblockRequest(db, row);
      return { request: present(row), repeated: false };
    },

    async list(schoolId, options = {}) {
      const rows = await store.unblockRequests(db, schoolId, options.status ?? null, Math.min(options.limit ?? 200, 1000));
      return rows.map(present);
    },
  };
}
