/**
 * The composition root: the one place that builds every service from config
 * and wires them together with plain factories. Nothing else constructs a
 * service; the CLI and the tests go through `createSchoolgate`.
 */
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { auditRoutes } from './audit/audit.routes.ts';
import { checksRoutes, probeHook } from './checks/checks.routes.ts';
import { type Checks, createChecks } from './checks/checks.service.ts';
import { openSchoolCa, type SchoolCa, sniCallback } from './blockpage/blockpage.ca.ts';
import { type BlockPageDeps, createBlockPage } from './blockpage/blockpage.routes.ts';
import { type BlockPageListeners, startBlockPageListeners } from './blockpage/blockpage.server.ts';
import { type AuditLog, createAuditLog } from './audit/audit.service.ts';
import { authRoutes } from './auth/auth.routes.ts';
import { type AuthService, createAuthService } from './auth/auth.service.ts';
import { type Config, dataPaths } from './config/config.ts';
import { type App, createHttpServer } from './http/server.ts';
import { createMetrics } from './http/metrics.ts';
import { type Catalog, emptyCatalog, loadCatalog } from './filter/catalog.ts';
import { categoryKeys, ILLEGAL_BIT } from './filter/categories.ts';
import { isIllegalTestName } from './filter/special-names.ts';
import { createFilterEngine, type FilterEngine } from './filter/engine.ts';
import { dohRoutes } from './filter/filter.routes.ts';
import { registerFilterMetrics } from './filter/filter.metrics.ts';
import { createListsRefresher, type ListsRefresher } from './lists/lists.refresh.ts';
import { listsRoutes } from './lists/lists.routes.ts';
import { createKnownGoodSites } from './lists/lists.known-good.ts';
import { createOverblocking, type Overblocking } from './lists/lists.overblocking.ts';
import { overblockingRoutes } from './lists/lists.overblocking.routes.ts';
import { createListChoices, knownGoodLists, type ListChoices } from './lists/lists.choices.ts';
import { listChoicesRoutes } from './lists/lists.choices.routes.ts';
import { alertsRoutes } from './alerts/alerts.routes.ts';
import { createSystemAlerts, type SystemAlerts } from './alerts/alerts.service.ts';
import { createListsStatus, type ListsStatus, registerListsMetrics } from './lists/lists.status.ts';
import { createEventWriter, type EventWriter } from './monitor/monitor.events.ts';
import { parseHostPort } from './shared/host-port.ts';
import { devicesRoutes } from './devices/devices.routes.ts';
import { createDevicesService, type DevicesService } from './devices/devices.service.ts';
import { peopleRoutes } from './people/people.routes.ts';
import { policyRoutes } from './policy/policy.routes.ts';
import { createPolicyService, type PolicyService } from './policy/policy.service.ts';
import { createUnblockRequests, type UnblockRequests } from './policy/policy.requests.ts';
import { selfSignedCertificate } from './shared/certificates.ts';
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
  /** Review requests sent from the block page. */
  unblockRequests: UnblockRequests;
  /** The lists' health: the illegal feeds' status and lists whose latest check failed. */
  listsStatus: ListsStatus;
  /** The app's own refresh of the lists (scheduled, or now from the web app). */
  listsRefresher: ListsRefresher;
  /** Which lists the install uses: switches on built-in lists, and the school's own lists. */
  listChoices: ListChoices;
  /** The over-blocking report and the school's own known-good sites. */
  overblocking: Overblocking;
  /** Problems with Schoolgate itself that admins must see. */
  alerts: SystemAlerts;
  /** Filter checks (the check log), the device check page and the daily self-test. */
  checks: Checks;
  auth: AuthService;
  http: App;
  /** Filter events on their way to the store. */
  events: EventWriter;
  /** The DNS filter, once `listen` has started it (config `dns.enabled`). */
  readonly dns: RunningDns | null;
  /** The school root CA of the HTTPS block page, once `listen` has opened it (config `blockPage.rootCa`). */
  readonly blockPageCa: SchoolCa | null;
  /** Where the block page's own listeners answer (config `blockPage.listen`, `blockPage.httpsListen`). */
  readonly blockPageAddresses: string[];
  /** Starts listening (web and DNS); returns the web address. */
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
  // Allow entries, exemptions and sanction allowances for a name the lists put in `illegal` are refused (the engine ignores them anyway).
  const categoriesOf = (name: string) => (dns ? categoryKeys(dns.catalog().lookup(name) | (isIllegalTestName(name) ? ILLEGAL_BIT : 0)) : isIllegalTestName(name) ? (['illegal'] as const) : []);
  const policy = createPolicyService({ store, audit, people, schools, devices, categoriesOf });
  const auth = createAuthService({ store, audit, schools, people, config: config.auth, publicUrl: config.http.publicUrl, keyFile: paths.totpKey });

  const unblockRequests = createUnblockRequests({
    store, audit, people,
    explain: async (site, address) => (dns ? dns.engine.explain(site, { address, token: null }) : null),
    onPolicyChange: () => void dns?.refresh().catch((error) => logger.error({ err: error }, 'could not refresh the filter policy')),
  });
  const events = createEventWriter({ store, logger });
  let dns: RunningDns | null = null;
  let ca: SchoolCa | null = null;
  let blockPageListeners: BlockPageListeners | null = null;
  const metrics = createMetrics();
  registerFilterMetrics(metrics.registry, () => dns?.engine.stats() ?? null);
  const alerts = createSystemAlerts({ store, audit, logger });
  const listsStatus = createListsStatus({ cacheDir: paths.lists, lists: config.lists });
  const listChoices = createListChoices({ store, audit });
  const listsRefresher = createListsRefresher({ config, logger, alerts, selection: () => listChoices.selection() });
  registerListsMetrics(metrics.registry, listsStatus);
  const overblocking = createOverblocking({
    catalogFile: paths.catalog,
    cacheDir: paths.lists,
    policy,
    sites: createKnownGoodSites({ store, audit }),
    // Known-good names from the lists the install chose: enabled built-in allow lists and the school's own allow lists.
    allowLists: () => knownGoodLists(listChoices),
  });
  let stopWatchingLists: (() => void) | null = null;

  // Requests for any other host name were sent here by a blocked DNS answer: they get the block page.
  const ownHosts = ownHostNames(config);
  const own = (host: string) => ownHosts.has(host.toLowerCase());
  const checks = createChecks({
    store, audit, logger, policy, schools, alerts: () => alerts,
    dns: () => dns,
    web: () => (http.server.listening ? { address: http.server.address(), tls: certificate !== null } : null),
  });
  const blockPageDeps: BlockPageDeps = {
    engine: () => dns?.engine ?? null,
    school: async () => (await schools.list())[0] ?? null,
    policy,
    requests: unblockRequests,
    ca: () => ca,
    probe: probeHook(checks),
  };
  const blockPage = createBlockPage(blockPageDeps);
  const certificate = await webCertificate(config, ownHosts, logger);
  const http = await createHttpServer({
    metrics,
    logger,
    bodyLimit: config.http.bodyLimit,
    trustProxy: config.http.trustProxy,
    https: certificate ? { ...certificate, SNICallback: sniCallback({ ca: () => ca, own, ownContext: tls.createSecureContext(certificate) }) } : undefined,
    // With a public URL every other name is a blocked one; without, only names the filter blocks are taken.
    intercept: blockPage.intercept({ own, foreign: config.http.publicUrl ? 'all' : 'blocked' }),
    authenticate: auth.authenticate,
    healthCheck: async () => {
      await sql`select 1`.execute(store.db);
    },
    webDir: path.join(ROOT_DIR, 'web', 'dist'),
    routes: [authRoutes(auth), peopleRoutes(people), auditRoutes(audit), policyRoutes(policy, unblockRequests), devicesRoutes(devices, { publicUrl: config.http.publicUrl }), dohRoutes(() => dns?.engine ?? null), listsRoutes({ status: listsStatus, refresher: listsRefresher, policy, catalogFile: paths.catalog }), listChoicesRoutes({ choices: listChoices, status: listsStatus, refresher: listsRefresher }), overblockingRoutes(overblocking), alertsRoutes(alerts), checksRoutes(checks, { schoolName: async () => (await schools.list())[0]?.name ?? config.school.name }), blockPage.routes],
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
    unblockRequests,
    listsStatus,
    listsRefresher,
    listChoices,
    overblocking,
    alerts,
    checks,
    auth,
    http,
    events,
    get dns() {
      return dns;
    },
    get blockPageCa() {
      return ca;
    },
    get blockPageAddresses() {
      return blockPageListeners?.addresses ?? [];
    },
    async listen() {
      const bp = config.blockPage;
      if (bp.rootCa) {
        ca = await openSchoolCa(paths.blockPageCa, (await schools.list())[0]?.name ?? config.school.name);
        logger.info({ fingerprint: ca.fingerprint, download: '/blocked/ca.crt' }, 'school root CA for HTTPS block pages ready: install it on managed devices');
      }
      if (config.dns.enabled) dns = await startDns({ config, logger, schools, policy: checks.withCheckClients(policy), events });
      stopWatchingLists = listsStatus.watch(logger, alerts);
      listsRefresher.start();
      if (bp.listen.length || bp.httpsListen.length) {
        blockPageListeners = await startBlockPageListeners({ listen: bp.listen, httpsListen: bp.httpsListen, ca, logger, trustProxy: config.http.trustProxy, deps: blockPageDeps });
        logger.info({ addresses: blockPageListeners.addresses }, 'block page listening');
      }
      const address = await http.listen({ host: config.http.host, port: config.http.port });
      if (dns) checks.start();
      return address;
    },
    async close() {
      checks.stop();
      stopWatchingLists?.();
      await listsRefresher.stop();
      await blockPageListeners?.close();
      await http.close();
      await dns?.close();
      await events.close();
      await store.close();
    },
  };
}

/**
 * Host names that reach the web app itself (everything else is a blocked
 * name sent to the block page): the public URL's host, the configured
 * address, this machine's name and `localhost`. Addresses are always ours.
 */
function ownHostNames(config: Config): Set<string> {
  const names = new Set(['localhost', os.hostname().toLowerCase(), os.hostname().toLowerCase().split('.')[0]]);
  if (config.http.publicUrl) names.add(new URL(config.http.publicUrl).hostname.toLowerCase());
  names.add(config.http.host.toLowerCase());
  return names;
}

/** The web server's certificate: the configured files, or a self-signed one made at first start (`http.selfSignedTls`), or none. */
async function webCertificate(config: Config, ownHosts: Set<string>, logger: Logger): Promise<{ cert: Buffer; key: Buffer } | null> {
  const files = config.http.tls;
  if (files.certFile && files.keyFile) return { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
  if (!config.http.selfSignedTls) return null;
  const hostNames = [...ownHosts].filter((n) => n && n !== '0.0.0.0' && n !== '::');
  const made = await selfSignedCertificate(dataPaths(config).tlsDir, [...hostNames, '127.0.0.1', '::1']);
  if (made.made) logger.warn({ dir: dataPaths(config).tlsDir, names: hostNames }, 'made a self-signed certificate for HTTPS and DoH: browsers and devices will warn until it is replaced by a trusted one (http.tls.certFile, http.tls.keyFile)');
  return { cert: made.cert, key: made.key };
}

/** The DNS filter of a running Schoolgate. */
export interface RunningDns {
  engine: FilterEngine;
  /** Where plain DNS and DoT are answered. */
  bound: Awaited<ReturnType<FilterEngine['ready']>>;
  /** Re-reads the policy now (also done on every policy change and every few seconds). */
  refresh(): Promise<void>;
  /** The category catalog in service. */
  catalog(): Catalog;
  close(): Promise<void>;
}

/** How often the policy is re-read even without a change notice (people and network changes), and the catalog file checked for a new build. */
const POLICY_POLL_MS = 3000;
const RETENTION_EVERY_MS = 3_600_000;

/**
 * Starts the DNS workers for the install's school: the compiled catalog (or
 * an empty one until lists are loaded), the policy snapshot (re-sent when it
 * changes), events to the monitor's store, and retention.
 */
async function startDns(deps: { config: Config; logger: Logger; schools: SchoolsService; policy: PolicyService; events: EventWriter }): Promise<RunningDns | null> {
  const { config, logger, policy, events } = deps;
  const [school, ...others] = await deps.schools.list();
  if (!school) {
    logger.warn('DNS filter not started: there is no school yet');
    return null;
  }
  if (others.length) logger.warn({ schools: others.length + 1 }, 'DNS filter serves the first school only; several schools on one filter come later');
  const dns = config.dns;
  const tlsFiles = dns.tls.certFile && dns.tls.keyFile ? { cert: readFileSync(dns.tls.certFile, 'utf8'), key: readFileSync(dns.tls.keyFile, 'utf8') } : null;
  const engine = createFilterEngine({
    workers: dns.listen.some((l) => parseHostPort(l).port === 0) ? 1 : dns.workers,
    listen: dns.listen.map((l) => parseHostPort(l, 53)),
    tls: tlsFiles && dns.tlsListen.length ? { listen: dns.tlsListen.map((l) => parseHostPort(l, 853)), ...tlsFiles } : null,
    upstreams: dns.upstreams,
    upstreamTimeoutMs: dns.upstreamTimeoutMs,
    cache: { maxBytes: dns.cacheMb << 20, minTtl: 0, maxTtl: 86_400, negativeTtl: 3600, staleSeconds: 86_400 },
    rateLimit: { rate: dns.rateLimitPerSecond, burst: dns.rateLimitBurst },
    tcpIdleMs: 10_000,
    maxUdpSize: 1232,
    eventBuffer: 50_000,
    flushMs: 250,
    onEvents: (batch) => events.enqueue(school.id, batch),
    onLog: (level, message) => logger[level](message),
  });

  // The catalog is reloaded whenever its file changes (`schoolgate lists sync` writes a new one
  // atomically); a catalog that cannot be read leaves the one in service as it is.
  const catalogFile = dataPaths(config).catalog;
  let catalogStamp = '';
  let inService: Catalog = emptyCatalog();
  const reloadCatalog = async (first: boolean) => {
    let stamp = '';
    try {
      const info = statSync(catalogFile);
      stamp = `${info.mtimeMs}:${info.size}`;
    } catch {
      stamp = 'none';
    }
    if (stamp === catalogStamp) return;
    catalogStamp = stamp;
    let catalog;
    try {
      catalog = loadCatalog(catalogFile);
    } catch (error) {
      if (!first) {
        logger.error({ file: catalogFile, reason: (error as Error).message }, 'the new category catalog cannot be loaded: the one in service stays');
        return;
      }
      catalog = emptyCatalog();
      logger.warn({ file: catalogFile, reason: (error as Error).message }, 'no category catalog: only allow/deny entries, bypass names and the illegal test name apply until lists are loaded (schoolgate lists sync)');
    }
    await engine.setCatalog(catalog.buffer);
    inService = catalog;
    logger.info({ names: catalog.size, bytesPerName: +(catalog.bytes / Math.max(1, catalog.size)).toFixed(1) }, first ? 'category catalog loaded' : 'new category catalog in service');
  };
  let version = -1;
  const refresh = async () => {
    const snapshot = await policy.snapshot(school.id);
    if (snapshot.version === version) return;
    version = snapshot.version;
    await engine.setPolicy(snapshot);
    logger.info({ version }, 'filter policy sent to the DNS workers');
  };
  await Promise.all([reloadCatalog(true), refresh()]);
  const bound = await engine.ready();
  logger.info({ udp: bound.udp, dot: bound.dot }, 'DNS filter listening');

  const unsubscribe = policy.onChange((schoolId) => {
    if (schoolId === school.id) refresh().catch((error) => logger.error({ err: error }, 'could not refresh the filter policy'));
  });
  const poll = setInterval(() => {
    refresh().catch((error) => logger.error({ err: error }, 'could not refresh the filter policy'));
    reloadCatalog(false).catch((error) => logger.error({ err: error }, 'could not swap the category catalog'));
  }, POLICY_POLL_MS);
  const prune = setInterval(() => {
    events.prune(config.monitor.retentionDays).then(
      (deleted) => deleted && logger.info({ deleted, days: config.monitor.retentionDays }, 'old filter events deleted'),
      (error) => logger.error({ err: error }, 'could not delete old filter events'),
    );
  }, RETENTION_EVERY_MS);
  poll.unref();
  prune.unref();
  return {
    engine,
    bound,
    refresh,
    catalog: () => inService,
    async close() {
      clearInterval(poll);
      clearInterval(prune);
      unsubscribe?.();
      await engine.close();
    },
  };
}
