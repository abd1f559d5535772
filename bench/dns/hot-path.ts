/**
 * A micro-benchmark of the filter's hot path without sockets: the pipeline of
 * one worker (parse, identify, decide against the catalog, cache, answer,
 * record) and the event batches it posts, driven by the bench's query file in
 * a loop. It shows what one query costs in JavaScript, apart from the UDP
 * send and receive that dominate `npm run bench`.
 *
 *   node [--cpu-prof] [--expose-gc] bench/dns/hot-path.ts [--names N] [--seconds S] [--catalog FILE] [--port UPSTREAM_PORT]
 *
 * The catalog is the one `filter serve` compiled (`--catalog DIR/catalog.bin`),
 * or else one built in memory from the block list. Before measuring, every
 * query is asked once so that allowed names are in the cache, as after the
 * bench's warm-up; the measured loop then never waits for the upstream.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { createAnswerCache } from '../../src/filter/cache.ts';
import { catalogFromEntries, loadCatalog } from '../../src/filter/catalog.ts';
import { type EventBatch, EventRecorder } from '../../src/filter/events.ts';
import { createPipeline, newCounters } from '../../src/filter/pipeline.ts';
import { createRateLimiter } from '../../src/filter/rate-limit.ts';
import { standaloneSnapshot } from '../../src/filter/standalone.ts';
import type { QueryContext } from '../../src/filter/transport.ts';
import { createUpstreams } from '../../src/filter/upstream.ts';
import { ensureData } from './data.ts';
import { encodeQuery } from './dns.ts';

const { values } = parseArgs({
  options: { names: { type: 'string' }, seconds: { type: 'string' }, catalog: { type: 'string' }, port: { type: 'string' } },
});
const names = Number(values.names ?? 20_000);
const seconds = Number(values.seconds ?? 5);
const upstreamPort = Number(values.port ?? 15_390);
const dataDir = path.join(os.tmpdir(), 'schoolgate-bench-data', `${names}-names-seed-42`);
const data = ensureData(dataDir, { names, allowed: 10_000, queries: 100_000, seed: 42 });

const here = path.dirname(new URL(import.meta.url).pathname);
const upstreamProcess = spawn(process.execPath, [path.join(here, 'fake-upstream.ts'), String(upstreamPort)], { stdio: 'ignore' });
await new Promise((resolve) => setTimeout(resolve, 300));

try {
  const catalog = values.catalog
    ? loadCatalog(values.catalog)
    : catalogFromEntries(fs.readFileSync(data.blockList, 'utf8').trimEnd().split('\n').map((name) => ({ name, category: 'custom' as const })));
  const events = new EventRecorder(200_000);
  const counters = newCounters();
  const upstreams = createUpstreams({ servers: [`127.0.0.1:${upstreamPort}`], timeoutMs: 2000 });
  const cache = createAnswerCache({ maxBytes: 32 << 20 });
  const pipeline = createPipeline({
    upstreams,
    forwarders: [],
    cache,
    events,
    rateLimiter: createRateLimiter({ rate: 1000, burst: 2000 }),
    counters,
    maxUdpSize: 1232,
  });
  pipeline.setPolicy(standaloneSnapshot());
  pipeline.setCatalog(catalog);

  const packets = fs
    .readFileSync(data.queries, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line, i) => encodeQuery(i & 0xffff, line.split(' ')[0]));
  const context = (): QueryContext => ({ address: '127.0.0.1', transport: 'udp', token: null, receivedAt: performance.now() });

  // Warm-up: every distinct query once, waiting for the upstream, so the cache holds the allowed names.
  for (let i = 0; i < packets.length; i += 200) await Promise.all(packets.slice(i, i + 200).map((p) => pipeline.handle(p, context())));
  const warm = events.take();
  if (warm) events.release(warm.page);
  // With --expose-gc: the heap the catalog, the warm cache and the code take, as a worker keeps them (compare memory changes with it).
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    const { heapUsed, external, arrayBuffers } = process.memoryUsage();
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    console.log(`after warm-up: heap used ${mib(heapUsed)} MiB, array buffers ${mib(arrayBuffers)} MiB (external ${mib(external)} MiB), cache ${cache.stats().entries} entries`);
  }

  // What the worker does every flush: post the batch to the main thread, which gives its page back.
  const channel = new MessageChannel();
  channel.port2.on('message', (batch: EventBatch) => events.release(batch.page));
  const flush = () => {
    const batch = events.take();
    if (batch) channel.port1.postMessage(batch);
  };

  let asked = 0;
  let waited = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  let nextFlush = started + 250;
  const cpuBefore = process.cpuUsage();
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++) {
      const answer = pipeline.handle(packets[asked++ % packets.length], context());
      if (answer instanceof Promise) {
        waited++;
        await answer;
      }
    }
    if (performance.now() >= nextFlush) {
      flush();
      nextFlush += 250;
      await new Promise((resolve) => setImmediate(resolve)); // lets the channel and the GC's tasks run, as the event loop would
    }
  }
  flush();
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  console.log(`${asked} queries in ${elapsed.toFixed(1)} s: ${Math.round(asked / elapsed / 1000)}k per second on one thread, ${((elapsed * 1e6) / asked).toFixed(2)} µs each (CPU ${((cpu.user + cpu.system) / 1e6 / elapsed * 100).toFixed(0)}% incl. the main thread's receiving end)`);
  console.log(`answered synchronously: ${asked - waited}, waited for the upstream: ${waited}; blocked ${counters.queries.blocked}, allowed ${counters.queries.allowed}, cache hits ${counters.cacheHits}; events shed ${events.shed}`);
  upstreams.close();
  channel.port1.close();
} finally {
  upstreamProcess.kill('SIGTERM');
}
