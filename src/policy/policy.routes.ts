/**
 * Filter policy routes: admins change, admins, DSLs and heads read. Thin: the
 * rules (reasons, `illegal`, validation) are in the service, which gets the
 * same bodies the routes validate.
 */
import { z } from 'zod';
import { actorOf } from '../auth/auth.context.ts';
import { callerOf } from '../http/guard.ts';
import type { App } from '../http/server.ts';
import {
  calendarInputSchema,
  calendarJson,
  entryInputSchema,
  entryJson,
  exemptionInputSchema,
  exemptionJson,
  groupPolicyInputSchema,
  groupPolicyJson,
  reasonOnlySchema,
  sanctionInputSchema,
  sanctionJson,
  scheduleInputSchema,
  scheduleJson,
  settingsInputSchema,
  settingsJson,
} from './policy.schema.ts';
import type { PolicyService } from './policy.service.ts';
import { appRequestInputSchema, decisionInputSchema, dslInputSchema, unblockRequestJson, type UnblockRequests } from './policy.requests.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });
const ok = z.object({ ok: z.literal(true) });
const activeQuery = z.object({ include: z.enum(['active', 'all']).default('active') });
const tags = ['filter'];

/** Mounts the filter policy routes under /api/filter. */
export function policyRoutes(policy: PolicyService, requests: UnblockRequests) {
  return (app: App) => {
    // ---- unblock requests: asked from the block page or the app, decided here ----
    const statusEnum = z.enum(['open', 'awaiting_dsl', 'approved', 'refused']);
    app.get(
      '/api/filter/unblock-requests',
      {
        config: { access: 'filter.policy.read' },
        schema: {
          tags,
          summary: 'Unblock requests (from the block page and the app), newest first: the inbox of the network manager, DSL and head',
          querystring: z.object({ status: statusEnum.optional(), limit: z.coerce.number().int().min(1).max(1000).default(200) }),
          response: { 200: z.object({ items: z.array(unblockRequestJson) }) },
        },
      },
      async (request) => ({ items: await requests.list(callerOf(request).schoolId, { status: request.query.status ?? null, limit: request.query.limit }) }),
    );

    app.get(
      '/api/filter/unblock-requests/mine',
      {
        config: { access: 'authenticated' },
        schema: { tags, summary: 'The unblock requests the signed-in account made, with their outcome', response: { 200: z.object({ items: z.array(unblockRequestJson) }) } },
      },
      async (request) => ({ items: await requests.mine(callerOf(request)) }),
    );

    app.post(
      '/api/filter/unblock-requests',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'Ask for a site to be unblocked, or for filtering to be switched off for a person or group (the head decides that); the answer has the status page path',
          body: appRequestInputSchema,
          response: { 201: z.object({ request: unblockRequestJson, statusPath: z.string() }) },
        },
      },
      async (request, reply) => {
        const { request: saved, statusToken } = await requests.submitSigned(callerOf(request), request.ip, request.body);
        return reply.status(201).send({ request: saved, statusPath: `/blocked/status/${statusToken}` });
      },
    );

    app.post(
      '/api/filter/unblock-requests/:id/decision',
      {
        // Sites: filter.policy.write; filter-off: the head's role. The service checks which applies.
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'Approve (site, groups or the requester, until when) or refuse an unblock request, with a reason; a safeguarding site then waits for the DSL',
          params: idParams,
          body: decisionInputSchema,
          response: { 200: z.object({ request: unblockRequestJson }) },
        },
      },
      async (request) => ({ request: await requests.decide(callerOf(request), request.ip, request.params.id, request.body) }),
    );

    app.post(
      '/api/filter/unblock-requests/:id/dsl',
      {
        // The DSL role, checked by the service (no permission stands for it).
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'The DSL agrees to (or declines, with a reason) an approval of a site in a safeguarding category',
          params: idParams,
          body: dslInputSchema,
          response: { 200: z.object({ request: unblockRequestJson }) },
        },
      },
      async (request) => ({ request: await requests.answerAsDsl(callerOf(request), request.ip, request.params.id, request.body) }),
    );

    // ---- group policies ----
    app.get(
      '/api/filter/groups',
      {
        config: { access: 'filter.policy.read' },
        schema: { tags, summary: 'Every group with its filter policy (defaults where none is set)', response: { 200: z.object({ items: z.array(groupPolicyJson) }) } },
      },
      async (request) => ({ items: await policy.listGroupPolicies(callerOf(request).schoolId) }),
    );

    app.get(
      '/api/filter/groups/:groupId/policy',
      {
        config: { access: 'filter.policy.read' },
        schema: { tags, summary: 'A group’s filter policy', params: z.object({ groupId: z.string().min(1).max(100) }), response: { 200: z.object({ policy: groupPolicyJson }) } },
      },
      async (request) => ({ policy: await policy.getGroupPolicy(callerOf(request).schoolId, request.params.groupId) }),
    );

    app.put(
      '/api/filter/groups/:groupId/policy',
      {
        config: { access: 'filter.policy.write' },
        schema: {
          tags,
          summary: 'Set a group’s filter policy (illegal always stays blocked; a reason is required)',
          params: z.object({ groupId: z.string().min(1).max(100) }),
          body: groupPolicyInputSchema,
          response: { 200: z.object({ policy: groupPolicyJson }) },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        return { policy: await policy.updateGroupPolicy(actorOf(caller, request.ip), caller.schoolId, request.params.groupId, request.body) };
      },
    );

    // ---- allow and deny entries ----
    app.get(
      '/api/filter/entries',
      {
        config: { access: 'filter.policy.read' },
        schema: {
          tags,
          summary: 'Allow and deny entries (groupId=school for the whole-school ones only)',
          querystring: z.object({ groupId: z.string().min(1).max(100).optional(), list: z.enum(['allow', 'deny']).optional() }),
          response: { 200: z.object({ items: z.array(entryJson) }) },
        },
      },
      async (request) => {
        const { groupId, list } = request.query;
        return { items: await policy.listEntries(callerOf(request).schoolId, { groupId: groupId === 'school' ? null : groupId, list }) };
      },
    );

    app.post(
      '/api/filter/entries',
      {
        config: { access: 'filter.policy.write' },
        schema: { tags, summary: 'Add an allow or deny entry for the school or a group', body: entryInputSchema, response: { 201: z.object({ entry: entryJson }) } },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const entry = await policy.addEntry(actorOf(caller, request.ip), caller.schoolId, request.body);
        return reply.status(201).send({ entry });
      },
    );

    app.delete(
      '/api/filter/entries/:id',
      {
        config: { access: 'filter.policy.write' },
        schema: { tags, summary: 'Remove an allow or deny entry (with a reason)', params: idParams, body: reasonOnlySchema, response: { 200: ok } },
      },
      async (request) => {
        const caller = callerOf(request);
        await policy.removeEntry(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.body.reason);
        return { ok: true as const };
      },
    );

    // ---- schedules ----
    app.get(
      '/api/filter/schedules',
      {
        config: { access: 'filter.policy.read' },
        schema: { tags, summary: 'Schedules (weekly windows, optionally school days only)', response: { 200: z.object({ items: z.array(scheduleJson) }) } },
      },
      async (request) => ({ items: await policy.listSchedules(callerOf(request).schoolId) }),
    );

    app.post(
      '/api/filter/schedules',
      {
        config: { access: 'filter.policy.write' },
        schema: { tags, summary: 'Make a schedule', body: scheduleInputSchema, response: { 201: z.object({ schedule: scheduleJson }) } },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        return reply.status(201).send({ schedule: await policy.createSchedule(actorOf(caller, request.ip), caller.schoolId, request.body) });
      },
    );

    app.put(
      '/api/filter/schedules/:id',
      {
        config: { access: 'filter.policy.write' },
        schema: { tags, summary: 'Change a schedule', params: idParams, body: scheduleInputSchema, response: { 200: z.object({ schedule: scheduleJson }) } },
      },
      async (request) => {
        const caller = callerOf(request);
        return { schedule: await policy.updateSchedule(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.body) };
      },
    );

    app.delete(
      '/api/filter/schedules/:id',
      {
        config: { access: 'filter.policy.write' },
        schema: { tags, summary: 'Remove a schedule no policy uses (with a reason)', params: idParams, body: reasonOnlySchema, response: { 200: ok } },
      },
      async (request) => {
        const caller = callerOf(request);
        await policy.deleteSchedule(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.body.reason);
        return { ok: true as const };
      },
    );

    // ---- calendar ----
    app.get(
      '/api/filter/calendar',
      {
        config: { access: 'filter.policy.read' },
        schema: { tags, summary: 'The school calendar: terms and closures', response: { 200: calendarJson } },
      },
      async (request) => policy.getCalendar(callerOf(request).schoolId),
    );

    app.put(
      '/api/filter/calendar',
      {
        config: { access: 'filter.policy.write' },
        schema: { tags, summary: 'Replace the school calendar (terms as date ranges; INSET days and bank holidays as closures)', body: calendarInputSchema, response: { 200: calendarJson } },
      },
      async (request) => {
        const caller = callerOf(request);
        return policy.setCalendar(actorOf(caller, request.ip), caller.schoolId, request.body);
      },
    );

    // ---- exemptions ----
    app.get(
      '/api/filter/exemptions',
      {
        config: { access: 'filter.policy.read' },
        schema: { tags, summary: 'Exemptions (approved unblocks), active ones or all', querystring: activeQuery, response: { 200: z.object({ items: z.array(exemptionJson) }) } },
      },
      async (request) => ({ items: await policy.listExemptions(callerOf(request).schoolId, { activeOnly: request.query.include === 'active' }) }),
    );

    app.post(
      '/api/filter/exemptions',
      {
        config: { access: 'filter.policy.write' },
        schema: { tags, summary: 'Exempt a group, person or device from blocking of a domain or category until a time', body: exemptionInputSchema, response: { 201: z.object({ exemption: exemptionJson }) } },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        return reply.status(201).send({ exemption: await policy.createExemption(actorOf(caller, request.ip), caller.schoolId, request.body) });
      },
    );

    app.post(
      '/api/filter/exemptions/:id/revoke',
      {
        config: { access: 'filter.policy.write' },
        schema: { tags, summary: 'End an exemption early (the record stays)', params: idParams, body: reasonOnlySchema, response: { 200: z.object({ exemption: exemptionJson }) } },
      },
      async (request) => {
        const caller = callerOf(request);
        return { exemption: await policy.revokeExemption(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.body.reason) };
      },
    );

    // ---- sanctions ----
    app.get(
      '/api/filter/sanctions',
      {
        config: { access: 'filter.policy.read' },
        schema: { tags, summary: 'Sanctions (network rights removed), active ones or all; the read is audited', querystring: activeQuery, response: { 200: z.object({ items: z.array(sanctionJson) }) } },
      },
      async (request) => {
        const caller = callerOf(request);
        return { items: await policy.listSanctions(actorOf(caller, request.ip), caller.schoolId, { activeOnly: request.query.include === 'active' }) };
      },
    );

    app.post(
      '/api/filter/sanctions',
      {
        config: { access: 'filter.policy.write' },
        schema: { tags, summary: 'Remove a person’s or device’s network rights until a time, keeping an allow list', body: sanctionInputSchema, response: { 201: z.object({ sanction: sanctionJson }) } },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        return reply.status(201).send({ sanction: await policy.createSanction(actorOf(caller, request.ip), caller.schoolId, request.body) });
      },
    );

    app.post(
      '/api/filter/sanctions/:id/lift',
      {
        config: { access: 'filter.policy.write' },
        schema: { tags, summary: 'Lift a sanction early (sanctions are never deleted)', params: idParams, body: reasonOnlySchema, response: { 200: z.object({ sanction: sanctionJson }) } },
      },
      async (request) => {
        const caller = callerOf(request);
        return { sanction: await policy.liftSanction(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.body.reason) };
      },
    );

    // ---- settings ----
    app.get(
      '/api/filter/settings',
      {
        config: { access: 'filter.policy.read' },
        schema: { tags, summary: 'The school’s filter settings (block answers, never-block list, ChromeOS, forwarders)', response: { 200: z.object({ settings: settingsJson }) } },
      },
      async (request) => ({ settings: await policy.getSettings(callerOf(request).schoolId) }),
    );

    app.put(
      '/api/filter/settings',
      {
        config: { access: 'filter.policy.write' },
        schema: { tags, summary: 'Change the school’s filter settings (fields left out stay as they are; a reason is required)', body: settingsInputSchema, response: { 200: z.object({ settings: settingsJson }) } },
      },
      async (request) => {
        const caller = callerOf(request);
        return { settings: await policy.updateSettings(actorOf(caller, request.ip), caller.schoolId, request.body) };
      },
    );
  };
}
