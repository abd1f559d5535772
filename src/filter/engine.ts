/**
 * The DNS engine as the rest of Schoolgate sees it: worker threads that own
 * the sockets and the pipeline, fed a policy snapshot and a shared catalog by
 * messages. The main thread (with its synchronous SQLite work) never answers
 * a query itself; DoH requests reach a worker through `resolve`.
 *
 * Every worker binds the same UDP/TCP ports with SO_REUSEPORT, so the kernel
 * spreads clients over them. A worker does not bind until it has both a
 * policy and a catalog: before that nothing is answered (fail closed).
 */
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { type EventBatch, type FilterEvent, unpackEvents } from './events.ts';
import type { Explanation } from './pipeline.ts';
import type { PolicySnapshot } from './policy.types.ts';
import type { Transport } from './transport.ts';
import type { EngineStats, HostPort, WorkerConfig, WorkerData, WorkerReply, WorkerRequest } from './worker.ts';

export type { EngineStats, WorkerConfig } from './worker.ts';
export type { Explanation } from './pipeline.ts';

/** Where the workers listen (the real ports when 0 was asked for). */
export interface Bound {
  udp: HostPort[];
  tcp: HostPort[];
  dot: HostPort[];
}

export interface EngineOptions extends Omit<WorkerConfig, 'index'> {
  /** Worker threads (each binds every listener with SO_REUSEPORT). */
  workers: number;
  /**
   * With one worker: run it on this thread instead of a worker thread. Saves
   * a V8 isolate (its heap, young generation and malloc arena: tens of MiB),
   * for a process that does nothing else (filter serve); the app keeps its
   * main thread free of DNS work. The worker's heap limits do not apply,
   * and a failure in it is the process's (an unhandled rejection), not a
   * stopped worker.
   */
  inProcess?: boolean;
  /** Receives batches of events as objects (the monitor writes them). Must not throw. */
  onEvents?(events: FilterEvent[]): void;
  /**
   * Receives batches of events packed as the workers send them, instead of
   * `onEvents` (cheaper for a consumer that reads columns, such as filter
   * serve's JSON lines). The batch is on memory the worker writes again once
   * this returns: read it here, keep nothing of it. Must not throw.
   */
  onEventBatch?(batch: EventBatch): void;
  /** Receives the workers' log lines. */
  onLog(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface FilterEngine {
  /** Gives every worker a new policy; resolves when all have it. */
  setPolicy(snapshot: PolicySnapshot): Promise<void>;
  /** Gives every worker a new catalog (a SharedArrayBuffer from `loadCatalog`); resolves when all have it. */
  setCatalog(buffer: SharedArrayBuffer): Promise<void>;
  /** Resolves when every worker listens (after the first policy and catalog). */
  ready(): Promise<Bound>;
  /** Answers one query through a worker (DoH). */
  resolve(packet: Uint8Array, context: { address: string; token: string | null; transport: Transport }): Promise<Uint8Array | null>;
  /** Why `name` is (or is not) blocked for the client at `address` now: the block page asks this. Null before the policy is loaded. */
  explain(name: string, context: { address: string; token: string | null }): Promise<Explanation | null>;
  /** Counters summed over the workers (updated about once a second). */
  stats(): EngineStats;
  close(): Promise<void>;
}

const WORKER_URL = new URL('./worker.ts', import.meta.url);

/** What the engine needs of a worker, in a thread of its own or on this one. */
interface WorkerHandle {
  postMessage(message: WorkerRequest): void;
  on(event: 'message', listener: (message: WorkerReply) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'exit', listener: (code: number) => void): void;
  terminate(): Promise<unknown>;
}

function startThread(config: WorkerConfig): WorkerHandle {
  return new Worker(WORKER_URL, {
    workerData: { dnsWorker: config } satisfies WorkerData,
    name: `dns-${config.index}`,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB, maxOldGenerationSizeMb: workerOldGenerationMb(config.cache.maxBytes) },
  });
}

/**
 * The main thread's young generation cannot be bounded like a worker's
 * (`resourceLimits`) once the process runs, and V8 grows a busy thread's to
 * tens of MiB: filter serve with one worker here had 186-196 MiB resident
 * after the bench's load without this, 130-135 MiB with it. The growth
 * factor is read whenever the young generation would grow, so setting it to
 * 1 keeps it at its starting size (2 MiB of new space), smaller than
 * `WORKER_YOUNG_MB` keeps a worker's, for the same reason. It applies to the
 * whole process, which runs nothing else.
 */
function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * A worker on this thread. Messages each way are delivered on a microtask,
 * not within the call that sends them, so neither side is re-entered, as
 * with a thread; they are not copied (nothing sent is changed afterwards).
 * The worker's module is loaded only here, so the app's main thread never
 * loads the pipeline; requests sent meanwhile wait for it.
 */
function startInProcess(config: WorkerConfig): WorkerHandle {
  keepYoungGenerationSmall();
  let toWorker: ((message: WorkerRequest) => void) | null = null;
  let toEngine: ((message: WorkerReply) => void) | null = null;
  let onError: ((error: Error) => void) | null = null;
  let queued: WorkerRequest[] | null = [];
  import('./worker.ts').then(
    ({ runDnsWorker }) => {
      runDnsWorker(config, {
        post: (message) => queueMicrotask(() => toEngine?.(message)),
        onMessage: (handler) => (toWorker = handler),
      });
      const waiting = queued ?? [];
      queued = null;
      for (const message of waiting) toWorker?.(message);
    },
    (error: Error) => onError?.(error),
  );
  return {
    postMessage(message) {
      if (queued) queued.push(message);
      else queueMicrotask(() => toWorker?.(message));
    },
    on(event: string, listener: (value: never) => void) {
      if (event === 'message') toEngine = listener as (message: WorkerReply) => void;
      else if (event === 'error') onError = listener as (error: Error) => void;
    },
    async terminate() {
      toWorker = null;
      toEngine = null;
    },
  };
}

/**
 * The young generation of a worker's heap, MiB. V8 lets a busy thread's grow
 * to 64 MiB, and a worker answering tens of thousands of queries a second
 * keeps all of it resident; almost nothing a query allocates lives past its
 * answer, so a small one costs no throughput (bench/dns/hot-path.ts ran as
 * fast or faster with 2-8 MiB semi-spaces) and saves most of that.
 */
export const WORKER_YOUNG_MB = 8;

/**
 * The old generation's ceiling for a worker: room for its answer cache (its
 * own byte budget), the policy, the client tables and the code, with a wide
 * margin. Only a leak reaches it; the worker then stops and is reported.
 */
export function workerOldGenerationMb(cacheBytes: number): number {
  return 256 + 4 * Math.ceil(cacheBytes / 2 ** 20);
}

export function createFilterEngine(options: EngineOptions): FilterEngine {
  const { workers: count, inProcess = false, onEvents, onEventBatch, onLog, ...config } = options;
  const anyPort = [...config.listen, ...(config.tls?.listen ?? [])].some((l) => l.port === 0);
  if (anyPort && count > 1) throw new Error('Port 0 (any free port) works with one DNS worker only: each worker would get a different port');
  if (inProcess && count > 1) throw new Error('Only one DNS worker can run on the main thread');
  const workers: WorkerHandle[] = [];
  const latest: EngineStats[] = [];
  const waiting = new Map<number, (reply: WorkerReply) => void>();
  let nextRequest = 1;
  let nextWorker = 0;
  let closed = false;

  const readiness = Promise.all(
    Array.from({ length: Math.max(1, count) }, (_, index) => {
      const workerConfig: WorkerConfig = { ...config, index };
      const worker = inProcess ? startInProcess(workerConfig) : startThread(workerConfig);
      workers.push(worker);
      return new Promise<Bound>((resolve, reject) => {
        worker.on('message', (message: WorkerReply) => {
          switch (message.type) {
            case 'listening':
              resolve({ udp: message.udp, tcp: message.tcp, dot: message.dot });
              break;
            case 'failed':
              reject(new Error(message.message));
              break;
            case 'events':
              try {
                if (onEventBatch) onEventBatch(message.batch);
                else onEvents?.(unpackEvents(message.batch));
              } finally {
                worker.postMessage({ type: 'released', page: message.batch.page } satisfies WorkerRequest);
              }
              break;
            case 'stats':
              latest[index] = message.stats;
              break;
            case 'log':
              onLog(message.level, message.message);
              break;
            default: {
              const done = waiting.get(message.request);
              if (done) {
                waiting.delete(message.request);
                done(message);
              }
            }
          }
        });
        worker.on('error', (error) => {
          onLog('error', `DNS worker ${index} failed: ${error.stack ?? error.message}`);
          reject(error);
        });
        worker.on('exit', (code) => {
          if (!closed) onLog('error', `DNS worker ${index} stopped (exit code ${code})`);
        });
      });
    }),
  ).then((all) => all[0]);
  // Readiness failures surface through ready(); keep them from being unhandled meanwhile.
  readiness.catch(() => {});

  function ask(worker: WorkerHandle, request: Extract<WorkerRequest, { request: number }>): Promise<WorkerReply> {
    return new Promise((resolve) => {
      waiting.set(request.request, resolve);
      worker.postMessage(request);
    });
  }

  return {
    async setPolicy(snapshot) {
      await Promise.all(workers.map((w) => ask(w, { type: 'policy', request: nextRequest++, snapshot })));
    },
    async setCatalog(buffer) {
      await Promise.all(workers.map((w) => ask(w, { type: 'catalog', request: nextRequest++, buffer })));
    },
    ready: () => readiness,
    async resolve(packet, context) {
      const worker = workers[nextWorker++ % workers.length];
      const reply = await ask(worker, { type: 'resolve', request: nextRequest++, packet, ...context });
      return reply.type === 'answer' ? reply.answer : null;
    },
    async explain(name, context) {
      const reply = await ask(workers[nextWorker++ % workers.length], { type: 'explain', request: nextRequest++, name, ...context });
      return reply.type === 'explained' ? reply.explanation : null;
    },
    stats() {
      const total: EngineStats = {} as EngineStats;
      for (const stats of latest) {
        if (!stats) continue;
        for (const [key, value] of Object.entries(stats) as [keyof EngineStats, EngineStats[keyof EngineStats]][]) {
          if (typeof value === 'number') (total[key] as number) = ((total[key] as number) ?? 0) + value;
          else if (Array.isArray(value)) {
            const sum = ((total[key] as number[]) ??= value.map(() => 0));
            value.forEach((v, i) => (sum[i] += v));
          } else {
            const sum = ((total[key] as Record<string, number>) ??= {});
            for (const [k, v] of Object.entries(value as Record<string, number>)) sum[k] = (sum[k] ?? 0) + v;
          }
        }
      }
      return total;
    },
    async close() {
      closed = true;
      await Promise.all(
        workers.map(async (w) => {
          // A worker gets 2 s to close its sockets and send its last events; the timer must not outlive it (it would hold the process open).
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([ask(w, { type: 'stop', request: nextRequest++ }), new Promise((r) => (timer = setTimeout(r, 2000)))]);
          clearTimeout(timer);
          await w.terminate();
        }),
      );
    },
  };
}
