/**
 * `schoolgate filter serve`: the DNS filter without the web app or the
 * database — the mode a filter node at a school site builds on, and what the
 * benchmarks start. Same engine and pipeline as `schoolgate start`.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { buildCatalogInWorker, loadCatalog } from '../filter/catalog.ts';
import { createFilterEngine } from '../filter/engine.ts';
import { type EventBatch, eventsToNdjson } from '../filter/events.ts';
import { standaloneSnapshot } from '../filter/standalone.ts';
import { parseHostPort } from '../shared/host-port.ts';
import type { Command } from './command.ts';

/** Batches of events waiting to be written to the events file at most (0.4 s of events at 25 ms a batch); more are shed and counted. */
const MAX_WRITES_WAITING = 16;

/** Compiles the block lists unless the compiled catalog in `dir` was made from these very files. */
async function ensureCatalog(files: string[], dir: string, say: (line: string) => void) {
  const catalogFile = path.join(dir, 'catalog.bin');
  const stampFile = path.join(dir, 'catalog.sources.json');
  const stamp = JSON.stringify(files.map((file) => ({ file: path.resolve(file), size: statSync(file).size, mtimeMs: statSync(file).mtimeMs })));
  const fresh = existsSync(catalogFile) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
  let compiledMs: number | null = null;
  if (!fresh) {
    const started = performance.now();
    const report = await buildCatalogInWorker({
      sources: files.map((file) => ({ name: path.basename(file), category: 'custom' as const, format: 'plain' as const, file })),
      outFile: catalogFile,
    });
    compiledMs = performance.now() - started;
    say(`catalog: compiled ${report.names} names from ${files.length} list(s) in ${Math.round(compiledMs)} ms; ${report.rejected} line(s) not used`);
    for (const problem of report.rejections.slice(0, 10)) say(`  ${problem.file}:${problem.line}: ${problem.reason}`);
    writeFileSync(stampFile, stamp);
  }
  const loadStarted = performance.now();
  const catalog = loadCatalog(catalogFile);
  const loadMs = performance.now() - loadStarted;
  say(`catalog: ${catalog.size} names, ${(catalog.bytes / Math.max(1, catalog.size)).toFixed(1)} bytes/name, loaded in ${loadMs.toFixed(0)} ms${compiledMs === null ? ' (compiled earlier)' : ''}`);
  return catalog;
}

export const filterServeCommand: Command = {
  name: 'filter serve',
  summary: 'Run the DNS filter alone (no web app, no database): block lists for every loopback client',
  usage: 'filter serve --listen HOST:PORT --upstream HOST:PORT --block-list FILE [--data DIR] [--workers N]',
  help: [
    'Each line of a block list FILE is a domain; it blocks the name and its subdomains for',
    'every client on loopback (127.0.0.0/8, ::1). Nobody else is answered (REFUSED).',
    'Blocked A/AAAA queries get 0.0.0.0 / ::, other types no data, with a 10-second TTL.',
    'The lists are compiled into DIR/catalog.bin on first start and loaded from there later.',
    'Nothing is answered until the catalog is loaded (the filter fails closed).',
    'Events (one per answer) go to DIR/events.ndjson, shed and counted when the disk cannot keep up.',
    'Several --listen, --upstream and --block-list flags may be given.',
    'One DNS worker (the default on two cores or fewer) runs on the main thread; more run as threads.',
    'It runs from plain JavaScript copies of its modules (node_modules/.cache/schoolgate), made',
    'again when a source changes; SCHOOLGATE_STRIP=off runs the TypeScript sources instead.',
  ].join('\n'),
  options: {
    listen: { type: 'string', multiple: true },
    upstream: { type: 'string', multiple: true },
    'block-list': { type: 'string', multiple: true },
    data: { type: 'string' },
    workers: { type: 'string' },
    'no-events': { type: 'boolean' },
  },
  async run(ctx) {
    const values = ctx.values as { listen?: string[]; upstream?: string[]; 'block-list'?: string[]; data?: string; workers?: string; 'no-events'?: boolean };
    const problems: string[] = [];
    if (!values.listen?.length) problems.push('--listen HOST:PORT is required');
    if (!values.upstream?.length) problems.push('--upstream HOST:PORT is required');
    if (!values['block-list']?.length) problems.push('--block-list FILE is required');
    const listen = (values.listen ?? []).flatMap((text) => {
      try {
        return [parseHostPort(text)];
      } catch (error) {
        problems.push(`--listen: ${(error as Error).message}`);
        return [];
      }
    });
    for (const file of values['block-list'] ?? []) if (!existsSync(file)) problems.push(`--block-list: ${file} does not exist`);
    // One worker on a machine of two cores or fewer: on the main thread it answers as fast as two threads (the client
    // or the kernel's UDP work needs the other core) at less CPU per query, without a second isolate's memory.
    const workers = values.workers === undefined ? (availableParallelism() <= 2 ? 1 : 2) : Number(values.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) problems.push(`--workers: "${values.workers}" must be a whole number from 1 to 64`);
    if (problems.length) {
      for (const p of problems) console.error(`schoolgate filter serve: ${p}`);
      return 2;
    }
    const dir = path.resolve(values.data ?? './data/filter');
    mkdirSync(dir, { recursive: true });
    const say = (line: string) => ctx.out(line);

    const catalog = await ensureCatalog(values['block-list']!, dir, say);

    const eventsPath = path.join(dir, 'events.ndjson');
    let eventsFile = values['no-events'] ? null : createWriteStream(eventsPath, { flags: 'a' });
    eventsFile?.on('error', (error) => {
      console.error(`schoolgate filter serve: cannot write ${eventsPath}, so events are no longer written: ${error.message}`);
      eventsFile = null;
    });
    let shed = 0;
    // Buffers of JSON lines used over and over: once warm, writing events allocates nothing.
    const spare: Uint8Array[] = [];
    let writing = 0;
    const onEventBatch = (batch: EventBatch) => {
      if (!eventsFile) return;
      if (writing >= MAX_WRITES_WAITING) {
        shed += batch.count;
        return;
      }
      const lines = eventsToNdjson(batch, spare.pop());
      writing++;
      eventsFile.write(lines, () => {
        writing--;
        spare.push(new Uint8Array(lines.buffer));
      });
    };

    const engine = createFilterEngine({
      workers,
      inProcess: workers === 1, // nothing else runs here: the worker can have the main thread (one isolate instead of two)
      listen,
      tls: null,
      upstreams: values.upstream!,
      upstreamTimeoutMs: 2000,
      cache: { maxBytes: 32 << 20, minTtl: 0, maxTtl: 86_400, negativeTtl: 3600, staleSeconds: 86_400 },
      rateLimit: { rate: 1000, burst: 2000 },
      tcpIdleMs: 10_000,
      maxUdpSize: 1232,
      eventBuffer: 50_000,
      flushMs: 25, // small batches: their pages and JSON buffers stay small (measured: less memory and faster than 100 ms)
      onEventBatch,
      onLog: (level, message) => (level === 'info' ? say(message) : console.error(message)),
    });
    await Promise.all([engine.setCatalog(catalog.buffer), engine.setPolicy(standaloneSnapshot())]);
    const bound = await engine.ready();
    say(`filter: answering DNS on ${bound.udp.map((a) => `${a.host}:${a.port}`).join(', ')} (UDP and TCP) with ${workers} worker(s)`);

    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await engine.close();
    const stats = engine.stats();
    const answered = Object.values(stats.queries ?? {}).reduce((a, b) => a + b, 0);
    say(`filter: stopped after ${answered} answers; ${(stats.eventsShed ?? 0) + shed} events shed`);
    await new Promise<void>((resolve) => (eventsFile ? eventsFile.end(resolve) : resolve()));
    return 0;
  },
};
