/**
 * Kysely over the built-in `node:sqlite` module. Kysely's SqliteDialect expects
 * a better-sqlite3-shaped database; this adapter gives it one, and opens write
 * transactions with `BEGIN IMMEDIATE` so a second process (the CLI beside the
 * server) waits on the busy timeout instead of failing mid-transaction.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  SqliteDialect,
  type SqliteDatabase,
  SqliteDriver,
  type SqliteStatement,
} from 'kysely';

/** node:sqlite binds only numbers, strings, bigints, buffers and null. */
function bindable(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  return value;
}

class NodeSqliteStatement implements SqliteStatement {
  readonly #statement: StatementSync;
  readonly reader: boolean;
  constructor(statement: StatementSync) {
    this.#statement = statement;
    // A statement returns rows exactly when it has result columns (SELECT, RETURNING, some PRAGMAs).
    this.reader = statement.columns().length > 0;
  }
  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.#statement.all(...(parameters.map(bindable) as any[]));
  }
  run(parameters: ReadonlyArray<unknown>) {
    const { changes, lastInsertRowid } = this.#statement.run(...(parameters.map(bindable) as any[]));
    return { changes, lastInsertRowid };
  }
  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return this.#statement.iterate(...(parameters.map(bindable) as any[])) as IterableIterator<unknown>;
  }
}

/** Wraps a DatabaseSync in the interface Kysely's SQLite driver calls. */
export function adaptNodeSqlite(db: DatabaseSync): SqliteDatabase {
  // Preparing is most of the cost of a small query; keep the recent statements.
  const cache = new Map<string, NodeSqliteStatement>();
  return {
    close: () => db.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (!statement) {
        statement = new NodeSqliteStatement(db.prepare(sql));
        if (cache.size >= 256) cache.delete(cache.keys().next().value!);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** Options for opening the embedded database file. */
export interface NodeSqliteOptions {
  path: string;
  busyTimeoutMs: number;
}

/** Opens a SQLite file in WAL mode with a busy timeout and foreign keys on. */
export function openSqlite(options: NodeSqliteOptions): DatabaseSync {
  const db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs });
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');
  db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
  return db;
}

/** A Kysely dialect for node:sqlite with immediate write transactions. */
export class NodeSqliteDialect extends SqliteDialect {
  readonly #db: DatabaseSync;
  readonly #adapted: SqliteDatabase;
  constructor(db: DatabaseSync) {
    const adapted = adaptNodeSqlite(db);
    super({ database: adapted });
    this.#db = db;
    this.#adapted = adapted;
  }
  /** The underlying database, for the online backup API. */
  get database(): DatabaseSync {
    return this.#db;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.#adapted });
  }
}
