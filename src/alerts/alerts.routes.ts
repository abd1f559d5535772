/** System alert routes: admins, DSLs and heads see them; admins dismiss them with a reason. */
import { z } from 'zod';
import { actorOf } from '../auth/auth.context.ts';
import { callerOf } from '../http/guard.ts';
import type { App } from '../http/server.ts';
import type { SystemAlerts } from './alerts.service.ts';

const alertJson = z.object({
  id: z.string(),
  schoolId: z.string().nullable(),
  source: z.string(),
  key: z.string(),
  severity: z.enum(['critical', 'warning']),
  title: z.string(),
  detail: z.string(),
  firstAt: z.string(),
  lastAt: z.string(),
  times: z.number(),
  resolvedAt: z.string().nullable(),
  resolvedBy: z.string().nullable(),
});

/** JSON of one system alert. */
export type SystemAlertJson = z.infer<typeof alertJson>;

const tags = ['alerts'];

/** Mounts /api/alerts. */
export function alertsRoutes(alerts: SystemAlerts) {
  return (app: App) => {
    app.get(
      '/api/alerts',
      {
        config: { access: 'filter.policy.read' },
        schema: {
          tags,
          summary: 'System alerts (problems with Schoolgate itself), open ones by default, newest first',
          querystring: z.object({ include: z.enum(['open', 'all']).default('open'), limit: z.coerce.number().int().min(1).max(1000).default(200) }),
          response: { 200: z.object({ items: z.array(alertJson) }) },
        },
      },
      async (request) => ({ items: await alerts.list(callerOf(request).schoolId, { open: request.query.include === 'open', limit: request.query.limit }) }),
    );
    app.post(
      '/api/alerts/:id/dismiss',
      {
        config: { access: 'filter.policy.write' },
        schema: {
          tags,
          summary: 'Dismiss an open alert, saying why (it opens again if the problem comes back)',
          params: z.object({ id: z.string().min(1).max(100) }),
          body: z.object({ reason: z.string().trim().min(3).max(1000) }),
          response: { 200: alertJson },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        return alerts.dismiss(actorOf(caller, request.ip), caller.schoolId, request.params.id, request.body.reason);
      },
    );
  };
}
