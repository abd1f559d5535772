// PLACEHOLDER: replaced by the people implementation.
import type { App } from '../http/server.ts';
import type { PeopleService } from './people.service.ts';

export function peopleRoutes(_people: PeopleService) {
  return (_app: App) => {};
}
