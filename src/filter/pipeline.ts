/**
 * The filter's pipeline, one query at a time:
 *
 *   parse → identify → rate limit → decide → [blocked: made-up answer]
 *         → cache → upstream → re-check the answer → relay → record
 *
 * A query answered from policy or the cache is answered synchronously (no
 * promise); only upstream work is asynchronous. Per-client decisions are
 * never cached: the shared cache holds upstream answers only, and the policy
 * decides for each client on every query.
 */
import type { Catalog } from './catalog.ts';
import { CATEGORY_KEYS, type CategoryKey } from './categories.ts';
import { type AnswerCache, type CacheKey, cacheKey } from './cache.ts';
import type { Decision, DecisionKind } from './decision.ts';
import type { EventRecorder } from './events.ts';
import { compileIdentifier, type Identifier, type Identity } from './identify.ts';
import { type AnswerTargets, answerTargets, buildUpstreamQuery, capTtls, EDE, minTtl, prepareForClient, QUESTION_NAME, ResponseBuilder, SECTION } from './message.ts';
import { type ClientPolicy, type CompiledPolicy, compilePolicy } from './policy.ts';
import type { PolicySnapshot } from './policy.types.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { QueryContext, QueryHandler } from './transport.ts';
import type { Upstreams } from './upstream.ts';
import { emptyResponse, parseQuery, QTYPE, type Query, RCODE } from './wire.ts';

/** Latency histogram bounds, milliseconds (Prometheus-style cumulative buckets are made from these). */
export const LATENCY_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

/** Counters one worker keeps; the engine sums them over workers. */
export interface PipelineCounters {
  queries: Record<DecisionKind, number>;
  transports: Record<string, number>;
  cacheHits: number;
  cacheMisses: number;
  staleServed: number;
  upstreamErrors: number;
  malformedDropped: number;
  malformedAnswered: number;
  refused: number;
  rateLimited: number;
  /** Counts per bucket of `LATENCY_BUCKETS_MS`, the last for slower answers. */
  latency: number[];
  latencySumMs: number;
}

export function newCounters(): PipelineCounters {
  return {
    queries: { allowed: 0, blocked: 0, safe_search: 0, bypass_blocked: 0, error: 0 },
    transports: { udp: 0, tcp: 0, doh: 0, dot: 0 },
    cacheHits: 0,
    cacheMisses: 0,
    staleServed: 0,
    upstreamErrors: 0,
    malformedDropped: 0,
    malformedAnswered: 0,
    refused: 0,
    rateLimited: 0,
    latency: new Array(LATENCY_BUCKETS_MS.length + 1).fill(0),
    latencySumMs: 0,
  };
}

export interface PipelineDeps {
  upstreams: Upstreams;
  /** Zones (lower-case, no trailing dot) sent to their own servers: Active Directory and the like. */
  forwarders: { zone: string; upstreams: Upstreams }[];
  cache: AnswerCache;
  events: EventRecorder;
  rateLimiter: RateLimiter;
  counters: PipelineCounters;
  /** Largest UDP answer we send (RFC 6891; 1232 avoids fragmentation). */
  maxUdpSize: number;
}

/** Why a name is blocked for a client, for the block page (no answer is sent, nothing is recorded). */
export interface Explanation {
  /** Whether the filter knows the client (a school network, a device or person token). */
  identified: boolean;
  personId: string | null;
  deviceId: string | null;
  networkId: string | null;
  groupId: string | null;
  groupName: string | null;
  /** The decision an A query for the name gets now. */
  decision: Decision;
  /** Every category the catalog puts the name in, whoever asks. */
  categories: CategoryKey[];
  /** The list entry (the name or a parent) behind those categories. */
  listEntry: string | null;
  policyVersion: number;
}

export interface Pipeline {
  handle: QueryHandler;
  /** The decision for `name` as the client at `address` (or with `token`) would get it now; null before the policy is loaded. */
  explain(name: string, context: { address: string; token: string | null }): Explanation | null;
  setPolicy(snapshot: PolicySnapshot): void;
  setCatalog(catalog: Catalog): void;
  /** Whether both a policy and a catalog are loaded (before that, nothing is answered). */
  readonly ready: boolean;
}

/** What one query needs on its way through. */
interface Flight {
  packet: Uint8Array;
  query: Query;
  context: QueryContext;
  identity: Identity;
  client: ClientPolicy;
  /** `Date.now()` when the pipeline took the query: one clock read serves the policy, the cache and the event. */
  now: number;
}

/** An upstream answer as the pipeline passes it on: read once for the names and addresses to re-check. */
interface Fetched {
  answer: Uint8Array;
  server: string;
  targets: AnswerTargets | null;
}

const NO_DECISION_GROUP = null;
/** The identity the block page explains for a client the filter does not know (one object, so its policy is resolved once per policy). */
const UNKNOWN_CLIENT: Identity = Object.freeze({ personId: null, deviceId: null, networkId: null, groupIds: [], rateLimited: true });
/** Largest TTL of a safe-search answer: long enough to spare upstreams, short enough to follow a policy change. */
const SAFE_SEARCH_TTL = 300;
const EDE_BLOCKED = EDE.BLOCKED;

export function createPipeline(deps: PipelineDeps): Pipeline {
  const { cache, events, counters } = deps;
  let policy: CompiledPolicy | null = null;
  let snapshot: PolicySnapshot | null = null;
  let identifier: Identifier | null = null;
  let catalog: Catalog | null = null;
  let clients = new WeakMap<Identity, ClientPolicy>();
  const inflight = new Map<string, Promise<Fetched | null>>();

  function clientOf(identity: Identity): ClientPolicy {
    let client = clients.get(identity);
    if (!client) {
      client = policy!.client(identity);
      clients.set(identity, client);
    }
    return client;
  }

  function record(flight: Flight, decision: Decision, rcode: number, cached: boolean, upstream: string | null): void {
    const latencyMs = performance.now() - flight.context.receivedAt;
    counters.queries[decision.kind]++;
    counters.transports[flight.context.transport]++;
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS_MS.length && latencyMs > LATENCY_BUCKETS_MS[bucket]) bucket++;
    counters.latency[bucket]++;
    counters.latencySumMs += latencyMs;
    events.record(
      latencyMs < 1 ? flight.now : Date.now(), // answered within the millisecond it was taken, or later
      flight.context.address,
      flight.context.transport,
      flight.identity,
      flight.client.groupId ?? NO_DECISION_GROUP,
      flight.query.name,
      flight.query.qtype,
      decision,
      rcode,
      cached,
      latencyMs,
      upstream,
      snapshot!.version,
    );
  }

  /** The answer for a blocked or locally answered query, made up here (AD clear, short TTL, EDE when EDNS). */
  function madeUp(flight: Flight, decision: Decision): Uint8Array {
    const { query, packet } = flight;
    const blocking = snapshot!.blocking;
    const ttl = Math.min(10, Math.max(0, blocking.ttl));
    const answer = decision.answer ?? (decision.rule === 'local' ? 'nxdomain' : 'nodata');
    const builder = new ResponseBuilder(packet, query, { authoritative: decision.rule === 'local', udpSize: deps.maxUdpSize });
    let addressWritten = false;
    if (answer === 'block_page' && blocking.answer !== 'nxdomain') {
      const nullAnswer = blocking.answer === 'null';
      if (query.qtype === QTYPE.A && (nullAnswer || blocking.ipv4)) {
        builder.addA(SECTION.ANSWER, QUESTION_NAME, ttl, nullAnswer ? '0.0.0.0' : blocking.ipv4!);
        addressWritten = true;
      } else if (query.qtype === QTYPE.AAAA && (nullAnswer || blocking.ipv6)) {
        builder.addAaaa(SECTION.ANSWER, QUESTION_NAME, ttl, nullAnswer ? '::' : blocking.ipv6!);
        addressWritten = true;
      }
    } else if (answer === 'nxdomain' || (answer === 'block_page' && blocking.answer === 'nxdomain')) {
      builder.setRcode(RCODE.NXDOMAIN);
    }
    // RFC 2308: negative answers carry an SOA whose minimum bounds how long they are cached.
    if (!addressWritten) builder.addSoa(SECTION.AUTHORITY, QUESTION_NAME, ttl, { minimum: ttl });
    // RFC 8914: 15 = Blocked, with the reason; local answers (RFC 6303, DDR) carry none.
    if (decision.rule !== 'local') builder.setExtendedError(EDE_BLOCKED, decision.reason);
    return builder.finish();
  }

  function blockedFrom(flight: Flight, decision: Decision, cached: boolean, upstream: string | null): Uint8Array {
    const answer = madeUp(flight, decision);
    record(flight, decision, answer[3] & 0x0f, cached, upstream);
    return answer;
  }

  function servfail(flight: Flight, reason: string): Uint8Array {
    const answer = emptyResponse(flight.packet, flight.query, RCODE.SERVFAIL);
    record(flight, { kind: 'error', rule: 'error', reason, category: null, matched: null }, RCODE.SERVFAIL, false, null);
    return answer;
  }

  function upstreamsFor(name: string) {
    for (const forwarder of deps.forwarders) {
      if (name === forwarder.zone || name.endsWith(`.${forwarder.zone}`)) return forwarder.upstreams;
    }
    return deps.upstreams;
  }

  /** One upstream exchange per (name, type, flags) at a time; concurrent askers share it. */
  function fetchUpstream(key: CacheKey, flight: Flight, name: string, qtype: number): Promise<Fetched | null> {
    const asked = `${key.name} ${key.variant}`; // a space never appears in a name as the wire parser writes it
    let pending = inflight.get(asked);
    if (!pending) {
      const upstreamQuery = buildUpstreamQuery(flight.packet, flight.query, 0, {
        question: { name, qtype },
        forwardClientSubnet: flight.query.edns?.hasClientSubnet === true && identifier!.trustsClientSubnet(flight.context.address),
      });
      pending = upstreamsFor(name)
        .resolve(upstreamQuery)
        .then(
          (result) => {
            cache.set(key, result.answer, Date.now());
            return { answer: result.answer, server: result.server, targets: answerTargets(result.answer) };
          },
          () => {
            counters.upstreamErrors++;
            return null;
          },
        )
        .finally(() => inflight.delete(asked));
      inflight.set(asked, pending);
    }
    return pending;
  }

  /** The first CNAME target or address of an upstream answer that the policy blocks for this client, or null. */
  function recheck(flight: Flight, decision: Decision, targets: AnswerTargets, now: number): Decision | null {
    for (const target of targets.names) {
      const verdict = policy!.recheck(target, flight.client, catalog!, now, decision, flight.query.qtype);
      if (verdict) return verdict;
    }
    for (const target of targets.addresses) {
      const verdict = policy!.recheck(target, flight.client, catalog!, now, decision, flight.query.qtype);
      if (verdict) return verdict;
    }
    return null;
  }

  /** Re-checks an upstream answer's CNAME targets and addresses (`targets`, read from it once), then relays it. */
  function relay(flight: Flight, decision: Decision, answer: Uint8Array, targets: AnswerTargets | null, cached: boolean, upstream: string | null, now: number): Uint8Array {
    const verdict = targets && recheck(flight, decision, targets, now);
    if (verdict) return blockedFrom(flight, { ...verdict, rule: 'upstream_answer' }, cached, upstream);
    const out = prepareForClient(answer, flight.packet, flight.query, { transport: flight.context.transport, maxUdpSize: deps.maxUdpSize, inPlace: cached });
    if (!out) return servfail(flight, upstream ? `the answer from ${upstream} could not be read` : 'a cached answer could not be read');
    if (decision.ttlCap !== undefined) capTtls(out, decision.ttlCap);
    record(flight, decision, out[3] & 0x0f, cached, upstream);
    return out;
  }

  function forward(flight: Flight, decision: Decision): Uint8Array | Promise<Uint8Array | null> {
    const { query } = flight;
    const key = cacheKey(query);
    const hit = cache.get(key, flight.now);
    if (hit) {
      counters.cacheHits++;
      return relay(flight, decision, hit.answer, hit.targets, true, null, flight.now);
    }
    counters.cacheMisses++;
    return fetchUpstream(key, flight, query.name, query.qtype).then((result) => {
      if (result) return relay(flight, decision, result.answer, result.targets, false, result.server, Date.now());
      const now = Date.now();
      const stale = cache.getStale(key, now);
      if (stale) {
        counters.staleServed++;
        return relay(flight, { ...decision, reason: `${decision.reason} (served stale: upstreams are not answering)` }, stale.answer, stale.targets, true, null, now);
      }
      return servfail(flight, 'no upstream answered');
    });
  }

  /** Safe search: answers the question with a CNAME to the safe host plus that host's addresses. */
  function safeSearch(flight: Flight, decision: Decision): Uint8Array | Promise<Uint8Array | null> {
    const { query, packet } = flight;
    const finish = (targetAnswer: Uint8Array | null, targets: AnswerTargets | null, cached: boolean, upstream: string | null) => {
      const builder = new ResponseBuilder(packet, query, { udpSize: deps.maxUdpSize });
      let ttl = SAFE_SEARCH_TTL;
      const wantA = query.qtype === QTYPE.A;
      const wantAaaa = query.qtype === QTYPE.AAAA;
      if (decision.rewriteAddresses) {
        for (const address of decision.rewriteAddresses) {
          if (wantA && !address.includes(':')) builder.addA(SECTION.ANSWER, QUESTION_NAME, ttl, address);
          if (wantAaaa && address.includes(':')) builder.addAaaa(SECTION.ANSWER, QUESTION_NAME, ttl, address);
        }
      } else if (decision.rewriteName) {
        if (targetAnswer) ttl = Math.min(ttl, minTtl(targetAnswer));
        const target = builder.addCname(SECTION.ANSWER, QUESTION_NAME, ttl, decision.rewriteName);
        for (const address of targets?.addresses ?? []) {
          if (wantA && !address.includes(':')) builder.addA(SECTION.ANSWER, target, ttl, address);
          if (wantAaaa && address.includes(':')) builder.addAaaa(SECTION.ANSWER, target, ttl, address);
        }
      }
      const out = builder.finish();
      record(flight, decision, RCODE.NOERROR, cached, upstream);
      return out;
    };
    // HTTPS/SVCB and fixed addresses need no lookup; A/AAAA need the safe host's addresses.
    if (!decision.rewriteName || (query.qtype !== QTYPE.A && query.qtype !== QTYPE.AAAA)) return finish(null, null, false, null);
    const key = cacheKey({ ...query, name: decision.rewriteName });
    const hit = cache.get(key, flight.now);
    if (hit) return finish(hit.answer, hit.targets, true, null);
    return fetchUpstream(key, flight, decision.rewriteName, query.qtype).then((result) =>
      result ? finish(result.answer, result.targets, false, result.server) : servfail(flight, `the safe search host ${decision.rewriteName} did not resolve`),
    );
  }

  const handle: QueryHandler = (packet, context) => {
    if (!policy || !catalog || !identifier || !snapshot) return null; // fail closed until loaded
    const parsed = parseQuery(packet);
    if (!parsed.ok) {
      if (parsed.action === 'drop') {
        counters.malformedDropped++;
        return null;
      }
      counters.malformedAnswered++;
      return emptyResponse(packet, null, RCODE.FORMERR);
    }
    const query = parsed.query;
    if (query.opcode !== 0) return emptyResponse(packet, query, RCODE.NOTIMP);
    const identity = context.token !== null ? identifier.byToken(context.token, context.address) : identifier.byAddress(context.address);
    if (!identity) {
      counters.refused++;
      return emptyResponse(packet, query, RCODE.REFUSED);
    }
    const client = clientOf(identity);
    const now = Date.now();
    const flight: Flight = { packet, query, context, identity, client, now };
    if (identity.rateLimited && !deps.rateLimiter.allow(context.address, now)) {
      counters.rateLimited++;
      const answer = emptyResponse(packet, query, RCODE.REFUSED);
      record(flight, { kind: 'error', rule: 'refused', reason: 'rate limited: too many queries from this client', category: null, matched: null }, RCODE.REFUSED, false, null);
      return answer;
    }
    if (query.qclass !== 1) return emptyResponse(packet, query, RCODE.NOTIMP);

    const decision = policy.decide(query.name, query.qtype, client, catalog, now);
    switch (decision.kind) {
      case 'blocked':
      case 'bypass_blocked':
        return blockedFrom(flight, decision, false, null);
      case 'safe_search':
        return safeSearch(flight, decision);
      case 'error':
        return servfail(flight, decision.reason);
      default:
        return decision.rule === 'local' ? blockedFrom(flight, decision, false, null) : forward(flight, decision);
    }
  };

  function explain(name: string, context: { address: string; token: string | null }): Explanation | null {
    if (!policy || !catalog || !identifier || !snapshot) return null;
    const identity = context.token !== null ? identifier.byToken(context.token, context.address) : identifier.byAddress(context.address);
    // Someone the filter does not know (a home network, a phone on mobile data) gets the school's default group, as a visitor would.
    const client = clientOf(identity ?? UNKNOWN_CLIENT);
    const bits = catalog.lookup(name);
    const categories = CATEGORY_KEYS.filter((_, bit) => (bits >>> bit) & 1);
    return {
      identified: identity !== null,
      personId: identity?.personId ?? null,
      deviceId: identity?.deviceId ?? null,
      networkId: identity?.networkId ?? null,
      groupId: client.group?.id ?? null,
      groupName: client.group?.name ?? null,
      decision: { ...policy.decide(name, QTYPE.A, client, catalog, Date.now()) },
      categories,
      listEntry: bits ? catalog.matchedEntry(name, bits) : null,
      policyVersion: snapshot.version,
    };
  }

  return {
    handle,
    explain,
    setPolicy(next) {
      snapshot = next;
      policy = compilePolicy(next);
      identifier = compileIdentifier(next);
      clients = new WeakMap();
    },
    setCatalog(next) {
      catalog = next;
    },
    get ready() {
      return policy !== null && catalog !== null;
    },
  };
}
