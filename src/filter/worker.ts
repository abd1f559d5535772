/**
 * One DNS worker: its own sockets (SO_REUSEPORT), pipeline, cache and
 * upstream connections; the catalog is shared with the other workers through
 * a SharedArrayBuffer. It talks to the engine only by messages.
 *
 * It normally runs in a worker thread of its own (this module is the
 * thread's entry). `filter serve` with one worker runs it on the main thread
 * instead (`runDnsWorker` with an in-process endpoint): the same code and
 * messages, without a second V8 isolate and its heap.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createAnswerCache } from './cache.ts';
import { catalogFromShared } from './catalog.ts';
import { type EventBatch, EventRecorder } from './events.ts';
import { createPipeline, type Explanation, newCounters, type PipelineCounters } from './pipeline.ts';
import type { PolicySnapshot } from './policy.types.ts';
import { createRateLimiter } from './rate-limit.ts';
import { type Listener, listenStream, listenUdp, type Transport, type TransportCounters } from './transport.ts';
import { createUpstreams } from './upstream.ts';

export interface HostPort {
  host: string;
  port: number;
}

export interface WorkerConfig {
  index: number;
  /** Plain DNS: UDP and TCP on each address. */
  listen: { host: string; port: number }[];
  /** DNS-over-TLS listeners, when a certificate is configured. */
  tls: { listen: { host: string; port: number }[]; key: string; cert: string } | null;
  upstreams: string[];
  upstreamTimeoutMs: number;
  cache: { maxBytes: number; minTtl: number; maxTtl: number; negativeTtl: number; staleSeconds: number };
  rateLimit: { rate: number; burst: number };
  tcpIdleMs: number;
  maxUdpSize: number;
  /** Events waiting for the main thread at most; more are shed and counted. */
  eventBuffer: number;
  /** How often events and counters go to the main thread. */
  flushMs: number;
}

export type EngineStats = PipelineCounters & TransportCounters & { eventsShed: number; cacheEntries: number; cacheBytes: number };

export type WorkerRequest =
  | { type: 'policy'; request: number; snapshot: PolicySnapshot }
  | { type: 'catalog'; request: number; buffer: SharedArrayBuffer }
  | { type: 'resolve'; request: number; packet: Uint8Array; address: string; token: string | null; transport: Transport }
  | { type: 'explain'; request: number; name: string; address: string; token: string | null }
  /** The main thread is done with an events batch: its page may be written again. */
  | { type: 'released'; page: number }
  | { type: 'stop'; request: number };

export type WorkerReply =
  | { type: 'listening'; udp: HostPort[]; tcp: HostPort[]; dot: HostPort[] }
  | { type: 'failed'; message: string }
  /** A batch on shared memory: the main thread reads it, then answers `released`. */
  | { type: 'events'; batch: EventBatch }
  | { type: 'stats'; stats: EngineStats }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'done'; request: number }
  | { type: 'answer'; request: number; answer: Uint8Array | null }
  | { type: 'explained'; request: number; explanation: Explanation | null };

/** How a worker and the engine exchange messages: a thread's port, or calls within one thread. */
export interface WorkerEndpoint {
  post(message: WorkerReply): void;
  onMessage(handler: (message: WorkerRequest) => void): void;
}

/** What the engine passes a worker thread as its `workerData`. */
export interface WorkerData {
  dnsWorker: WorkerConfig;
}

/** Starts a DNS worker that takes its requests from, and answers through, `endpoint`. */
export function runDnsWorker(config: WorkerConfig, endpoint: WorkerEndpoint): void {
  const post = (message: WorkerReply) => endpoint.post(message);

  const counters = newCounters();
  const transportCounters: TransportCounters = { errors: 0, tcpConnections: 0, tcpIdleClosed: 0 };
  const events = new EventRecorder(config.eventBuffer);
  const cache = createAnswerCache(config.cache);
  const upstreams = createUpstreams({ servers: config.upstreams, timeoutMs: config.upstreamTimeoutMs });
  let forwarders: { zone: string; upstreams: ReturnType<typeof createUpstreams> }[] = [];
  const pipeline = createPipeline({
    upstreams,
    get forwarders() {
      return forwarders;
    },
    cache,
    events,
    rateLimiter: createRateLimiter(config.rateLimit),
    counters,
    maxUdpSize: config.maxUdpSize,
  });

  let listeners: Listener[] | null = null;

  /**
   * UDP and TCP on one port. With port 0, TCP takes the number UDP got; when
   * another program already holds that TCP port, both are given up and a new
   * number is tried.
   */
  async function listenPair(host: string, wanted: number) {
    for (let attempt = 1; ; attempt++) {
      const u = await listenUdp(host, wanted, pipeline.handle, transportCounters, { reusePort: true });
      try {
        const t = await listenStream(host, u.address.port, pipeline.handle, transportCounters, { reusePort: true, idleMs: config.tcpIdleMs });
        return { u, t };
      } catch (error) {
        await u.close();
        if (wanted !== 0 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === 10) throw error;
      }
    }
  }

  async function listenOnce() {
    if (listeners || !pipeline.ready) return;
    listeners = [];
    try {
      const udp: { host: string; port: number }[] = [];
      const tcp: { host: string; port: number }[] = [];
      for (const { host, port: p } of config.listen) {
        const { u, t } = await listenPair(host, p);
        listeners.push(u, t);
        udp.push(u.address);
        tcp.push(t.address);
      }
      const dot: { host: string; port: number }[] = [];
      for (const { host, port: p } of config.tls?.listen ?? []) {
        const d = await listenStream(host, p, pipeline.handle, transportCounters, { reusePort: true, idleMs: config.tcpIdleMs, tls: config.tls! });
        listeners.push(d);
        dot.push(d.address);
      }
      post({ type: 'listening', udp, tcp, dot });
    } catch (error) {
      post({ type: 'failed', message: `DNS worker ${config.index} could not listen: ${(error as Error).message}` });
    }
  }

  function flush() {
    const batch = events.take();
    if (batch) post({ type: 'events', batch });
    const stats = cache.stats();
    post({ type: 'stats', stats: { ...counters, ...transportCounters, eventsShed: events.shed, cacheEntries: stats.entries, cacheBytes: stats.bytes } });
  }
  const timer = setInterval(flush, config.flushMs);

  /** Wakes `flushAll` when the main thread gives a page back. */
  let onRelease: (() => void) | null = null;

  /** Sends every waiting event before the worker stops, waiting (up to `ms`) for the main thread to give a page back when both are out. */
  async function flushAll(ms: number) {
    const until = performance.now() + ms;
    while (events.size > 0 && performance.now() < until) {
      const batch = events.take();
      if (batch) {
        post({ type: 'events', batch });
        continue;
      }
      await new Promise<void>((resolve) => {
        onRelease = resolve;
        setTimeout(resolve, 20);
      });
      onRelease = null;
    }
  }

  endpoint.onMessage(async (message: WorkerRequest) => {
    switch (message.type) {
      case 'policy':
        pipeline.setPolicy(message.snapshot);
        for (const f of forwarders) f.upstreams.close();
        forwarders = message.snapshot.conditionalForwarders.map((f) => ({
          zone: f.zone.toLowerCase().replace(/\.$/, ''),
          upstreams: createUpstreams({ servers: f.servers, timeoutMs: config.upstreamTimeoutMs }),
        }));
        post({ type: 'done', request: message.request });
        await listenOnce();
        break;
      case 'catalog':
        pipeline.setCatalog(catalogFromShared(message.buffer));
        post({ type: 'done', request: message.request });
        await listenOnce();
        break;
      case 'resolve': {
        const answer = await pipeline.handle(message.packet, { address: message.address, transport: message.transport, token: message.token, receivedAt: performance.now() });
        post({ type: 'answer', request: message.request, answer });
        break;
      }
      case 'explain':
        post({ type: 'explained', request: message.request, explanation: pipeline.explain(message.name, message) });
        break;
      case 'released':
        events.release(message.page);
        onRelease?.();
        break;
      case 'stop':
        clearInterval(timer);
        await Promise.all((listeners ?? []).map((l) => l.close()));
        await flushAll(1000);
        flush(); // the counters, with any events shed at the end
        upstreams.close();
        for (const f of forwarders) f.upstreams.close();
        post({ type: 'done', request: message.request });
        break;
    }
  });
}

if (!isMainThread && parentPort && (workerData as Partial<WorkerData> | null)?.dnsWorker) {
  const port = parentPort;
  runDnsWorker((workerData as WorkerData).dnsWorker, {
    post: (message) => port.postMessage(message),
    onMessage: (handler) => port.on('message', handler),
  });
}
