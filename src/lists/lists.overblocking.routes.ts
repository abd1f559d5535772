/** Routes of the over-blocking report and the school's known-good sites, under /api/lists. */
import { z } from 'zod';
import { actorOf } from '../auth/auth.context.ts';
import { callerOf } from '../http/guard.ts';
import type { App } from '../http/server.ts';
import { reasonOnlySchema } from '../policy/policy.schema.ts';
import { knownGoodInputSchema, knownGoodPasteSchema } from './lists.known-good.ts';
import { DEFAULT_ITEM_LIMIT, type Overblocking } from './lists.overblocking.ts';

const tags = ['lists'];
const counts = z.array(z.object({ key: z.string(), count: z.number() }));

const blockedNameJson = z.object({
  name: z.string(),
  knownGood: z.array(z.object({ source: z.string(), line: z.number().nullable() })),
  when: z.enum(['now', 'at_times']),
  kind: z.string(),
  rule: z.string(),
  reason: z.string(),
  category: z.string().nullable(),
  matched: z.string().nullable(),
  lists: z.array(z.object({ list: z.string(), line: z.number(), entry: z.string(), category: z.string(), via: z.enum(['name', 'parent']), exact: z.boolean() })),
});

const reportJson = z.object({
  generatedAt: z.string(),
  catalog: z.object({ names: z.number(), builtAt: z.string().nullable(), problem: z.string().nullable() }),
  sources: z.array(z.object({ id: z.string(), label: z.string(), kind: z.enum(['school', 'list']), copy: z.boolean(), note: z.string().nullable(), lines: z.number(), names: z.number(), unused: z.number() })),
  names: z.number(),
  groups: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      ownPolicy: z.boolean(),
      checked: z.number(),
      blocked: z.number(),
      blockedNow: z.number(),
      byCategory: counts,
      byList: counts,
      byRule: counts,
      items: z.array(blockedNameJson),
      truncated: z.boolean(),
    }),
  ),
  groupsLeftOut: z.array(z.object({ id: z.string(), name: z.string() })),
  durationMs: z.number(),
});

const siteJson = z.object({ id: z.string(), domain: z.string(), note: z.string().nullable(), createdBy: z.string(), createdAt: z.string() });

/** JSON of `GET /api/lists/overblocking`. */
export type OverblockingJson = z.infer<typeof reportJson>;
/** JSON of one known-good site. */
export type KnownGoodSiteJson = z.infer<typeof siteJson>;

/** Mounts the over-blocking report and the known-good sites. */
export function overblockingRoutes(overblocking: Overblocking) {
  return (app: App) => {
    app.get(
      '/api/lists/overblocking',
      {
        config: { access: 'filter.policy.read' },
        schema: {
          tags,
          summary: 'Over-blocking report: the known-good names (the school’s own sites and the allow lists) each group’s policy blocks now, with the rule and the list line behind each',
          querystring: z.object({ group: z.string().min(1).max(100).optional(), limit: z.coerce.number().int().min(0).max(5000).optional() }),
          response: { 200: reportJson },
        },
      },
      async (request) => overblocking.report(callerOf(request).schoolId, { group: request.query.group ?? null, limit: request.query.limit ?? DEFAULT_ITEM_LIMIT }),
    );

    app.get(
      '/api/lists/known-good',
      {
        config: { access: 'filter.policy.read' },
        schema: { tags, summary: 'The school’s own known-good sites (sites teachers rely on)', response: { 200: z.object({ items: z.array(siteJson) }) } },
      },
      async (request) => ({ items: await overblocking.sites.list(callerOf(request).schoolId) }),
    );

    app.post(
      '/api/lists/known-good',
      {
        config: { access: 'filter.policy.write' },
        schema: { tags, summary: 'Add a known-good site (with a note and a reason)', body: knownGoodInputSchema, response: { 201: z.object({ site: siteJson }) } },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const site = await overblocking.sites.add(actorOf(caller, request.ip), caller.schoolId, request.body);
        return reply.code(201).send({ site });
      },
    );

    app.post(
      '/api/lists/known-good/paste',
      {
        config: { access: 'filter.policy.write' },
        schema: {
          tags,
          summary: 'Add a pasted list of known-good sites (one a line, or CSV: site, note), all or none: bad lines are named by number',
          body: knownGoodPasteSchema,
          response: { 200: z.object({ added: z.array(siteJson), alreadyListed: z.array(z.string()) }) },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        return overblocking.sites.addPasted(actorOf(caller, request.ip), caller.schoolId, request.body);
      },
    );

    app.delete(
      '/api/lists/known-good/:id',
      {
        config: { access: 'filter.policy.write' },
        schema: { tags, summary: 'Remove a known-good site (with a reason)', params: z.object({ id: z.string().min(1).max(100) }), body: reasonOnlySchema, response: { 200: z.object({ ok: z.literal(true) }) } },
      },
      async (request) => {
        const caller = callerOf(request);
        await overblocking.sites.remove(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.body.reason);
        return { ok: true as const };
      },
    );
  };
}
