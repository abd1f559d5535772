/** Schools: the tenant every record belongs to. */
import { randomUUID } from 'node:crypto';
import type { Actor, AuditLog } from '../audit/audit.service.ts';
import { nowIso } from '../store/column-types.ts';
import type { Store } from '../store/store.ts';
import type { SchoolsTable } from '../schools/schools.tables.ts';

/** A school as the rest of the code sees it. */
export interface School {
  id: string;
  name: string;
  urn: string | null;
  timezone: string;
}

const present = (row: SchoolsTable): School => ({ id: row.id, name: row.name, urn: row.urn, timezone: row.timezone });

export interface SchoolsService {
  list(): Promise<School[]>;
  get(id: string): Promise<School | undefined>;
  create(actor: Actor, input: { name: string; urn?: string | null; timezone?: string }): Promise<School>;
  /** Settings JSON of a school (password policy and the like). */
  settings(id: string): Promise<Record<string, unknown>>;
  updateSettings(actor: Actor, id: string, patch: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export function createSchoolsService(deps: { store: Store; audit: AuditLog }): SchoolsService {
  const { store, audit } = deps;
  return {
    async list() {
      return (await store.db.selectFrom('schools').selectAll().orderBy('name').execute()).map(present);
    },
    async get(id) {
      const row = await store.db.selectFrom('schools').selectAll().where('id', '=', id).executeTakeFirst();
      return row && present(row);
    },
    async create(actor, input) {
      const row: SchoolsTable = {
        id: randomUUID(),
        name: input.name,
        urn: input.urn ?? null,
        timezone: input.timezone ?? 'Europe/London',
        settings: '{}',
        created_at: nowIso(),
      };
      await audit.transaction(async (trx) => {
        await trx.insertInto('schools').values(row).execute();
        await audit.append(trx, actor, { schoolId: row.id, action: 'school.create', targetType: 'school', targetId: row.id, details: { name: row.name, urn: row.urn } });
      });
      return present(row);
    },
    async settings(id) {
      const row = await store.db.selectFrom('schools').select('settings').where('id', '=', id).executeTakeFirst();
      return row ? (JSON.parse(row.settings) as Record<string, unknown>) : {};
    },
    async updateSettings(actor, id, patch) {
      return audit.transaction(async (trx) => {
        const row = await trx.selectFrom('schools').select('settings').where('id', '=', id).executeTakeFirstOrThrow();
        const before = JSON.parse(row.settings) as Record<string, unknown>;
        const after = { ...before, ...patch };
        await trx.updateTable('schools').set({ settings: JSON.stringify(after) }).where('id', '=', id).execute();
        await audit.append(trx, actor, { schoolId: id, action: 'school.settings.update', targetType: 'school', targetId: id, details: { before, after } });
        return after;
      });
    },
  };
}
