/** Audit log routes: read-only, for admins and heads. */
import { z } from 'zod';
import { callerOf } from '../http/guard.ts';
import type { App } from '../http/server.ts';
import type { AuditLog } from './audit.service.ts';

const entrySchema = z.object({
  seq: z.number(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

export function auditRoutes(audit: AuditLog) {
  return (app: App) => {
    app.get(
      '/api/audit',
      {
        config: { access: 'audit.read' },
        schema: {
          tags: ['audit'],
          summary: 'Newest audit entries for the caller’s school',
          querystring: z.object({
            limit: z.coerce.number().int().min(1).max(500).default(100),
            before: z.coerce.number().int().positive().optional(),
            targetType: z.string().optional(),
            targetId: z.string().optional(),
          }),
          response: { 200: z.object({ entries: z.array(entrySchema) }) },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        const rows = await audit.list(caller.schoolId, request.query);
        return {
          entries: rows.map((r) => ({
            seq: Number(r.seq),
            at: r.at,
            actor: r.actor_label,
            action: r.action,
            targetType: r.target_type,
            targetId: r.target_id,
            details: JSON.parse(r.details) as Record<string, unknown>,
          })),
        };
      },
    );
  };
}
