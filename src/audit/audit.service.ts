/**
 * The append-only, hash-chained audit log.
 *
 * Each entry carries the hash of the one before, so an edited, deleted or
 * reordered entry breaks the chain. A keyed checkpoint (an HMAC over the
 * latest sequence number and hash, with a key kept outside the database) is
 * written after every committed change, so truncating the newest entries or
 * recomputing the whole chain is caught too.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql, type Transaction } from 'kysely';
import { nowIso } from '../store/column-types.ts';
import type { Database, Db, Store } from '../store/store.ts';
import type { AuditLogTable } from './audit.tables.ts';

/** Who did something: a signed-in account, or the system/CLI. */
export interface Actor {
  /** Account id, or null for the system and the command line. */
  id: string | null;
  /** How the entry names the actor: `Jane Smith (admin)`, `cli`, `system`. */
  label: string;
  ip?: string | null;
}

/** What to record. `details` must never hold secrets (passwords, tokens, TOTP secrets). */
export interface AuditEntry {
  schoolId: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
}

/** The first broken link found, or ok. */
export type VerifyResult =
  | { ok: true; entries: number; checkpoint: { seq: number } | null }
  | { ok: false; entries: number; seq: number | null; problem: string };

const GENESIS = '0'.repeat(64);
const PG_AUDIT_LOCK = 4_281_337_001; // an arbitrary constant: the advisory lock that serialises appends

type Row = Omit<AuditLogTable, 'hash'>;

/** The hash of an entry: SHA-256 over its fields in a fixed order, including the previous hash. */
export function entryHash(row: Row): string {
  const fields = [
    row.seq, row.school_id, row.at, row.actor_id, row.actor_label, row.action,
    row.target_type, row.target_id, row.details, row.ip, row.prev_hash,
  ];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

interface Checkpoint {
  seq: number;
  hash: string;
  at: string;
  mac: string;
}

/** Options: where the HMAC key and the checkpoint live (outside the database). */
export interface AuditOptions {
  store: Store;
  keyFile: string;
  checkpointFile: string;
}

/** The audit log service. */
export interface AuditLog {
  /** Appends one entry inside the caller's transaction (the same transaction as the change). */
  append(trx: Transaction<Database>, actor: Actor, entry: AuditEntry): Promise<number>;
  /** Runs `fn` in a transaction, then refreshes the keyed checkpoint once it has committed. */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** Writes the keyed checkpoint for the newest entry. */
  checkpoint(): Promise<void>;
  /** Walks the whole chain and the checkpoint; names the first broken link. */
  verify(): Promise<VerifyResult>;
  /** Newest-first page of entries for one school. */
  list(schoolId: string, options: { limit: number; before?: number; targetType?: string; targetId?: string }): Promise<AuditLogTable[]>;
}

function loadOrCreateKey(keyFile: string): Buffer {
  if (existsSync(keyFile)) {
    const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'hex');
    if (key.length < 32) throw new Error(`Audit key ${keyFile} is too short (need 32 bytes as hex)`);
    return key;
  }
  mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(keyFile, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}

/** Creates the audit log over a store, creating its key on first use. */
export function createAuditLog(options: AuditOptions): AuditLog {
  const { store, checkpointFile } = options;
  const key = loadOrCreateKey(options.keyFile);
  const mac = (seq: number, hash: string) => createHmac('sha256', key).update(`${seq}:${hash}`).digest('hex');

  async function lockChain(trx: Db) {
    // SQLite write transactions are already exclusive (BEGIN IMMEDIATE); PostgreSQL
    // needs an explicit lock so two appenders never read the same chain head.
    if (store.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${PG_AUDIT_LOCK})`.execute(trx);
  }

  async function head(db: Db) {
    return db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  }

  function readCheckpoint(): Checkpoint | null {
    if (!existsSync(checkpointFile)) return null;
    return JSON.parse(readFileSync(checkpointFile, 'utf8')) as Checkpoint;
  }

  const log: AuditLog = {
    async append(trx, actor, entry) {
      await lockChain(trx);
      const last = await head(trx);
      const row: Row = {
        seq: (last?.seq ?? 0) + 1,
        school_id: entry.schoolId,
        at: nowIso(),
        actor_id: actor.id,
        actor_label: actor.label,
        action: entry.action,
        target_type: entry.targetType ?? null,
        target_id: entry.targetId ?? null,
        details: JSON.stringify(entry.details ?? {}),
        ip: actor.ip ?? null,
        prev_hash: last?.hash ?? GENESIS,
      };
      await trx.insertInto('audit_log').values({ ...row, hash: entryHash(row) }).execute();
      return row.seq;
    },

    async transaction(fn) {
      const result = await store.db.transaction().execute(fn);
      await log.checkpoint();
      return result;
    },

    async checkpoint() {
      const last = await head(store.db);
      if (!last) return;
      const existing = readCheckpoint();
      // Another process (the CLI beside the server) may have written a newer one.
      if (existing && existing.seq >= last.seq) return;
      const checkpoint: Checkpoint = { seq: last.seq, hash: last.hash, at: nowIso(), mac: mac(last.seq, last.hash) };
      mkdirSync(path.dirname(checkpointFile), { recursive: true });
      const temp = `${checkpointFile}.${process.pid}.tmp`;
      writeFileSync(temp, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
      chmodSync(temp, 0o600);
      renameSync(temp, checkpointFile);
    },

    async verify() {
      let prev = GENESIS;
      let expected = 1;
      const checkpoint = readCheckpoint();
      let atCheckpoint: string | undefined;
      // Stream in pages so a long log does not sit in memory at once.
      for (let after = 0; ; ) {
        const page = await store.db
          .selectFrom('audit_log')
          .selectAll()
          .where('seq', '>', after)
          .orderBy('seq')
          .limit(1000)
          .execute();
        if (page.length === 0) break;
        for (const row of page) {
          const seq = Number(row.seq);
          if (seq !== expected) {
            return { ok: false, entries: expected - 1, seq: expected, problem: `entry ${expected} is missing (next entry found is ${seq}): entries were deleted or reordered` };
          }
          if (row.prev_hash !== prev) {
            return { ok: false, entries: expected - 1, seq, problem: `entry ${seq} does not link to entry ${seq - 1} (previous hash differs): an entry was edited, deleted or reordered` };
          }
          const { hash, ...rest } = row;
          if (entryHash({ ...rest, seq }) !== hash) {
            return { ok: false, entries: expected - 1, seq, problem: `entry ${seq} was changed after it was written (its hash does not match its contents)` };
          }
          if (seq === checkpoint?.seq) atCheckpoint = hash;
          prev = hash;
          expected += 1;
          after = seq;
        }
      }
      const entries = expected - 1;
      if (!checkpoint) {
        return entries === 0
          ? { ok: true, entries, checkpoint: null }
          : { ok: false, entries, seq: null, problem: `the keyed checkpoint ${checkpointFile} is missing` };
      }
      const good = Buffer.from(mac(checkpoint.seq, checkpoint.hash), 'hex');
      const given = Buffer.from(String(checkpoint.mac), 'hex');
      if (given.length !== good.length || !timingSafeEqual(given, good)) {
        return { ok: false, entries, seq: checkpoint.seq, problem: 'the checkpoint does not carry a valid key signature: it was altered or the key changed' };
      }
      if (checkpoint.seq > entries) {
        return { ok: false, entries, seq: entries + 1, problem: `the log ends at entry ${entries} but the checkpoint vouches for ${checkpoint.seq} entries: the newest entries were removed` };
      }
      if (atCheckpoint !== checkpoint.hash) {
        return { ok: false, entries, seq: checkpoint.seq, problem: `entry ${checkpoint.seq} differs from the keyed checkpoint: the chain was recomputed` };
      }
      return { ok: true, entries, checkpoint: { seq: checkpoint.seq } };
    },

    async list(schoolId, { limit, before, targetType, targetId }) {
      let query = store.db.selectFrom('audit_log').selectAll().where('school_id', '=', schoolId);
      if (before) query = query.where('seq', '<', before);
      if (targetType) query = query.where('target_type', '=', targetType);
      if (targetId) query = query.where('target_id', '=', targetId);
      return query.orderBy('seq', 'desc').limit(limit).execute();
    },
  };
  return log;
}
