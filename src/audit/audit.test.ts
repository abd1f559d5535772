/** The audit chain catches every kind of tampering, on both dialects. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/support/dialects.ts';
import { createStore, type Store } from '../store/store.ts';
import { type AuditLog, createAuditLog, entryHash } from './audit.service.ts';

const actor = { id: null, label: 'test' };

for (const d of DIALECTS) {
  describe(`audit log (${d.name})`, { skip: d.skip }, () => {
    let database: TestDatabase;
    let store: Store;
    let audit: AuditLog;
    let checkpointFile: string;

    beforeEach(async () => {
      database = await createTestDatabase(d.name);
      store = await createStore(database.storeOptions);
      checkpointFile = path.join(database.dataDir, 'audit.checkpoint');
      audit = createAuditLog({ store, keyFile: path.join(database.dataDir, 'secrets', 'audit.key'), checkpointFile });
      for (let i = 1; i <= 5; i++) {
        await audit.transaction((trx) => audit.append(trx, actor, { schoolId: null, action: `test.${i}`, details: { i } }));
      }
    });
    afterEach(async () => {
      await store.close();
      await database.drop();
    });

    const broken = async () => {
      const result = await audit.verify();
      assert.equal(result.ok, false, 'verify must fail');
      return result as Extract<typeof result, { ok: false }>;
    };

    it('verifies an untouched chain against its checkpoint', async () => {
      assert.deepEqual(await audit.verify(), { ok: true, entries: 5, checkpoint: { seq: 5 } });
    });

    it('names an edited entry', async () => {
      await store.db.updateTable('audit_log').set({ details: '{"i":99}' }).where('seq', '=', 3).execute();
      const result = await broken();
      assert.equal(result.seq, 3);
      assert.match(result.problem, /entry 3 was changed/);
    });

    it('names a deleted entry', async () => {
      await store.db.deleteFrom('audit_log').where('seq', '=', 2).execute();
      const result = await broken();
      assert.equal(result.seq, 2);
      assert.match(result.problem, /entry 2 is missing/);
    });

    it('names reordered entries', async () => {
      await store.db.updateTable('audit_log').set({ seq: 100 }).where('seq', '=', 2).execute();
      await store.db.updateTable('audit_log').set({ seq: 2 }).where('seq', '=', 3).execute();
      await store.db.updateTable('audit_log').set({ seq: 3 }).where('seq', '=', 100).execute();
      const result = await broken();
      assert.equal(result.seq, 2);
    });

    it('catches the newest entries being removed', async () => {
      await store.db.deleteFrom('audit_log').where('seq', '>=', 4).execute();
      const result = await broken();
      assert.match(result.problem, /newest entries were removed/);
      assert.equal(result.seq, 4);
    });

    it('catches a chain recomputed from an edit onwards (the key is not in the database)', async () => {
      const rows = await store.db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
      let prev = rows[1].prev_hash;
      for (const row of rows.slice(1)) {
        const forged = { ...row, seq: Number(row.seq), details: row.seq === 2 ? '{"i":"forged"}' : row.details, prev_hash: prev };
        const { hash: _old, ...fields } = forged;
        const hash = entryHash(fields);
        await store.db.updateTable('audit_log').set({ details: forged.details, prev_hash: prev, hash }).where('seq', '=', row.seq).execute();
        prev = hash;
      }
      const result = await broken();
      assert.match(result.problem, /differs from the keyed checkpoint/);
      assert.equal(result.seq, 5);
    });

    it('catches a forged checkpoint', async () => {
      const checkpoint = JSON.parse(readFileSync(checkpointFile, 'utf8'));
      writeFileSync(checkpointFile, JSON.stringify({ ...checkpoint, seq: 3 }));
      assert.match((await broken()).problem, /key signature/);
    });

    it('writes nothing when the change it records fails', async () => {
      await assert.rejects(
        audit.transaction(async (trx) => {
          await audit.append(trx, actor, { schoolId: null, action: 'test.fail' });
          throw new Error('the change failed');
        }),
      );
      assert.deepEqual(await audit.verify(), { ok: true, entries: 5, checkpoint: { seq: 5 } });
    });

    it('serialises concurrent appends into one unbroken chain', async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          audit.transaction((trx) => audit.append(trx, actor, { schoolId: null, action: 'test.concurrent', details: { i } })),
        ),
      );
      assert.deepEqual(await audit.verify(), { ok: true, entries: 25, checkpoint: { seq: 25 } });
    });
  });
}
