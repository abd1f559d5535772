/**
 * Opens the database (embedded SQLite or PostgreSQL) and runs the ordered
 * migrations in `./migrations`. Everything else receives a `Store`.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DatabaseSync } from 'node:sqlite';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import { type Migration, type MigrationProvider, Migrator } from 'kysely/migration';
import pg from 'pg';
import { type DialectName, dialectOf } from './column-types.ts';
import type { Database } from './database.ts';
import { NodeSqliteDialect, openSqlite } from './sqlite-dialect.ts';

export type { Database } from './database.ts';

/** A database handle or a transaction: what store functions take. */
export type Db = Kysely<Database> | Transaction<Database>;

/** How to reach the database. */
export type StoreOptions =
  | { driver: 'sqlite'; path: string; busyTimeoutMs?: number }
  | { driver: 'postgres'; url: string; poolSize?: number; onError?: (error: Error) => void };

/** The open database and what the process needs to know about it. */
export interface Store {
  db: Kysely<Database>;
  dialect: DialectName;
  /** The raw SQLite handle (online backup), absent on PostgreSQL. */
  sqlite?: DatabaseSync;
  close(): Promise<void>;
}

// PostgreSQL returns timestamps and dates as Date objects by default; the code
// everywhere uses ISO strings (see column-types.ts), so parse them as such.
pg.types.setTypeParser(1184, (v: string) => new Date(v).toISOString()); // timestamptz
pg.types.setTypeParser(1114, (v: string) => new Date(`${v}Z`).toISOString()); // timestamp
pg.types.setTypeParser(1082, (v: string) => v); // date
pg.types.setTypeParser(20, (v: string) => Number(v)); // bigint (audit seq stays far below 2^53)

/** Opens the database without migrating it. */
export function openStore(options: StoreOptions): Store {
  if (options.driver === 'sqlite') {
    mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
    const sqlite = openSqlite({ path: options.path, busyTimeoutMs: options.busyTimeoutMs ?? 5000 });
    const db = new Kysely<Database>({ dialect: new NodeSqliteDialect(sqlite) });
    return { db, dialect: 'sqlite', sqlite, close: () => db.destroy() };
  }
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
  // An idle connection can be closed by the server (restart, failover, admin);
  // without a listener that error would end the process. The pool replaces it.
  pool.on('error', options.onError ?? ((error) => console.error(`schoolgate: idle PostgreSQL connection lost: ${error.message}`)));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: dialectOf(db), close: () => db.destroy() };
}

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Reads `migrations/NNNN-name.ts` in name order; the file name is the migration's name. */
class FolderMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    const files = readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d{4}-[a-z0-9-]+\.ts$/.test(f))
      .sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      migrations[file.replace(/\.ts$/, '')] = await import(pathToFileURL(path.join(MIGRATIONS_DIR, file)).href);
    }
    return migrations;
  }
}

/** Brings the schema up to date; returns the names of the migrations it applied. */
export async function migrate(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new FolderMigrationProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Opens the database and migrates it to the latest schema. */
export async function createStore(options: StoreOptions): Promise<Store> {
  const store = openStore(options);
  try {
    await migrate(store.db);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
