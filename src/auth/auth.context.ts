/**
 * What a request knows about its caller once the session is checked. The auth
 * module fills it in; routes and services only read it.
 */
import type { Actor } from '../audit/audit.service.ts';
import type { Permission, Role } from './permissions.ts';

/** A signed-in caller. */
export interface AuthContext {
  accountId: string;
  personId: string;
  schoolId: string;
  /** Display name for audit entries and the app's header. */
  name: string;
  roles: Role[];
  permissions: Set<Permission>;
  /** False while the account still has to pass (or set up) two-factor. */
  mfaSatisfied: boolean;
  sessionId: string;
  csrfToken: string;
  /**
   * The next sign-in step (`done` once fully signed in). `mfaSatisfied` is true
   * only at `done`: a one-time or expired password also keeps the caller to
   * the sign-in steps until it is changed. Optional so hand-made contexts stay valid.
   */
  step?: 'mfa' | 'mfa_setup' | 'change_password' | 'done';
}

/** The audit actor for a signed-in caller. */
export function actorOf(auth: AuthContext, ip?: string | null): Actor {
  return { id: auth.accountId, label: `${auth.name} (${auth.roles.join(', ') || 'no role'})`, ip: ip ?? null };
}

/** The audit actor for the command line. */
export const CLI_ACTOR: Actor = { id: null, label: 'command line' };
/** The audit actor for start-up and scheduled jobs. */
export const SYSTEM_ACTOR: Actor = { id: null, label: 'system' };
