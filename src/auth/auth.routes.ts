// PLACEHOLDER: replaced by the auth implementation.
import type { App } from '../http/server.ts';
import type { AuthService } from './auth.service.ts';

export function authRoutes(_auth: AuthService) {
  return (_app: App) => {};
}
