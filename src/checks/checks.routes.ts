/**
 * Check routes: the check log API (run a check, list runs and results,
 * record follow-up actions, the school's test names) for the people who
 * review filtering, and the device check page with its probe results for
 * anyone on a device (no sign-in).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { actorOf } from '../auth/auth.context.ts';
import { callerOf } from '../http/guard.ts';
import { DomainError } from '../shared/errors.ts';
import type { App } from '../http/server.ts';
import { deviceCheckPage, DEVICE_CHECK_SCRIPT } from './checks.page.ts';
import type { Checks } from './checks.service.ts';

const tags = ['checks'];

const resultJson = z.object({
  id: z.string(),
  groupId: z.string(),
  groupName: z.string(),
  category: z.string(),
  name: z.string(),
  transport: z.enum(['udp', 'tcp', 'doh']),
  source: z.string().nullable(),
  expected: z.enum(['blocked', 'allowed']),
  outcome: z.enum(['blocked', 'allowed', 'error', 'not_checked']),
  asExpected: z.boolean().nullable(),
  detail: z.string(),
  action: z.string().nullable(),
  actionBy: z.string().nullable(),
  actionAt: z.string().nullable(),
});

const runJson = z.object({
  id: z.string(),
  trigger: z.enum(['manual', 'self_test']),
  ranBy: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  policyVersion: z.number().nullable(),
  groups: z.array(z.object({ id: z.string(), name: z.string() })),
  total: z.number(),
  unexpected: z.number(),
  notChecked: z.number(),
  problem: z.string().nullable(),
});

const runDetailJson = runJson.extend({ results: z.array(resultJson) });
const namesJson = z.object({ names: z.array(z.object({ category: z.string(), name: z.string() })), builtIn: z.boolean(), updatedAt: z.string().nullable().optional(), updatedBy: z.string().nullable().optional() });

/** A 1×1 transparent GIF: what a probe that reached Schoolgate gets. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/**
 * The probe hook for the block page's interception: a request for
 * `/check/probe/<session>` under a foreign host name reached Schoolgate
 * because the device's DNS sent that name here. Returns true when it answered.
 */
export function probeHook(checks: Pick<Checks, 'recordProbe'>) {
  return async (request: FastifyRequest, reply: FastifyReply, site: string): Promise<boolean> => {
    const match = /^\/check\/probe\/([A-Za-z0-9_-]{10,64})(?:[/?]|$)/.exec(request.url);
    if (!match) return false;
    const known = checks.recordProbe(match[1], site, request.ip);
    reply.removeHeader('strict-transport-security');
    // The page that loads it is on another origin (the app's own name): let it have the image.
    await reply.status(known ? 200 : 404).header('cache-control', 'no-store').header('cross-origin-resource-policy', 'cross-origin').header('content-type', 'image/gif').send(PIXEL);
    return true;
  };
}

/** Mounts /api/checks and the device check page. */
export function checksRoutes(checks: Checks, options: { schoolName: () => Promise<string> }) {
  return (app: App) => {
    app.post(
      '/api/checks/runs',
      {
        config: { access: 'filter.checks' },
        schema: {
          tags,
          summary: 'Run a filter check now: every test name as each group, over plain DNS and DNS-over-HTTPS, stored in the check log',
          body: z.object({ groupIds: z.array(z.string().min(1).max(100)).max(200).optional() }).optional(),
          response: { 201: runDetailJson },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const run = await checks.run(actorOf(caller, request.ip), caller.schoolId, { groupIds: request.body?.groupIds });
        return reply.status(201).send(run);
      },
    );

    app.get(
      '/api/checks/runs',
      {
        config: { access: 'filter.policy.read' },
        schema: {
          tags,
          summary: 'The check log: runs, newest first',
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
          response: { 200: z.object({ items: z.array(runJson) }) },
        },
      },
      async (request) => ({ items: await checks.listRuns(callerOf(request).schoolId, request.query.limit) }),
    );

    app.get(
      '/api/checks/runs/:id',
      {
        config: { access: 'filter.policy.read' },
        schema: { tags, summary: 'One check run with every result', params: z.object({ id: z.string().min(1).max(100) }), response: { 200: runDetailJson } },
      },
      async (request) => checks.getRun(callerOf(request).schoolId, request.params.id),
    );

    app.put(
      '/api/checks/results/:id/action',
      {
        config: { access: 'filter.checks' },
        schema: {
          tags,
          summary: 'Record the follow-up action for a check result (an empty text clears it)',
          params: z.object({ id: z.string().min(1).max(100) }),
          body: z.object({ action: z.string().max(2000) }),
          response: { 200: resultJson },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        return checks.setAction(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.body.action);
      },
    );

    app.get(
      '/api/checks/names',
      { config: { access: 'filter.policy.read' }, schema: { tags, summary: 'The test names a check asks, per category', response: { 200: namesJson } } },
      async (request) => checks.getNames(callerOf(request).schoolId),
    );

    app.put(
      '/api/checks/names',
      {
        config: { access: 'filter.policy.write' },
        schema: {
          tags,
          summary: 'Replace the school’s test names (null: back to the built-in set); the illegal test name and bypass switches are always kept',
          body: z.object({ names: z.array(z.object({ category: z.string().max(40), name: z.string().max(300) })).max(200).nullable(), reason: z.string().max(1000) }),
          response: { 200: namesJson },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        return checks.setNames(actorOf(caller, request.ip), caller.schoolId, request.body.names, request.body.reason);
      },
    );

    app.get(
      '/check',
      { config: { access: 'open' }, schema: { tags, summary: 'The device check page: what the filter sees this device as, and whether the test names are blocked on it' } },
      async (request, reply) => {
        const view = await checks.deviceView(request.ip);
        return reply
          .header('cache-control', 'no-store')
          // Probes are images from the test names' hosts: the page's own policy allows them, nothing else changes.
          .header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: http: https:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'")
          .type('text/html; charset=utf-8')
          .send(deviceCheckPage(view, await options.schoolName()));
      },
    );

    app.get(
      '/check/check.js',
      { config: { access: 'open' }, schema: { tags, summary: 'The device check page’s script' } },
      async (_request, reply) => reply.header('cache-control', 'no-store').type('text/javascript; charset=utf-8').send(DEVICE_CHECK_SCRIPT),
    );

    app.get(
      '/check/results/:nonce',
      {
        config: { access: 'open' },
        schema: {
          tags,
          summary: 'Which test names of a device check page reached Schoolgate (so the device’s DNS blocked them)',
          params: z.object({ nonce: z.string().min(10).max(64) }),
          response: { 200: z.object({ arrived: z.array(z.string()), probed: z.array(z.string()) }) },
        },
      },
      async (request, reply) => {
        const result = checks.probeResults(request.params.nonce);
        if (!result) throw new DomainError('not_found', 'This device check has expired (after 10 minutes): open /check again.');
        return reply.header('cache-control', 'no-store').send(result);
      },
    );
  };
}
