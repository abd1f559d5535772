/**
 * Sign-in routes (`/api/auth/*`): password sign-in, two-factor, password
 * change, sign-out, single sign-on. The account and password-policy routes
 * are in accounts.routes.ts and registered from here (app.ts adds one module).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { callerOf } from '../http/guard.ts';
import type { App } from '../http/server.ts';
import { accountsRoutes } from './accounts.routes.ts';
import { MAX_PASSWORD_LENGTH } from './auth.passwords.ts';
import type { AuthService, ClientInfo } from './auth.service.ts';
import { isSecureRequest, readSessionToken, setSessionCookie, clearSessionCookie } from './auth.sessions.ts';
import { SSO_PROVIDERS, SsoRefused } from './auth.sso.ts';

const nextSchema = z.enum(['mfa', 'mfa_setup', 'change_password', 'done']);
const SSO_COOKIE = 'sg_sso';
const SSO_COOKIE_PATH = '/api/auth/sso';

const clientOf = (request: FastifyRequest): ClientInfo => ({
  ip: request.ip ?? null,
  userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : null,
  previousToken: readSessionToken(request),
});

/** The base of our own URLs: the configured public URL, else what the request was sent to. */
const baseUrlOf = (request: FastifyRequest, publicUrl?: string) => (publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');

/** The sign-in routes (and, through them, the account routes). */
export function authRoutes(auth: AuthService, options: { publicUrl?: string } = {}) {
  return async (app: App) => {
    app.get(
      '/api/auth/providers',
      {
        config: { access: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Single sign-on providers configured on this server',
          response: { 200: z.object({ providers: z.array(z.object({ id: z.enum(SSO_PROVIDERS), name: z.string() })) }) },
        },
      },
      async () => ({ providers: auth.providers() }),
    );

    app.post(
      '/api/auth/sign-in',
      {
        config: { access: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Sign in with a sign-in name and password; sets a fresh session cookie',
          body: z.object({ login: z.string().min(1).max(254), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) }),
          response: { 200: z.object({ next: nextSchema, csrfToken: z.string() }) },
        },
      },
      async (request, reply) => {
        const issued = await auth.signIn(request.body.login, request.body.password, clientOf(request));
        setSessionCookie(reply, request, issued.token);
        return { next: issued.next, csrfToken: issued.csrfToken };
      },
    );

    app.get(
      '/api/auth/me',
      {
        config: { access: 'session' },
        schema: {
          tags: ['auth'],
          summary: 'The signed-in caller, their permissions and sign-in state',
          response: {
            200: z.object({
              account: z.object({
                id: z.string(),
                login: z.string(),
                name: z.string(),
                personId: z.string(),
                roles: z.array(z.string()),
                permissions: z.array(z.string()),
                mustChangePassword: z.boolean(),
                mfa: z.object({ enabled: z.boolean(), required: z.boolean(), satisfied: z.boolean() }),
              }),
              school: z.object({ id: z.string(), name: z.string() }),
              csrfToken: z.string(),
            }),
          },
        },
      },
      async (request) => auth.me(callerOf(request)),
    );

    app.post(
      '/api/auth/mfa/verify',
      {
        config: { access: 'session' },
        schema: {
          tags: ['auth'],
          summary: 'Second sign-in step: a 6-digit authenticator code or a recovery code',
          body: z.object({ code: z.string().min(1).max(64) }),
          response: { 200: z.object({ next: nextSchema }) },
        },
      },
      async (request, reply) => {
        const result = await auth.verifyMfa(callerOf(request), request.body.code, clientOf(request));
        if (result.token) setSessionCookie(reply, request, result.token);
        return { next: result.next };
      },
    );

    app.post(
      '/api/auth/mfa/setup',
      {
        config: { access: 'session' },
        schema: {
          tags: ['auth'],
          summary: 'Start (or restart) setting up an authenticator app',
          response: { 200: z.object({ secret: z.string(), otpauthUrl: z.string(), qrDataUrl: z.string() }) },
        },
      },
      async (request, reply) => {
        // The secret must not sit in a cache on the way.
        reply.header('cache-control', 'no-store');
        return auth.setupMfa(callerOf(request), clientOf(request));
      },
    );

    app.post(
      '/api/auth/mfa/confirm',
      {
        config: { access: 'session' },
        schema: {
          tags: ['auth'],
          summary: 'Finish authenticator setup with a code; returns ten recovery codes, shown once',
          body: z.object({ code: z.string().min(1).max(16) }),
          response: { 200: z.object({ recoveryCodes: z.array(z.string()), next: nextSchema }) },
        },
      },
      async (request, reply) => {
        const result = await auth.confirmMfa(callerOf(request), request.body.code, clientOf(request));
        setSessionCookie(reply, request, result.token);
        reply.header('cache-control', 'no-store');
        return { recoveryCodes: result.recoveryCodes, next: result.next };
      },
    );

    app.post(
      '/api/auth/password',
      {
        config: { access: 'session' },
        schema: {
          tags: ['auth'],
          summary: 'Change your password (required after a one-time password)',
          body: z.object({ currentPassword: z.string().min(1).max(MAX_PASSWORD_LENGTH), newPassword: z.string().min(1).max(1000) }),
          response: { 200: z.object({ next: nextSchema }) },
        },
      },
      async (request) => auth.changePassword(callerOf(request), request.body.currentPassword, request.body.newPassword, clientOf(request)),
    );

    app.post(
      '/api/auth/sign-out',
      {
        config: { access: 'session' },
        schema: { tags: ['auth'], summary: 'Sign out (ends this session)', response: { 200: z.object({ ok: z.literal(true) }) } },
      },
      async (request, reply) => {
        await auth.signOut(callerOf(request), clientOf(request));
        clearSessionCookie(reply, request);
        return { ok: true as const };
      },
    );

    const providerParams = z.object({ provider: z.string() });

    app.get(
      '/api/auth/sso/:provider/start',
      {
        config: { access: 'public' },
        schema: { tags: ['auth'], summary: 'Start single sign-on: redirects to the provider', params: providerParams },
      },
      async (request, reply) => {
        const redirectUri = `${baseUrlOf(request, options.publicUrl ?? auth.publicUrl)}/api/auth/sso/${request.params.provider}/callback`;
        try {
          const { url, cookie } = await auth.ssoStart(request.params.provider, redirectUri);
          reply.setCookie(SSO_COOKIE, cookie, { httpOnly: true, sameSite: 'lax', secure: isSecureRequest(request), path: SSO_COOKIE_PATH, maxAge: 600 });
          return reply.redirect(url, 302);
        } catch (error) {
          request.log.warn({ err: error, provider: request.params.provider }, 'single sign-on could not start');
          return signInError(reply, error instanceof SsoRefused || (error as { code?: string }).code === 'not_found' ? (error as Error).message : 'The sign-in provider could not be reached; try again later');
        }
      },
    );

    app.get(
      '/api/auth/sso/:provider/callback',
      {
        config: { access: 'public' },
        schema: { tags: ['auth'], summary: 'Where the provider sends the browser back; redirects to the app', params: providerParams },
      },
      async (request, reply) => {
        const cookie = request.cookies[SSO_COOKIE];
        reply.clearCookie(SSO_COOKIE, { path: SSO_COOKIE_PATH });
        const callbackUrl = new URL(request.url, `${baseUrlOf(request, options.publicUrl ?? auth.publicUrl)}/`);
        try {
          const { token } = await auth.ssoFinish(request.params.provider, callbackUrl, cookie, clientOf(request));
          setSessionCookie(reply, request, token);
          return reply.redirect('/', 302);
        } catch (error) {
          if (error instanceof SsoRefused) return signInError(reply, error.message);
          request.log.error({ err: error, provider: request.params.provider }, 'single sign-on failed');
          return signInError(reply, 'Sign-in failed on the server; try again or use your password');
        }
      },
    );

    await accountsRoutes(auth)(app);
  };
}

function signInError(reply: FastifyReply, message: string) {
  return reply.redirect(`/sign-in?error=${encodeURIComponent(message)}`, 302);
}
