/**
 * The permission matrix: which role may do what. One table in code, read by
 * the route guard, the web app (through `/api/me`) and the tests that walk
 * every route. A person may hold several roles; their permissions are the union.
 */

/** Every role a school account can hold. */
export const ROLES = ['admin', 'dsl', 'head', 'staff', 'governor', 'pupil', 'parent', 'visitor'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that must use two-factor sign-in (they can see safeguarding data or change the filter). */
export const MFA_REQUIRED_ROLES: readonly Role[] = ['admin', 'dsl', 'head'];

/** Every permission a route can require. */
export const PERMISSIONS = [
  'people.read',
  'people.write',
  'people.import',
  'groups.read',
  'groups.write',
  'networks.read',
  'networks.write',
  'accounts.read',
  'accounts.write',
  'audit.read',
  'settings.read',
  'settings.write',
  'filter.policy.read',
  'filter.policy.write',
  /** Run filter checks and record their follow-up actions (the DfE check log). */
  'filter.checks',
  'devices.read',
  'devices.write',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * What a route may declare: a permission, `authenticated` (any signed-in
 * account that has passed two-factor where required), `session` (signed in,
 * possibly still mid two-factor: the sign-in steps themselves), `public`, or
 * `open`: public without even reading a session (DNS-over-HTTPS, the block page).
 */
export type RouteAccess = Permission | 'authenticated' | 'session' | 'public' | 'open';

/** Roles × permissions. Least privilege: a role gets only what its work needs. */
export const MATRIX: Record<Role, readonly Permission[]> = {
  admin: [
    'people.read', 'people.write', 'people.import', 'groups.read', 'groups.write',
    'networks.read', 'networks.write', 'accounts.read', 'accounts.write', 'audit.read',
    'settings.read', 'settings.write',
    'filter.policy.read', 'filter.policy.write', 'filter.checks', 'devices.read', 'devices.write',
  ],
  // The DSL and the head take part in the filtering review's checks (DfE standard 2), so they run them too.
  dsl: ['people.read', 'groups.read', 'filter.policy.read', 'filter.checks'],
  head: ['people.read', 'groups.read', 'networks.read', 'accounts.read', 'audit.read', 'settings.read', 'filter.policy.read', 'filter.checks'],
  staff: [],
  governor: [],
  pupil: [],
  parent: [],
  visitor: [],
};

/** The union of the permissions of some roles. */
export function permissionsOf(roles: readonly Role[]): Set<Permission> {
  return new Set(roles.flatMap((role) => MATRIX[role] ?? []));
}

/** Whether any of these roles must pass two-factor before using the app. */
export const requiresMfa = (roles: readonly Role[]) => roles.some((r) => MFA_REQUIRED_ROLES.includes(r));
