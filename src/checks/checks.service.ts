/**
 * Checking that the filter works (DfE filtering standard: checks for each
 * user group, recorded in a check log with the outcome and the action).
 *
 * A run asks the RUNNING filter every test name as each group, over the same
 * doors a device uses, and records what came back against what the group's
 * policy says should happen:
 *
 * - DNS-over-HTTPS on the web server, with a check token per group. The
 *   filter knows who is asking by token (a device or person) or by address;
 *   a group has neither, so each group gets a check client: a device entry
 *   of that group alone, with no owner (so never a person) and a token only
 *   this process knows (an HMAC of the group under a key made at start).
 *   They are added to the snapshot the engine is given, nowhere else (they
 *   are not devices of the school and never shown as such); the identity step
 *   then maps the token to the group by the ordinary device rule.
 * - Plain DNS over UDP and TCP to the filter's own listener, from a source
 *   address of this machine inside one of the group's networks, when it has
 *   one (any address in 127.0.0.0/8 is this machine's, so loopback networks
 *   always work); otherwise the result says it was not checked, and why.
 *
 * What is expected comes from the group's policy at the time of the run
 * (a category it blocks, or blocks now by schedule, is expected blocked;
 * illegal content and the bypass switches are blocked for everyone), over
 * every category the loaded lists put the name in, plus the category the
 * name stands for. An allow entry or exemption that lets a test name through
 * therefore shows as "not as expected", with the filter's own reason: that is
 * what a check is for.
 *
 * The daily self-test runs the illegal and bypass names for every group and
 * raises a critical system alert per group that fails (resolved when it passes).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Actor, AuditLog } from '../audit/audit.service.ts';
import { SYSTEM_ACTOR } from '../auth/auth.context.ts';
import type { CategoryKey } from '../filter/categories.ts';
import type { Explanation, FilterEngine } from '../filter/engine.ts';
import type { GroupPolicy, PolicySnapshot } from '../filter/policy.types.ts';
import { CompiledSchedule, type LocalMinute, SchoolClock } from '../filter/schedule.ts';
import type { PolicyService } from '../policy/policy.service.ts';
import type { SchoolsService } from '../schools/schools.service.ts';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import type { Store } from '../store/store.ts';
import { askDoh, askTcp, askUdp, buildQuery, judge, readAnswer, sourceAddressFor, targetFor } from './checks.dns.ts';
import { type CheckCategory, type CheckName, DEFAULT_CHECK_NAMES, parseCheckNames, SELF_TEST_NAMES } from './checks.names.ts';
import * as checksStore from './checks.store.ts';
import type { CheckResultsTable, CheckRunsTable } from './checks.tables.ts';

/** The part of the system alerts service the self-test uses (src/alerts/alerts.service.ts). */
export interface AlertsPort {
  raise(input: { schoolId: string | null; source: string; key: string; severity: 'critical' | 'warning'; title: string; detail: string }): Promise<unknown>;
  resolve(source: string, key: string): Promise<boolean>;
}

/** The running DNS filter as the checks need it. */
export interface RunningFilter {
  engine: Pick<FilterEngine, 'explain'>;
  bound: { udp: { host: string; port: number }[]; tcp: { host: string; port: number }[] };
  /** Re-reads the policy now, so a run sees the latest groups and check clients. */
  refresh?(): Promise<void>;
}

export interface ChecksDeps {
  store: Store;
  audit: AuditLog;
  logger: Logger;
  policy: Pick<PolicyService, 'snapshot' | 'listGroupPolicies'>;
  schools: Pick<SchoolsService, 'list'>;
  /** The running filter, or null (DNS not enabled, or not started yet). */
  dns(): RunningFilter | null;
  /** The web server (for DoH), or null before it listens. */
  web(): { address: AddressInfo | string | null; tls: boolean } | null;
  /** The system alerts service; null while it is not wired in (the self-test then logs its alerts as errors). */
  alerts(): AlertsPort | null;
  clock?: () => Date;
  /** Per-query time limit, ms. */
  timeoutMs?: number;
}

/** One result as the API shows it. */
export interface CheckResultView {
  id: string;
  groupId: string;
  groupName: string;
  category: CheckCategory;
  name: string;
  transport: 'udp' | 'tcp' | 'doh';
  source: string | null;
  expected: 'blocked' | 'allowed';
  outcome: 'blocked' | 'allowed' | 'error' | 'not_checked';
  /** Null when not checked. */
  asExpected: boolean | null;
  detail: string;
  action: string | null;
  actionBy: string | null;
  actionAt: string | null;
}

/** A run as the API shows it. */
export interface CheckRunView {
  id: string;
  trigger: 'manual' | 'self_test';
  ranBy: string;
  startedAt: string;
  finishedAt: string | null;
  policyVersion: number | null;
  groups: { id: string; name: string }[];
  total: number;
  unexpected: number;
  notChecked: number;
  problem: string | null;
}

/** A run with its results. */
export interface CheckRunDetail extends CheckRunView {
  results: CheckResultView[];
}

/** What the device check page shows for one name. */
export interface DeviceNameView {
  category: CheckCategory;
  name: string;
  /** What the filter decides for this device's address now. */
  blocked: boolean;
  reason: string;
  /** The host the page loads a probe from (null: the name cannot be probed, with why). */
  probeHost: string | null;
  probeNote: string | null;
}

/** What the device check page shows. */
export interface DeviceView {
  address: string;
  identified: boolean;
  networkName: string | null;
  groupName: string | null;
  deviceName: string | null;
  names: DeviceNameView[];
  nonce: string;
}

export interface Checks {
  /** Runs a check now for the chosen groups (default: the groups the school's filtering uses) and stores it with its results. */
  run(actor: Actor, schoolId: string, options?: { groupIds?: string[]; trigger?: 'manual' | 'self_test'; names?: readonly CheckName[] }): Promise<CheckRunDetail>;
  listRuns(schoolId: string, limit?: number): Promise<CheckRunView[]>;
  getRun(schoolId: string, runId: string): Promise<CheckRunDetail>;
  /** Records (or clears, with an empty text) the follow-up action of a result. */
  setAction(actor: Actor, schoolId: string, resultId: string, action: string): Promise<CheckResultView>;
  /** The test names the school's checks ask. */
  getNames(schoolId: string): Promise<{ names: CheckName[]; builtIn: boolean; updatedAt: string | null; updatedBy: string | null }>;
  /** Replaces the school's test names (null: back to the built-in set). */
  setNames(actor: Actor, schoolId: string, names: { category: string; name: string }[] | null, reason: string): Promise<{ names: CheckName[]; builtIn: boolean }>;
  /** The daily self-test: illegal and bypass names for every group; raises or resolves an alert per group. */
  selfTest(): Promise<{ schoolId: string; runId: string; failing: string[] } | null>;
  /** The policy as the DNS engine should get it: the same, with a check client per group added to its snapshots. */
  withCheckClients<P extends Pick<PolicyService, 'snapshot'>>(policy: P): P;
  /** The device check page's view for a client address, with a new probe session. */
  deviceView(address: string): Promise<DeviceView | null>;
  /** A probe request that reached Schoolgate with a test name as its host: true when it was one of ours (recorded). */
  recordProbe(nonce: string, host: string, address: string): boolean;
  /** Which test names of a probe session reached Schoolgate (null: unknown or expired session). */
  probeResults(nonce: string): { arrived: string[]; probed: string[] } | null;
  /** Starts the daily self-test timer (first run a minute after start). */
  start(): void;
  stop(): void;
}

const RUN_LIMIT = 500;
const SELF_TEST_EVERY_MS = 24 * 3_600_000;
const SELF_TEST_FIRST_MS = 60_000;
const PROBE_TTL_MS = 10 * 60_000;
const PROBE_LIMIT = 2000;
/** How many names are asked at once within a group. */
const PARALLEL = 6;

const label = (key: string) => (key === 'bypass' ? 'bypass switches' : key.replace(/_/g, ' '));

/** Whether a group blocks a category at a local minute. */
function groupBlocks(group: GroupPolicy, category: CategoryKey, schedules: Map<string, CompiledSchedule>, now: LocalMinute): { blocked: boolean; why: string } | null {
  if (group.blocked.includes(category)) return { blocked: true, why: `${label(category)} is blocked for ${group.name}` };
  const scheduled = group.scheduled.find((s) => s.category === category);
  if (!scheduled) return null;
  const schedule = schedules.get(scheduled.scheduleId);
  const active = schedule ? schedule.isActive(now) : false;
  const blocked = scheduled.mode === 'block_during' ? active : !active;
  const name = schedule?.name ?? 'an unknown schedule';
  return { blocked, why: `${label(category)} is ${blocked ? 'blocked' : 'allowed'} for ${group.name} now (${scheduled.mode === 'block_during' ? 'blocked during' : 'allowed during'} ${name}, ${active ? 'active' : 'not active'})` };
}

/**
 * What the group's policy says should happen to a name now: blocked when the
 * name stands for illegal content or a bypass switch, or any of its
 * categories is blocked for the group (always or by a schedule now).
 */
export function expectedFor(group: GroupPolicy, testCategory: CheckCategory, listed: readonly CategoryKey[], schedules: Map<string, CompiledSchedule>, now: LocalMinute): { expected: 'blocked' | 'allowed'; why: string } {
  if (testCategory === 'bypass') return { expected: 'blocked', why: 'bypass switches are answered "does not exist" for everyone' };
  const categories = [...new Set<CategoryKey>([testCategory, ...listed])];
  if (categories.includes('illegal')) return { expected: 'blocked', why: 'illegal content is blocked for everyone' };
  if (group.filterOff) return { expected: 'allowed', why: `filtering is off for ${group.name}` };
  let allowedWhy: string | null = null;
  for (const category of categories) {
    const says = groupBlocks(group, category, schedules, now);
    if (says?.blocked) return { expected: 'blocked', why: says.why };
    if (says) allowedWhy = says.why;
  }
  return { expected: 'allowed', why: allowedWhy ?? `${categories.map(label).join(', ')} ${categories.length > 1 ? 'are' : 'is'} not blocked for ${group.name}` };
}

function presentRun(row: CheckRunsTable): CheckRunView {
  return {
    id: row.id,
    trigger: row.trigger,
    ranBy: row.actor_label,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    policyVersion: row.policy_version === null ? null : Number(row.policy_version),
    groups: JSON.parse(row.groups),
    total: Number(row.total),
    unexpected: Number(row.unexpected),
    notChecked: Number(row.not_checked),
    problem: row.problem,
  };
}

function presentResult(row: CheckResultsTable): CheckResultView {
  return {
    id: row.id,
    groupId: row.group_id,
    groupName: row.group_name,
    category: row.category as CheckCategory,
    name: row.name,
    transport: row.transport,
    source: row.source,
    expected: row.expected,
    outcome: row.outcome,
    asExpected: row.as_expected === null ? null : Number(row.as_expected) === 1,
    detail: row.detail,
    action: row.action,
    actionBy: row.action_by,
    actionAt: row.action_at,
  };
}

/** A web server address as a base URL this process can reach (a wildcard address is reached on loopback). */
export function baseUrlOf(address: AddressInfo | string | null, tls: boolean): string | null {
  if (!address || typeof address === 'string') return null;
  let host = address.address;
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** Builds the checks service. */
export function createChecks(deps: ChecksDeps): Checks {
  const { store, audit, logger } = deps;
  const db = store.db;
  const clock = deps.clock ?? (() => new Date());
  const timeoutMs = deps.timeoutMs ?? 4000;
  // Known only to this process: a group's check token works on this process's filter and nowhere else.
  const key = randomBytes(32);
  const running = new Set<string>();
  /** The latest snapshot the engine was given, per school (the device page reads names from it). */
  const latest = new Map<string, PolicySnapshot>();
  const probes = new Map<string, { at: number; names: Map<string, string>; arrived: Map<string, string> }>();
  let firstTimer: NodeJS.Timeout | null = null;
  let dailyTimer: NodeJS.Timeout | null = null;

  const groupToken = (schoolId: string, groupId: string) => createHmac('sha256', key).update(`check-group\0${schoolId}\0${groupId}`).digest('base64url');
  const checkDeviceId = (groupId: string) => `check:${groupId}`;

  function withClients(snapshot: PolicySnapshot): PolicySnapshot {
    const devices = snapshot.groups.map((g) => ({ id: checkDeviceId(g.groupId), name: `Schoolgate check (${g.name})`, groupIds: [g.groupId], ownerId: null }));
    const tokens = snapshot.groups.map((g) => ({ tokenHash: createHash('sha256').update(groupToken(snapshot.schoolId, g.groupId)).digest('hex'), deviceId: checkDeviceId(g.groupId), personId: null }));
    const decorated = { ...snapshot, devices: [...snapshot.devices, ...devices], tokens: [...snapshot.tokens, ...tokens] };
    latest.set(snapshot.schoolId, decorated);
    return decorated;
  }

  async function namesOf(schoolId: string): Promise<{ names: CheckName[]; builtIn: boolean; updatedAt: string | null; updatedBy: string | null }> {
    const own = await checksStore.schoolNames(db, schoolId);
    if (!own) return { names: [...DEFAULT_CHECK_NAMES], builtIn: true, updatedAt: null, updatedBy: null };
    return { names: own.rows.map((r) => ({ category: r.category as CheckCategory, name: r.name })), builtIn: false, updatedAt: own.updatedAt, updatedBy: own.updatedBy };
  }

  /** The groups a run checks by default: those with a policy of their own, those a network names, and the default group. */
  async function defaultGroups(schoolId: string, snapshot: PolicySnapshot): Promise<GroupPolicy[]> {
    const views = await deps.policy.listGroupPolicies(schoolId);
    const wanted = new Set(views.filter((v) => !v.isDefault).map((v) => v.groupId));
    for (const n of snapshot.networks) if (n.groupId) wanted.add(n.groupId);
    if (snapshot.defaultGroupId) wanted.add(snapshot.defaultGroupId);
    return snapshot.groups.filter((g) => wanted.has(g.groupId)).sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name));
  }

  function newRow(runId: string, schoolId: string, seq: number, group: GroupPolicy, test: CheckName, expected: 'blocked' | 'allowed'): CheckResultsTable {
    return {
      id: crypto.randomUUID(),
      run_id: runId,
      school_id: schoolId,
      seq,
      group_id: group.groupId,
      group_name: group.name,
      category: test.category,
      name: test.name,
      transport: 'doh',
      source: null,
      expected,
      outcome: 'not_checked',
      as_expected: null,
      detail: '',
      action: null,
      action_by: null,
      action_at: null,
    };
  }

  async function explainSafely(engine: RunningFilter['engine'], name: string, context: { address: string; token: string | null }): Promise<Explanation | null> {
    try {
      return await engine.explain(name, context);
    } catch {
      return null;
    }
  }

  /** Asks one name as one group over every transport; returns the result rows. */
  async function checkName(filter: RunningFilter, snapshot: PolicySnapshot, group: GroupPolicy, test: CheckName, context: { runId: string; schoolId: string; baseUrl: string | null; source: ReturnType<typeof sourceAddressFor>; schedules: Map<string, CompiledSchedule>; now: LocalMinute }): Promise<CheckResultsTable[]> {
    const token = groupToken(context.schoolId, group.groupId);
    const explained = await explainSafely(filter.engine, test.name, { address: '127.0.0.1', token });
    const listed = explained?.categories ?? [];
    const { expected, why } = expectedFor(group, test.category, listed, context.schedules, context.now);
    const notListed = test.category !== 'bypass' && test.category !== 'illegal' && !listed.includes(test.category as CategoryKey) ? ` The loaded lists do not put ${test.name} in ${label(test.category)}.` : '';
    const rows: CheckResultsTable[] = [];

    const record = async (transport: CheckResultsTable['transport'], source: string | null, ask: ((query: Buffer) => Promise<Buffer>) | null, missing: string, explanation: Explanation | null) => {
      const row = newRow(context.runId, context.schoolId, 0, group, test, expected);
      row.transport = transport;
      row.source = source;
      if (!ask) {
        row.detail = missing;
        rows.push(row);
        return;
      }
      const query = buildQuery(test.name);
      try {
        const verdict = judge(readAnswer(await ask(query), query), snapshot.blocking);
        row.outcome = verdict.blocked ? 'blocked' : 'allowed';
        row.as_expected = row.outcome === expected ? 1 : 0;
        const identity = explanation && explanation.groupId !== group.groupId ? ` The filter took this client for ${explanation.groupName ?? 'no group'}, not ${group.name}.` : '';
        const reason = row.as_expected ? '' : ` Expected ${expected}: ${why}. The filter's reason: ${explanation?.decision.reason ?? 'unknown'}.${notListed}`;
        row.detail = `${verdict.detail}.${identity}${reason}`;
      } catch (error) {
        row.outcome = 'error';
        row.as_expected = 0;
        row.detail = `No usable answer: ${(error as Error).message}. Expected ${expected}: ${why}.`;
      }
      rows.push(row);
    };

    const base = context.baseUrl;
    await record('doh', null, base ? (q) => askDoh(base, token, q, timeoutMs) : null, 'Not checked over DNS-over-HTTPS: the web server is not listening.', explained);
    const source = context.source;
    if (!source) {
      const missing = `Not checked over plain DNS: no local address in this group's networks (${group.name}).`;
      await record('udp', null, null, missing, null);
      await record('tcp', null, null, missing, null);
    } else {
      const byAddress = await explainSafely(filter.engine, test.name, { address: source.address, token: null });
      const udp = targetFor(filter.bound.udp, source.address);
      const tcp = targetFor(filter.bound.tcp, source.address);
      const noListener = (t: string) => `Not checked over ${t}: the filter has no ${t} listener for ${source.address}'s address family.`;
      await record('udp', source.address, udp ? (q) => askUdp(udp, q, source.address, timeoutMs) : null, noListener('UDP'), byAddress);
      await record('tcp', source.address, tcp ? (q) => askTcp(tcp, q, source.address, timeoutMs) : null, noListener('TCP'), byAddress);
    }
    return rows;
  }

  async function run(actor: Actor, schoolId: string, options: { groupIds?: string[]; trigger?: 'manual' | 'self_test'; names?: readonly CheckName[] } = {}): Promise<CheckRunDetail> {
    if (running.has(schoolId)) throw conflict('A check is already running for this school; wait for it to finish');
    running.add(schoolId);
    try {
      const startedAt = clock().toISOString();
      const runId = crypto.randomUUID();
      const filter = deps.dns();
      let problem: string | null = null;
      let results: CheckResultsTable[] = [];
      let groups: GroupPolicy[] = [];
      let version: number | null = null;
      if (!filter) {
        problem = 'The DNS filter is not running in this Schoolgate (dns.enabled is off, or there is no school yet), so nothing could be asked.';
      } else {
        await filter.refresh?.();
        const snapshot = await deps.policy.snapshot(schoolId);
        version = snapshot.version;
        if (options.groupIds?.length) {
          const known = new Map(snapshot.groups.map((g) => [g.groupId, g]));
          const issues = options.groupIds.filter((id) => !known.has(id)).map((id) => ({ where: 'groupIds', message: `no group ${id} in this school` }));
          if (issues.length) throw invalid('Some groups to check do not exist', issues);
          groups = options.groupIds.map((id) => known.get(id)!);
        } else {
          groups = options.trigger === 'self_test' ? [...snapshot.groups].sort((a, b) => a.priority - b.priority || a.name.localeCompare(b.name)) : await defaultGroups(schoolId, snapshot);
        }
        const names = options.names ?? (await namesOf(schoolId)).names;
        const web = deps.web();
        const baseUrl = web ? baseUrlOf(web.address, web.tls) : null;
        const schedules = new Map(snapshot.schedules.map((s) => [s.id, new CompiledSchedule(s)]));
        const now = new SchoolClock(snapshot.timeZone, snapshot.calendar).at(clock().getTime());
        for (const group of groups) {
          const source = sourceAddressFor(snapshot.networks, group.groupId);
          const context = { runId, schoolId, baseUrl, source, schedules, now };
          for (let i = 0; i < names.length; i += PARALLEL) {
            const slice = await Promise.all(names.slice(i, i + PARALLEL).map((test) => checkName(filter, snapshot, group, test, context)));
            results.push(...slice.flat());
          }
        }
        results = results.map((r, seq) => ({ ...r, seq }));
      }
      const runRow: CheckRunsTable = {
        id: runId,
        school_id: schoolId,
        trigger: options.trigger ?? 'manual',
        actor_id: actor.id,
        actor_label: actor.label,
        started_at: startedAt,
        finished_at: clock().toISOString(),
        policy_version: version,
        groups: JSON.stringify(groups.map((g) => ({ id: g.groupId, name: g.name }))),
        total: results.length,
        unexpected: results.filter((r) => r.as_expected === 0).length,
        not_checked: results.filter((r) => r.outcome === 'not_checked').length,
        problem,
      };
      await audit.transaction(async (trx) => {
        await checksStore.insertRun(trx, runRow, results);
        await audit.append(trx, actor, {
          schoolId,
          action: 'check.run',
          targetType: 'check_run',
          targetId: runId,
          details: { trigger: runRow.trigger, groups: groups.map((g) => g.name), total: runRow.total, unexpected: runRow.unexpected, notChecked: runRow.not_checked, problem },
        });
      });
      return { ...presentRun(runRow), results: results.map(presentResult) };
    } finally {
      running.delete(schoolId);
    }
  }

  async function selfTest(): Promise<{ schoolId: string; runId: string; failing: string[] } | null> {
    const school = (await deps.schools.list())[0];
    if (!school || !deps.dns()) return null;
    const detail = await run(SYSTEM_ACTOR, school.id, { trigger: 'self_test', names: SELF_TEST_NAMES });
    const alerts = deps.alerts() ?? loggedAlerts();
    const failing: string[] = [];
    for (const group of detail.groups) {
      const bad = detail.results.filter((r) => r.groupId === group.id && r.asExpected === false);
      const key = `self-test:${group.id}`;
      if (bad.length) {
        failing.push(group.id);
        await alerts.raise({
          schoolId: school.id,
          source: 'checks',
          key,
          severity: 'critical',
          title: `The filter does not block illegal content or bypass switches for ${group.name}`,
          detail: bad.map((r) => `${r.name} over ${r.transport.toUpperCase()}: ${r.outcome}. ${r.detail}`).join('\n'),
        });
      } else {
        await alerts.resolve('checks', key);
      }
    }
    if (detail.problem) logger.warn({ run: detail.id, problem: detail.problem }, 'filter self-test could not run');
    else logger.info({ run: detail.id, groups: detail.groups.length, failing: failing.length }, 'filter self-test done');
    return { schoolId: school.id, runId: detail.id, failing };
  }

  /** Stands in for the alerts service while it is not wired in: the alert goes to the log instead. */
  function loggedAlerts(): AlertsPort {
    return {
      async raise(input) {
        logger.error({ source: input.source, key: input.key, detail: input.detail }, `system alert (no alerts service to hold it): ${input.title}`);
      },
      async resolve() {
        return false;
      },
    };
  }

  function pruneProbes(now: number) {
    for (const [nonce, probe] of probes) if (now - probe.at > PROBE_TTL_MS) probes.delete(nonce);
    while (probes.size >= PROBE_LIMIT) probes.delete(probes.keys().next().value!);
  }

  return {
    run,

    async listRuns(schoolId, limit = 50) {
      return (await checksStore.listRuns(db, schoolId, Math.min(limit, RUN_LIMIT))).map(presentRun);
    },

    async getRun(schoolId, runId) {
      const row = await checksStore.getRun(db, schoolId, runId);
      if (!row) throw notFound('Check run');
      return { ...presentRun(row), results: (await checksStore.runResults(db, schoolId, runId)).map(presentResult) };
    },

    async setAction(actor, schoolId, resultId, action) {
      const text = action.trim();
      if (text.length > 2000) throw invalid('The action is too long', [{ where: 'action', message: 'must be at most 2000 characters' }]);
      return audit.transaction(async (trx) => {
        const row = await checksStore.getResult(trx, schoolId, resultId);
        if (!row) throw notFound('Check result');
        const at = clock().toISOString();
        const next = text ? { action: text, action_by: actor.label, action_at: at } : { action: null, action_by: null, action_at: null };
        await checksStore.setAction(trx, resultId, next.action, next.action_by, next.action_at);
        await audit.append(trx, actor, { schoolId, action: 'check.action', targetType: 'check_result', targetId: resultId, details: { run: row.run_id, name: row.name, group: row.group_name, transport: row.transport, action: next.action, before: row.action } });
        return presentResult({ ...row, ...next });
      });
    },

    getNames: namesOf,

    async setNames(actor, schoolId, input, reason) {
      const why = reason.trim();
      const issues = why.length < 3 ? [{ where: 'reason', message: 'say why the test names change (at least 3 characters)' }] : [];
      const parsed = input === null ? { names: null, issues: [] } : parseCheckNames(input);
      issues.push(...parsed.issues);
      if (issues.length) throw invalid('The test names were not saved', issues);
      const before = await namesOf(schoolId);
      await audit.transaction(async (trx) => {
        await checksStore.replaceNames(trx, schoolId, parsed.names, clock().toISOString(), actor.label);
        await audit.append(trx, actor, {
          schoolId,
          action: 'check.names.update',
          targetType: 'school',
          targetId: schoolId,
          details: { reason: why, builtIn: parsed.names === null, before: before.names.map((n) => `${n.category}:${n.name}`), after: (parsed.names ?? DEFAULT_CHECK_NAMES).map((n) => `${n.category}:${n.name}`) },
        });
      });
      const after = await namesOf(schoolId);
      return { names: after.names, builtIn: after.builtIn };
    },

    selfTest,

    withCheckClients(policy) {
      const wrapped = Object.create(policy);
      wrapped.snapshot = async (schoolId: string) => withClients(await policy.snapshot(schoolId));
      return wrapped;
    },

    async deviceView(address) {
      const filter = deps.dns();
      const school = (await deps.schools.list())[0];
      if (!filter || !school) return null;
      const snapshot = latest.get(school.id) ?? null;
      const { names } = await namesOf(school.id);
      const now = Date.now();
      pruneProbes(now);
      const nonce = randomBytes(16).toString('hex');
      const label = `sgcheck-${nonce.slice(0, 12)}`;
      const probe = { at: now, names: new Map<string, string>(), arrived: new Map<string, string>() };
      let first: Explanation | null = null;
      const views: DeviceNameView[] = [];
      for (const test of names) {
        const explained = await explainSafely(filter.engine, test.name, { address, token: null });
        first ??= explained;
        const blocked = explained ? explained.decision.kind === 'blocked' || explained.decision.kind === 'bypass_blocked' : false;
        let probeHost: string | null = null;
        let probeNote: string | null = null;
        if (test.category === 'bypass' || snapshot?.blocking.answer !== 'address') {
          probeNote = test.category === 'bypass' ? 'answered "does not exist", so the device cannot be asked to load it' : 'blocked names are not answered with the block page’s address here, so the device cannot be asked to load them';
        } else {
          // A fresh label under the name defeats caches (list entries cover subdomains, so the filter decides it as the name).
          probeHost = `${label}.${test.name}`;
          probe.names.set(probeHost, test.name);
        }
        views.push({ category: test.category, name: test.name, blocked, reason: explained?.decision.reason ?? 'the filter could not say', probeHost, probeNote });
      }
      probes.set(nonce, probe);
      const network = first?.networkId ? snapshot?.networks.find((n) => n.id === first!.networkId) : undefined;
      const device = first?.deviceId ? snapshot?.devices.find((d) => d.id === first!.deviceId) : undefined;
      return {
        address,
        identified: first?.identified ?? false,
        networkName: network?.name ?? null,
        groupName: first?.groupName ?? null,
        deviceName: device?.name ?? null,
        names: views,
        nonce,
      };
    },

    recordProbe(nonce, host, address) {
      const probe = probes.get(nonce);
      const name = probe?.names.get(host.toLowerCase());
      if (!probe || !name) return false;
      probe.arrived.set(name, address);
      return true;
    },

    probeResults(nonce) {
      const probe = probes.get(nonce);
      if (!probe) return null;
      return { arrived: [...probe.arrived.keys()], probed: [...probe.names.values()] };
    },

    start() {
      if (firstTimer || dailyTimer) return;
      const go = () => selfTest().catch((error) => logger.error({ err: error }, 'filter self-test failed to run'));
      firstTimer = setTimeout(() => {
        firstTimer = null;
        go();
        dailyTimer = setInterval(go, SELF_TEST_EVERY_MS);
        dailyTimer.unref();
      }, SELF_TEST_FIRST_MS);
      firstTimer.unref();
    },

    stop() {
      if (firstTimer) clearTimeout(firstTimer);
      if (dailyTimer) clearInterval(dailyTimer);
      firstTimer = null;
      dailyTimer = null;
    },
  };
}
