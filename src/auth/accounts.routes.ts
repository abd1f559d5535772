/** The users & roles page's routes (`/api/accounts`) and the password policy (`/api/settings/password-policy`). */
import { z } from 'zod';
import { actorOf } from './auth.context.ts';
import { callerOf } from '../http/guard.ts';
import type { App } from '../http/server.ts';
import type { AuthService } from './auth.service.ts';
import { POLICY_LIMITS } from './auth.policy.ts';
import { ROLES } from './permissions.ts';

const accountSchema = z.object({
  id: z.string(),
  login: z.string(),
  name: z.string(),
  personId: z.string(),
  roles: z.array(z.enum(ROLES)),
  mfaEnabled: z.boolean(),
  lockedUntil: z.string().nullable(),
  lastSignInAt: z.string().nullable(),
  disabled: z.boolean(),
});

const policySchema = z.object({
  minLength: z.number().int().min(POLICY_LIMITS.minLength.min).max(POLICY_LIMITS.minLength.max),
  checkBreached: z.boolean(),
  expiryDays: z.number().int().min(POLICY_LIMITS.expiryDays.min).max(POLICY_LIMITS.expiryDays.max).nullable(),
});

const idParams = z.object({ id: z.string().min(1).max(64) });
const roles = z.array(z.enum(ROLES)).max(ROLES.length);

/** Account management and password-policy routes. */
export function accountsRoutes(auth: AuthService) {
  return (app: App) => {
    app.get(
      '/api/accounts',
      {
        config: { access: 'accounts.read' },
        schema: {
          tags: ['accounts'],
          summary: 'Accounts of the school, searched by sign-in name or person’s name',
          querystring: z.object({
            q: z.string().max(200).optional(),
            page: z.coerce.number().int().min(1).default(1),
            pageSize: z.coerce.number().int().min(1).max(200).default(50),
          }),
          response: { 200: z.object({ items: z.array(accountSchema), total: z.number(), page: z.number(), pageSize: z.number() }) },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        const { q, page, pageSize } = request.query;
        const result = await auth.listAccounts(caller.schoolId, { q, page, pageSize });
        return { ...result, page, pageSize };
      },
    );

    app.post(
      '/api/accounts',
      {
        config: { access: 'accounts.write' },
        schema: {
          tags: ['accounts'],
          summary: 'Create an account for a person; returns a one-time password, shown once',
          body: z.object({ personId: z.string().min(1).max(64), login: z.string().min(1).max(254), roles }),
          response: { 200: z.object({ account: accountSchema, oneTimePassword: z.string() }) },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        reply.header('cache-control', 'no-store');
        return auth.createAccount(actorOf(caller, request.ip), caller.schoolId, request.body);
      },
    );

    app.patch(
      '/api/accounts/:id',
      {
        config: { access: 'accounts.write' },
        schema: {
          tags: ['accounts'],
          summary: 'Change an account’s roles, or disable or enable it',
          params: idParams,
          body: z.object({ roles: roles.optional(), disabled: z.boolean().optional() }),
          response: { 200: z.object({ account: accountSchema }) },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        return { account: await auth.updateAccount(caller, actorOf(caller, request.ip), request.params.id, request.body) };
      },
    );

    const action = (path: string, summary: string, run: (actor: ReturnType<typeof actorOf>, schoolId: string, id: string) => Promise<{ account: z.infer<typeof accountSchema>; oneTimePassword?: string }>) =>
      app.post(
        `/api/accounts/:id/${path}`,
        {
          config: { access: 'accounts.write' },
          schema: {
            tags: ['accounts'],
            summary,
            params: idParams,
            response: { 200: z.object({ account: accountSchema, oneTimePassword: z.string().optional() }) },
          },
        },
        async (request, reply) => {
          const caller = callerOf(request);
          reply.header('cache-control', 'no-store');
          return run(actorOf(caller, request.ip), caller.schoolId, request.params.id);
        },
      );
    action('unlock', 'Unlock an account locked after wrong passwords', async (a, s, id) => ({ account: await auth.unlockAccount(a, s, id) }));
    action('reset-mfa', 'Remove an account’s two-factor setup (they set it up again at next sign-in)', async (a, s, id) => ({ account: await auth.resetMfa(a, s, id) }));
    action('reset-password', 'Give an account a one-time password (signs it out everywhere)', (a, s, id) => auth.resetPassword(a, s, id));

    app.get(
      '/api/settings/password-policy',
      {
        config: { access: 'settings.read' },
        schema: { tags: ['settings'], summary: 'The school’s password rules', response: { 200: policySchema } },
      },
      async (request) => auth.passwordPolicy(callerOf(request).schoolId),
    );

    app.put(
      '/api/settings/password-policy',
      {
        config: { access: 'settings.write' },
        schema: { tags: ['settings'], summary: 'Change the school’s password rules', body: policySchema, response: { 200: policySchema } },
      },
      async (request) => {
        const caller = callerOf(request);
        return auth.setPasswordPolicy(actorOf(caller, request.ip), caller.schoolId, request.body);
      },
    );
  };
}
