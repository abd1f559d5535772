/**
 * Sessions: a random 256-bit token lives only in the `sg_session` cookie; the
 * database keeps its SHA-256, so a copy of the database cannot be replayed as
 * a cookie. Expiry is the earlier of idle expiry and absolute expiry.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SessionsTable } from './auth.tables.ts';
import { randomToken, sha256Hex } from './auth.crypto.ts';

/** The session cookie's name (the API contract). */
export const SESSION_COOKIE = 'sg_session';

/** Idle and absolute lifetimes from config. */
export interface SessionLifetimes {
  idleMinutes: number;
  absoluteHours: number;
}

/** Whether the request came over HTTPS (directly, or via a trusted proxy's header). */
export const isSecureRequest = (request: FastifyRequest) => request.protocol === 'https';

/** The session token from the request's cookie, if it looks like one of ours. */
export function readSessionToken(request: FastifyRequest): string | undefined {
  const token = request.cookies?.[SESSION_COOKIE];
  return typeof token === 'string' && /^[A-Za-z0-9_-]{43}$/.test(token) ? token : undefined;
}

/** Sets the session cookie: httpOnly, SameSite=Lax, Secure over HTTPS, whole site. */
export function setSessionCookie(reply: FastifyReply, request: FastifyRequest, token: string) {
  reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure: isSecureRequest(request), path: '/' });
}

/** Removes the session cookie from the browser. */
export function clearSessionCookie(reply: FastifyReply, request: FastifyRequest) {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: isSecureRequest(request), path: '/' });
}

/** When a session seen at `now` expires: idle expiry, capped by absolute expiry from its creation. */
export function expiryOf(createdAt: string, now: Date, lifetimes: SessionLifetimes): string {
  const idle = now.getTime() + lifetimes.idleMinutes * 60_000;
  const absolute = Date.parse(createdAt) + lifetimes.absoluteHours * 3_600_000;
  return new Date(Math.min(idle, absolute)).toISOString();
}

/** A new session row and the token for its cookie (the row holds only the token's hash). */
export function newSession(input: {
  accountId: string;
  schoolId: string;
  method: 'password' | 'sso';
  mfaPassed: boolean;
  ip: string | null;
  userAgent: string | null;
  lifetimes: SessionLifetimes;
  /** Keep the CSRF token across a rotation, so the web app's copy stays valid. */
  csrfToken?: string;
  /** Keep the original creation time across a rotation, so rotation never extends absolute expiry. */
  createdAt?: string;
}): { token: string; row: SessionsTable } {
  const token = randomToken(32);
  const now = new Date();
  const createdAt = input.createdAt ?? now.toISOString();
  return {
    token,
    row: {
      id: sha256Hex(token),
      account_id: input.accountId,
      school_id: input.schoolId,
      csrf_token: input.csrfToken ?? randomToken(32),
      mfa_passed: input.mfaPassed ? 1 : 0,
      ip: input.ip,
      user_agent: input.userAgent?.slice(0, 300) ?? null,
      created_at: createdAt,
      last_seen_at: now.toISOString(),
      expires_at: expiryOf(createdAt, now, input.lifetimes),
      method: input.method,
    },
  };
}
