/** The store contract: the same behaviour from the SQLite file and from PostgreSQL. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/support/dialects.ts';
import { createStore, migrate, type Store } from './store.ts';

const school = (id: string) => ({ id, name: `School ${id}`, urn: null, timezone: 'Europe/London', settings: '{}', created_at: new Date().toISOString() });

for (const d of DIALECTS) {
  describe(`store contract (${d.name})`, { skip: d.skip }, () => {
    let database: TestDatabase;
    let store: Store;
    before(async () => {
      database = await createTestDatabase(d.name);
      store = await createStore(database.storeOptions);
    });
    after(async () => {
      await store?.close();
      await database?.drop();
    });

    it('applies every migration once and is a no-op the second time', async () => {
      assert.deepEqual(await migrate(store.db), []);
      const tables = (await store.db.introspection.getTables()).map((t) => t.name);
      for (const table of ['schools', 'people', 'groups', 'networks', 'accounts', 'sessions', 'audit_log']) {
        assert.ok(tables.includes(table), `${table} exists`);
      }
    });

    it('gives back timestamps, dates and flags in the same shape on both dialects', async () => {
      await store.db.insertInto('schools').values(school('s1')).execute();
      const now = '2026-11-24T15:08:00.123Z';
      await store.db
        .insertInto('people')
        .values({
          id: 'p1', school_id: 's1', kind: 'pupil', mis_id: 'A1', given_name: 'Ada', family_name: 'Lovelace',
          preferred_name: null, email: null, date_of_birth: '2012-03-09', year_group: '9', registration_group: '9B',
          start_date: '2023-09-04', leave_date: null, created_at: now, updated_at: now,
        })
        .execute();
      const row = await store.db.selectFrom('people').selectAll().where('id', '=', 'p1').executeTakeFirstOrThrow();
      assert.equal(row.created_at, now);
      assert.equal(row.date_of_birth, '2012-03-09');
      await store.db
        .insertInto('parent_links')
        .values({ id: 'l1', school_id: 's1', parent_id: 'p1', child_id: 'p1', relationship: 'mother', parental_responsibility: 1, contact_priority: null, created_at: now })
        .execute();
      const link = await store.db.selectFrom('parent_links').selectAll().executeTakeFirstOrThrow();
      assert.strictEqual(link.parental_responsibility, 1);
    });

    it('rolls back every write of a failed transaction', async () => {
      await assert.rejects(
        store.db.transaction().execute(async (trx) => {
          await trx.insertInto('schools').values(school('s2')).execute();
          await trx.insertInto('schools').values(school('s2')).execute(); // duplicate key
        }),
      );
      const found = await store.db.selectFrom('schools').select('id').where('id', '=', 's2').execute();
      assert.deepEqual(found, []);
    });

    it('enforces the unique MIS id per school', async () => {
      const now = new Date().toISOString();
      const person = { id: 'p2', school_id: 's1', kind: 'pupil' as const, mis_id: 'A1', given_name: 'B', family_name: 'C',
        preferred_name: null, email: null, date_of_birth: null, year_group: null, registration_group: null,
        start_date: null, leave_date: null, created_at: now, updated_at: now };
      await assert.rejects(store.db.insertInto('people').values(person).execute());
    });

    if (d.name === 'sqlite') {
      it('runs SQLite in WAL mode with a busy timeout and foreign keys', async () => {
        const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
        assert.equal(mode.rows[0].journal_mode, 'wal');
        const timeout = await sql<{ timeout: number }>`pragma busy_timeout`.execute(store.db);
        assert.ok(Number(Object.values(timeout.rows[0])[0]) > 0);
        await assert.rejects(
          store.db.insertInto('groups').values({ id: 'g', school_id: 'missing', kind: 'custom', name: 'x', description: null, parent_id: null, created_at: 'x', updated_at: 'x' }).execute(),
          /FOREIGN KEY/,
        );
      });
    }
  });
}
