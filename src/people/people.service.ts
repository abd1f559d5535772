// PLACEHOLDER: replaced by the people implementation (people, groups, networks, import).
import type { AuditLog } from '../audit/audit.service.ts';
import type { Store } from '../store/store.ts';

export interface PeopleService {}

export function createPeopleService(_deps: { store: Store; audit: AuditLog }): PeopleService {
  return {};
}
