/** Routes of the lists module: the categories people read, and the lists' health (the illegal feeds' status and list problems). */
import { z } from 'zod';
import { allCategories, AUDIENCES } from './lists.taxonomy.ts';
import type { App } from '../http/server.ts';
import { actorOf } from '../auth/auth.context.ts';
import { callerOf } from '../http/guard.ts';
import type { ListsRefresher } from './lists.refresh.ts';
import type { ListsStatus } from './lists.status.ts';
import type { PolicyService } from '../policy/policy.service.ts';
import { whyNames } from './lists.why.ts';

const level = z.enum(['green', 'amber', 'red']);
const problem = z.object({ reason: z.string(), at: z.string() });
const healthJson = z.object({
  illegalFeed: z.object({
    level,
    summary: z.string(),
    advice: z.string().nullable(),
    testName: z.string(),
    docs: z.string(),
    feeds: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        url: z.string(),
        level,
        message: z.string(),
        names: z.number(),
        linesNotUsed: z.number(),
        checkedAt: z.string().nullable(),
        acceptedAt: z.string().nullable(),
        problem: problem.nullable(),
      }),
    ),
  }),
  problems: z.array(z.object({ id: z.string(), reason: z.string(), at: z.string(), inService: z.boolean() })),
  refresh: z.object({
    running: z.boolean(),
    step: z.string().nullable(),
    done: z.number(),
    total: z.number(),
    startedAt: z.string().nullable(),
    nextAt: z.string().nullable(),
    last: z.object({ finishedAt: z.string(), trigger: z.string(), ok: z.boolean(), updated: z.number(), problems: z.number(), error: z.string().nullable() }).nullable(),
  }),
});

const categoryJson = z.object({
  key: z.string(),
  label: z.string(),
  description: z.string(),
  safeguarding: z.boolean(),
  suggestedBlock: z.object(Object.fromEntries(AUDIENCES.map((a) => [a, z.boolean()])) as Record<(typeof AUDIENCES)[number], z.ZodBoolean>),
});

/** JSON of one category in `GET /api/lists/categories`. */
export type CategoryJson = z.infer<typeof categoryJson>;

/** JSON of `GET /api/lists/status`. */
export type ListsHealthJson = z.infer<typeof healthJson>;

const whyJson = z.object({
  name: z.string(),
  categories: z.array(z.string()),
  matches: z.array(z.object({ list: z.string(), source: z.string().nullable(), category: z.string(), entry: z.string(), via: z.enum(['name', 'parent']), exact: z.boolean(), line: z.number() })),
  group: z
    .object({ id: z.string(), name: z.string(), kind: z.string(), rule: z.string(), reason: z.string(), category: z.string().nullable(), matched: z.string().nullable(), since: z.string().nullable() })
    .optional(),
});

/** JSON of one name in `GET /api/lists/why`. */
export type WhyJson = z.infer<typeof whyJson>;

/** What the lists routes read besides the status. */
export interface ListsRouteDeps {
  status: ListsStatus;
  refresher: ListsRefresher;
  policy: PolicyService;
  catalogFile: string;
}

/** Mounts the lists routes under /api/lists. */
export function listsRoutes({ status, refresher, policy, catalogFile }: ListsRouteDeps) {
  return (app: App) => {
    app.get(
      '/api/lists/why',
      {
        config: { access: 'filter.policy.read' },
        schema: {
          tags: ['lists'],
          summary: 'Why is a name blocked: its categories, every list line behind them, and with a group what the filter decides now, by which rule, since when',
          querystring: z.object({ name: z.union([z.string().min(1).max(253), z.array(z.string().min(1).max(253)).max(20)]), group: z.string().min(1).max(100).optional() }),
          response: { 200: z.object({ items: z.array(whyJson) }) },
        },
      },
      async (request) => {
        const names = Array.isArray(request.query.name) ? request.query.name : [request.query.name];
        return { items: await whyNames({ catalogFile, policy, schoolId: callerOf(request).schoolId }, names, request.query.group ?? null) };
      },
    );

    app.get(
      '/api/lists/categories',
      {
        config: { access: 'authenticated' },
        schema: {
          tags: ['lists'],
          summary: 'Every category with its name, description, whether unblocking it is a safeguarding decision, and the suggested default per audience',
          response: { 200: z.object({ items: z.array(categoryJson) }) },
        },
      },
      async () => ({ items: allCategories() }),
    );

    app.get(
      '/api/lists/status',
      {
        config: { access: 'filter.policy.read' },
        schema: {
          tags: ['lists'],
          summary: 'Whether a licensed illegal-content feed is in service (red until one is), and lists whose latest check failed',
          response: { 200: healthJson },
        },
      },
      async () => ({ ...status.current(), refresh: refresher.state() }),
    );

    app.post(
      '/api/lists/refresh',
      {
        config: { access: 'filter.policy.write' },
        schema: {
          tags: ['lists'],
          summary: 'Refresh the lists now (in the background; follow it in GET /api/lists/status)',
          response: { 202: z.object({ started: z.boolean() }) },
        },
      },
      async (request, reply) => {
        const running = refresher.state().running;
        if (!running) {
          const caller = callerOf(request);
          void refresher.runNow(`by ${actorOf(caller, request.ip).label}`);
        }
        return reply.code(202).send({ started: !running });
      },
    );
  };
}
