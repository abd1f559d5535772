// PLACEHOLDER: replaced by the auth implementation (sessions, passwords, TOTP, OIDC).
import type { FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/audit.service.ts';
import type { Config } from '../config/config.ts';
import type { PeopleService } from '../people/people.service.ts';
import type { SchoolsService } from '../schools/schools.service.ts';
import type { Store } from '../store/store.ts';
import type { AuthContext } from './auth.context.ts';

export interface AuthService {
  authenticate(request: FastifyRequest): Promise<AuthContext | null>;
  createFirstAdmin(schoolId: string): Promise<{ login: string; password: string }>;
}

export function createAuthService(_deps: {
  store: Store;
  audit: AuditLog;
  schools: SchoolsService;
  people: PeopleService;
  config: Config['auth'];
  publicUrl?: string;
}): AuthService {
  return { authenticate: async () => null, createFirstAdmin: async () => ({ login: '(not yet)', password: '(not yet)' }) };
}
