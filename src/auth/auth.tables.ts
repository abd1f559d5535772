/** Row types of the auth module's tables (see migration 0001). */

export interface AccountsTable {
  id: string;
  school_id: string;
  person_id: string;
  /** Lower-cased sign-in name, usually the school email address. */
  login: string;
  password_hash: string | null;
  password_changed_at: string | null;
  must_change_password: number;
  /** Encrypted TOTP secret (never stored in the clear). */
  totp_secret: string | null;
  totp_confirmed_at: string | null;
  /** Encrypted secret of an enrolment not yet confirmed with a code (migration 0200). */
  totp_pending_secret: string | null;
  /** The newest TOTP time step accepted: a code of this step or older is a replay (migration 0200). */
  totp_last_step: number | null;
  failed_attempts: number;
  locked_until: string | null;
  last_sign_in_at: string | null;
  disabled_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface AccountRolesTable {
  account_id: string;
  role: string;
  school_id: string;
  created_at: string;
}

export interface RecoveryCodesTable {
  id: string;
  account_id: string;
  code_hash: string;
  used_at: string | null;
  created_at: string;
}

export interface SessionsTable {
  /** SHA-256 (hex) of the session token: the token itself is only in the cookie. */
  id: string;
  account_id: string;
  school_id: string;
  csrf_token: string;
  mfa_passed: number;
  ip: string | null;
  user_agent: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  /** How the session was signed in: `password` or `sso` (migration 0200). */
  method: 'password' | 'sso';
}

export interface SsoIdentitiesTable {
  id: string;
  school_id: string;
  account_id: string;
  provider: 'google' | 'microsoft';
  issuer: string;
  subject: string;
  email: string | null;
  created_at: string;
}
