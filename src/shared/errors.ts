/**
 * The catalogue of domain errors. Services throw these, never HTTP errors; the
 * HTTP layer maps `code` to a status in one place (src/http/errors.ts) and the
 * CLI prints `message` and exits non-zero.
 */

/** Stable error codes: the API's `error` field and the CLI's exit reason. */
export type ErrorCode =
  | 'validation'
  | 'not_found'
  | 'forbidden'
  | 'unauthenticated'
  | 'conflict'
  | 'rate_limited'
  | 'locked'
  | 'mfa_required'
  | 'csrf'
  | 'payload_too_large'
  | 'config'
  | 'integrity';

/** One problem with input, located by field (`leave_date`) or place (`people.csv:14`). */
export interface Issue {
  /** Where the problem is: a field path, a `file:line`, or `line 14, column date_of_birth`. */
  where: string;
  /** What is wrong, in words a school's admin can act on. */
  message: string;
}

/** A failure the caller can understand and act on. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly issues: Issue[];
  constructor(code: ErrorCode, message: string, issues: Issue[] = []) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.issues = issues;
  }
}

/** Input that failed validation; each issue says where. */
export const invalid = (message: string, issues: Issue[] = []) => new DomainError('validation', message, issues);
/** A record that does not exist, or that the caller may not know exists. */
export const notFound = (what: string) => new DomainError('not_found', `${what} not found`);
/** The caller is known but may not do this. */
export const forbidden = (message = 'You do not have permission to do that') => new DomainError('forbidden', message);
/** No valid session or credentials. */
export const unauthenticated = (message = 'Sign in to continue') => new DomainError('unauthenticated', message);
/** The change clashes with what is stored (a duplicate, a stale version). */
export const conflict = (message: string) => new DomainError('conflict', message);

/** Formats issues one per line for terminals and logs. */
export function formatIssues(error: DomainError): string {
  if (error.issues.length === 0) return error.message;
  return [error.message, ...error.issues.map((i) => `  ${i.where}: ${i.message}`)].join('\n');
}
