/**
 * The composition root: the one place that builds every service from config
 * and wires them together with plain factories. Nothing else constructs a
 * service; the CLI and the tests go through `createSchoolgate`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { auditRoutes } from './audit/audit.routes.ts';
import { type AuditLog, createAuditLog } from './audit/audit.service.ts';
import { authRoutes } from './auth/auth.routes.ts';
import { type AuthService, createAuthService } from './auth/auth.service.ts';
import { type Config, dataPaths } from './config/config.ts';
import { type App, createHttpServer } from './http/server.ts';
import { devicesRoutes } from './devices/devices.routes.ts';
import { createDevicesService, type DevicesService } from './devices/devices.service.ts';
import { peopleRoutes } from './people/people.routes.ts';
import { policyRoutes } from './policy/policy.routes.ts';
import { createPolicyService, type PolicyService } from './policy/policy.service.ts';
import { createPeopleService, type PeopleService } from './people/people.service.ts';
import { createSchoolsService, type SchoolsService } from './schools/schools.service.ts';
import { createLogger } from './shared/logger.ts';
import { createStore, type Store } from './store/store.ts';

/** The repository root (for the built web app). */
export const ROOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every service of a running Schoolgate, for the CLI and the tests. */
export interface Schoolgate {
  config: Config;
  logger: Logger;
  store: Store;
  audit: AuditLog;
  schools: SchoolsService;
  people: PeopleService;
  devices: DevicesService;
  /** The DNS filter's policy; `policy.snapshot(schoolId)` is what the engine is given. */
  policy: PolicyService;
  auth: AuthService;
  http: App;
  /** Starts listening; returns the web address. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** Options the caller may add to config: a logger (tests pass a silent one). */
export interface CreateOptions {
  logger?: Logger;
}

/** Opens the store (migrating it) and builds every service and the HTTP server. */
export async function createSchoolgate(config: Config, options: CreateOptions = {}): Promise<Schoolgate> {
  const logger = options.logger ?? createLogger(config.log.level);
  const paths = dataPaths(config);
  const store = await createStore(
    config.store.driver === 'postgres'
      ? {
          driver: 'postgres',
          url: config.store.postgresUrl!.reveal(),
          onError: (error) => logger.warn({ err: error }, 'idle PostgreSQL connection lost; the pool will reconnect'),
        }
      : { driver: 'sqlite', path: paths.sqlite, busyTimeoutMs: config.store.busyTimeoutMs },
  );
  const audit = createAuditLog({ store, keyFile: paths.auditKey, checkpointFile: paths.auditCheckpoint });
  const schools = createSchoolsService({ store, audit });
  const people = createPeopleService({ store, audit });
  const devices = createDevicesService({ store, audit, people, schools });
  const policy = createPolicyService({ store, audit, people, schools, devices });
  const auth = createAuthService({ store, audit, schools, people, config: config.auth, publicUrl: config.http.publicUrl, keyFile: paths.totpKey });

  const tls = config.http.tls;
  const http = await createHttpServer({
    logger,
    bodyLimit: config.http.bodyLimit,
    trustProxy: config.http.trustProxy,
    https: tls.certFile && tls.keyFile ? { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } : undefined,
    authenticate: auth.authenticate,
    healthCheck: async () => {
      await sql`select 1`.execute(store.db);
    },
    webDir: path.join(ROOT_DIR, 'web', 'dist'),
    routes: [authRoutes(auth), peopleRoutes(people), auditRoutes(audit), policyRoutes(policy), devicesRoutes(devices, { publicUrl: config.http.publicUrl })],
  });

  return {
    config,
    logger,
    store,
    audit,
    schools,
    people,
    devices,
    policy,
    auth,
    http,
    async listen() {
      const address = await http.listen({ host: config.http.host, port: config.http.port });
      return address;
    },
    async close() {
      await http.close();
      await store.close();
    },
  };
}
