/**
 * Runs a suite on every store dialect: the embedded SQLite file always, and
 * PostgreSQL when SCHOOLGATE_TEST_POSTGRES_URL points at a server (CI sets it;
 * locally the PostgreSQL runs are skipped with that reason shown).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { createSchoolgate, type Schoolgate } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config/config.ts';
import type { StoreOptions } from '../../src/store/store.ts';

/** The admin URL of a PostgreSQL server for tests (a database is created per suite). */
export const POSTGRES_URL = process.env.SCHOOLGATE_TEST_POSTGRES_URL;

export type DialectName = 'sqlite' | 'postgres';

/** Each dialect with the reason it is skipped, if it is. */
export const DIALECTS: { name: DialectName; skip: string | false }[] = [
  { name: 'sqlite', skip: false },
  { name: 'postgres', skip: POSTGRES_URL ? false : 'SCHOOLGATE_TEST_POSTGRES_URL is not set (CI sets it)' },
];

/** A throwaway database: a temp SQLite file, or a new PostgreSQL database dropped afterwards. */
export interface TestDatabase {
  dialect: DialectName;
  dataDir: string;
  storeOptions: StoreOptions;
  /** Config keys that point the app at this database. */
  overrides: Record<string, unknown>;
  drop(): Promise<void>;
}

export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'schoolgate-test-'));
  if (dialect === 'sqlite') {
    const file = path.join(dataDir, 'schoolgate.db');
    return {
      dialect,
      dataDir,
      storeOptions: { driver: 'sqlite', path: file },
      overrides: { dataDir, 'store.driver': 'sqlite' },
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `sg_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL!);
  url.pathname = `/${name}`;
  return {
    dialect,
    dataDir,
    storeOptions: { driver: 'postgres', url: url.href, poolSize: 4 },
    overrides: { dataDir, 'store.driver': 'postgres', 'store.postgresUrl': url.href },
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Config for a test app: no file, no environment, free port, quiet logs, no DNS unless asked for. */
export function testConfig(db: TestDatabase, overrides: Record<string, unknown> = {}): Config {
  return loadConfig({ env: {}, file: undefined, overrides: { 'http.port': 0, 'log.level': 'silent', 'dns.enabled': false, ...db.overrides, ...overrides } });
}

/** A running Schoolgate on a throwaway database; `close()` removes everything. */
export interface TestApp {
  app: Schoolgate;
  db: TestDatabase;
  /** Base URL of the listening server, when `listen` was asked for. */
  url: string;
  close(): Promise<void>;
}

export async function startTestApp(
  dialect: DialectName,
  options: { listen?: boolean; overrides?: Record<string, unknown> } = {},
): Promise<TestApp> {
  const db = await createTestDatabase(dialect);
  const app = await createSchoolgate(testConfig(db, options.overrides), { logger: pino({ level: 'silent' }) });
  const url = options.listen ? await app.listen() : '';
  return {
    app,
    db,
    url,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}
