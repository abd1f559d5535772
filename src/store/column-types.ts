/**
 * Column types that differ between the dialects, so one migration serves both.
 * Conventions (the same in both dialects, as the code sees them):
 * - timestamps are ISO-8601 UTC strings (`2026-11-24T15:08:00.000Z`);
 * - dates are `YYYY-MM-DD` strings;
 * - flags are integers 0/1 (portable, and what SQLite stores anyway);
 * - JSON is stored as text and parsed by the module's store.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely';

/** Which SQL dialect a Kysely instance talks to. */
export type DialectName = 'sqlite' | 'postgres';

export function dialectOf(db: Kysely<any>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** The column data types for a dialect, for use in `addColumn`. */
export function columnTypes(db: Kysely<any>) {
  const pg = dialectOf(db) === 'postgres';
  return {
    id: 'text',
    text: 'text',
    timestamp: pg ? 'timestamptz' : 'text',
    date: pg ? 'date' : 'text',
    flag: 'integer',
    integer: 'integer',
    bigint: 'bigint',
    json: 'text',
  } as const;
}

/** Current time as stored: an ISO-8601 UTC string. */
export const nowIso = () => new Date().toISOString();

/** SQL for the empty JSON object default. */
export const emptyJson = sql`'{}'`;
