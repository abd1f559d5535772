/** Routes of the lists module: their health (the illegal feeds' status and list problems). */
import { z } from 'zod';
import type { App } from '../http/server.ts';
import type { ListsStatus } from './lists.status.ts';

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
});

/** JSON of `GET /api/lists/status`. */
export type ListsHealthJson = z.infer<typeof healthJson>;

/** Mounts the lists routes under /api/lists. */
export function listsRoutes(status: ListsStatus) {
  return (app: App) => {
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
      async () => status.current(),
    );
  };
}
