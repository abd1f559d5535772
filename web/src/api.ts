/**
 * The one HTTP client of the web app. It sends the session's CSRF token on
 * every state-changing request and turns error bodies into an `ApiError`
 * carrying the server's `issues`, so forms can show each message beside the
 * field it names.
 */

import type { GroupJson as Group, LinkJson as PersonLink, PersonJson as Person } from '../../src/people/people.schema.ts';

/** One problem with input, as the server reports it (`where` names a field or `file:line`). */
export interface Issue {
  where: string;
  message: string;
}

/** A failed API call: the server's error code, message and issues. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: Issue[];
  readonly requestId: string | undefined;
  constructor(status: number, code: string, message: string, issues: Issue[] = [], requestId?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.issues = issues;
    this.requestId = requestId;
  }
}

let csrfToken = '';
let onSignedOut: (() => void) | null = null;

/** Remembers the session's CSRF token (from sign-in or /api/auth/me). */
export function setCsrfToken(token: string) {
  csrfToken = token;
}

/** Called when a call finds the session gone, so the app can show the sign-in page. */
export function onSessionEnded(handler: (() => void) | null) {
  onSignedOut = handler;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Calls the API; resolves to the JSON body or throws an ApiError. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (MUTATING.has(method) && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'network', 'Could not reach Schoolgate. Check your connection and try again.');
  }
  const text = await response.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!response.ok) {
    const err = (data ?? {}) as { error?: string; message?: string; issues?: Issue[]; requestId?: string };
    const error = new ApiError(
      response.status,
      err.error ?? 'internal',
      err.message ?? `The server answered ${response.status} ${response.statusText}`,
      Array.isArray(err.issues) ? err.issues : [],
      err.requestId,
    );
    // A session that expired mid-use sends the person back to sign in, except
    // for the sign-in calls themselves, whose 401 means wrong credentials.
    if (error.code === 'unauthenticated' && !path.startsWith('/api/auth/') && onSignedOut) onSignedOut();
    throw error;
  }
  return data as T;
}

/** Builds a query string from the values that are set. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// ---- Shapes from the API contract (docs: notes/api-contract.md) ----

/** What `/api/auth/sign-in` and the other sign-in steps say to do next. */
export type NextStep = 'mfa' | 'mfa_setup' | 'change_password' | 'done';

export interface Me {
  account: {
    id: string;
    login: string;
    name: string;
    personId: string | null;
    roles: string[];
    permissions: string[];
    mustChangePassword: boolean;
    mfa: { enabled: boolean; required: boolean; satisfied: boolean };
  };
  school: { id: string; name: string };
  csrfToken: string;
}

// The JSON shapes below come from the server's own schemas and types, so the two cannot drift apart.
export type { PersonJson as Person, LinkJson as PersonLink, GroupJson as Group, NetworkJson as Network } from '../../src/people/people.schema.ts';
export type { Page } from '../../src/people/people.service.ts';
export type { PreviewResult as ImportPreview, ApplyResult as ImportResult } from '../../src/people/people.import.ts';

export interface PersonDetail {
  person: Person;
  groups: { id: string; name: string; kind: string }[];
  parents: PersonLink[];
  children: PersonLink[];
}

export interface GroupDetail {
  group: Group;
  members: { items: Person[]; total: number; page?: number; pageSize?: number };
  children: Group[];
}

export interface ImportPreset {
  id: string;
  name: string;
  columns: Record<string, string>;
}

export interface Account {
  id: string;
  login: string;
  name: string;
  personId: string | null;
  roles: string[];
  mfaEnabled: boolean;
  lockedUntil: string | null;
  lastSignInAt: string | null;
  disabled: boolean;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
}

export interface PasswordPolicy {
  minLength: number;
  checkBreached: boolean;
  expiryDays: number | null;
}

// ---- Filtering policy (the policy and lists modules' own view types) ----
export type { CategoryJson as FilterCategory } from '../../src/lists/lists.routes.ts';
export type {
  GroupPolicyView as FilterGroupPolicy,
  EntryView as FilterEntry,
  ScheduleView as FilterSchedule,
  CalendarView as FilterCalendar,
  ExemptionView as FilterExemption,
  SanctionView as FilterSanction,
} from '../../src/policy/policy.service.ts';
export type { Device } from '../../src/devices/devices.service.ts';
