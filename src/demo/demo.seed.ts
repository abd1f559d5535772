// PLACEHOLDER: replaced by the demo school seed (pupils, staff, governors, parents, groups, networks).
import type { Schoolgate } from '../app.ts';
import { SYSTEM_ACTOR } from '../auth/auth.context.ts';
import type { School } from '../schools/schools.service.ts';

export async function seedDemoSchool(app: Schoolgate, _options: { onProgress?: (line: string) => void } = {}): Promise<School> {
  return app.schools.create(SYSTEM_ACTOR, { name: 'Oakfield Academy (demo)' });
}
