/**
 * The route guard: every request passes here before its handler. It finds the
 * caller, insists on two-factor where the role requires it, checks the CSRF
 * token on every state-changing request, and checks the route's permission.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../auth/auth.context.ts';
import { DomainError, forbidden, unauthenticated } from '../shared/errors.ts';
import type { Authenticate } from './server.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What the caller still has to do before using the app, by sign-in step. */
const PENDING_STEP: Record<string, string> = {
  mfa: 'Finish two-factor sign-in first',
  mfa_setup: 'Set up two-factor sign-in first: your role requires it',
  change_password: 'Choose a new password first',
};

/** The header the web app sends the session's CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

export function guard(authenticate: Authenticate) {
  return async function checkAccess(request: FastifyRequest) {
    const access = request.routeOptions.config?.access;
    if (access === undefined || access === 'open') return; // not-found handler, static files, DoH, block page
    const auth = await authenticate(request);
    request.auth = auth;
    if (access === 'public') return;
    if (!auth) throw unauthenticated();
    if (!SAFE_METHODS.has(request.method)) checkCsrf(request, auth);
    if (access === 'session') return;
    if (!auth.mfaSatisfied) {
      throw new DomainError('mfa_required', PENDING_STEP[auth.step ?? 'mfa'] ?? PENDING_STEP.mfa);
    }
    if (access === 'authenticated') return;
    if (!auth.permissions.has(access)) throw forbidden();
  };
}

function checkCsrf(request: FastifyRequest, auth: AuthContext) {
  const sent = request.headers[CSRF_HEADER];
  const expected = Buffer.from(auth.csrfToken);
  const given = Buffer.from(typeof sent === 'string' ? sent : '');
  // Constant-time, so the token cannot be learned a character at a time.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new DomainError('csrf', 'This request did not carry a valid CSRF token: reload the page and try again');
  }
}

/** The signed-in caller of a guarded route (never null past the guard). */
export function callerOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthenticated();
  return request.auth;
}
