/**
 * The lists part of `npm run bench` (issue 5, "Speed and memory"): compiles
 * the real category lists of ../shared/data with `schoolgate lists sync`,
 * then starts Schoolgate (`schoolgate start --demo`, whose DNS filter swaps
 * to a new catalog file by itself), keeps it answering, replaces the catalog
 * with a second sync and measures the swap: RSS before and at its peak,
 * queries answered during it, and the time until the new catalog blocks.
 * Writes lists.md and lists.json into a results folder and prints lists.md.
 * See bench/README.md.
 *
 *   node bench/lists/run.ts [--quick] [--mirror DIR] [--results-dir DIR] [--keep]
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { killAllNow, memoryKb, processTree, start, stop } from '../dns/processes.ts';
import { killTimedNow, resetPeakRss, sampleRss, timed, type Timed } from './measure.ts';
import { type CompileFigures, type ListsResults, renderLists, type SwapFigures, type SwapRound } from './report.ts';
import { allows, blocks, DnsClient, probeUntilBlocked, startLoad } from './traffic.ts';

const HELP = `Usage: npm run bench:lists -- [options]     (or: node bench/lists/run.ts [options])

  --quick              one source (sinfonietta, 4 lists) and short waits: about 30 s (also BENCH_QUICK=1)
  --mirror DIR         the lists, laid out as the sources publish them (default ../shared/data)
  --results-dir DIR    write lists.md and lists.json into this folder (default bench/results/<UTC stamp>)
  --steady S           seconds of queries before the swap (default 20; quick 4)
  --rate N             queries a second during the steady state and the swap (default 500; quick 300)
  --swaps N            catalog swaps in a row, each with one more name (default 3; quick 1)
  --keep               keep the scratch directory (data dir, catalogs, config)
`;

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
/** The list the fresh name is added to, and whose names the load asks for: gambling, which the demo's pupils never reach. */
const EXTRA_LIST = 'sinfonietta/gambling-hosts.gz';
/** The demo school's pupil lab network is 127.0.1.0/24: queries from here get the pupils' policy. */
const CLIENT_ADDRESS = '127.0.1.1';
/** DNS worker threads of the app: its default, written out so the report can say it. */
const DNS_WORKERS = 2;

interface Options {
  quick: boolean;
  mirror: string;
  resultsDir: string;
  steadyS: number;
  rate: number;
  swaps: number;
  keep: boolean;
}

function readOptions(argv: string[], env: NodeJS.ProcessEnv): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' }, mirror: { type: 'string' }, 'results-dir': { type: 'string' }, steady: { type: 'string' },
      rate: { type: 'string' }, swaps: { type: 'string' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const quick = values.quick === true || /^(1|true|yes)$/i.test(env.BENCH_QUICK ?? '');
  const number = (name: string, value: string | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a whole number above 0, not "${value}"`);
    return n;
  };
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
  return {
    quick,
    mirror: path.resolve(values.mirror ?? path.join(REPO_ROOT, '..', 'shared', 'data')),
    resultsDir: path.resolve(values['results-dir'] ?? path.join(REPO_ROOT, 'bench', 'results', stamp)),
    steadyS: number('steady', values.steady, quick ? 4 : 20),
    rate: number('rate', values.rate, quick ? 300 : 500),
    swaps: number('swaps', values.swaps, quick ? 1 : 3),
    keep: values.keep === true,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let logFile: string | undefined;
function log(message: string): void {
  const line = `[${new Date().toISOString().slice(11, 19)}] lists: ${message}`;
  process.stderr.write(line + '\n');
  if (logFile) fs.appendFileSync(logFile, line + '\n');
}

/** A port free for UDP and TCP on 127.0.0.1, counted up from `from`. */
async function freePort(from: number, taken: Set<number>): Promise<number> {
  const free = (port: number) =>
    Promise.all([
      new Promise<boolean>((resolve) => {
        const s = dgram.createSocket('udp4');
        s.once('error', () => resolve(false));
        s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
      }),
      new Promise<boolean>((resolve) => {
        const s = net.createServer();
        s.once('error', () => resolve(false));
        s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
      }),
    ]).then(([u, t]) => u && t);
  for (let port = from; port < 32000; port++) {
    if (!taken.has(port) && (await free(port))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port on 127.0.0.1');
}

/**
 * A mirror of symbolic links to the real one (nothing is copied), limited to
 * `sources`; with `extraName`, the extra list is a real file: the original's
 * lines plus that name.
 */
function linkMirror(real: string, into: string, sources: string[], extraName: string | null): void {
  fs.mkdirSync(into, { recursive: true });
  const [extraDir, extraFile] = EXTRA_LIST.split('/');
  for (const source of sources) {
    if (source !== extraDir || extraName === null) {
      fs.symlinkSync(path.join(real, source), path.join(into, source));
      continue;
    }
    fs.mkdirSync(path.join(into, source));
    for (const file of fs.readdirSync(path.join(real, source))) {
      if (file !== extraFile) fs.symlinkSync(path.join(real, source, file), path.join(into, source, file));
    }
    const original = gunzipSync(fs.readFileSync(path.join(real, EXTRA_LIST)));
    fs.writeFileSync(path.join(into, EXTRA_LIST), gzipSync(Buffer.concat([original, Buffer.from(`\n0.0.0.0 ${extraName}\n`)]), { level: 1 }));
  }
}

/** Names of a hosts-format list (`0.0.0.0 name`), the first `count`. */
function hostsNames(file: string, count: number): string[] {
  const names: string[] = [];
  for (const line of gunzipSync(fs.readFileSync(file)).toString('utf8').split('\n')) {
    const match = line.match(/^0\.0\.0\.0\s+([a-z0-9.-]+\.[a-z]{2,})\s*$/i);
    if (match && match[1] !== '0.0.0.0') names.push(match[1].toLowerCase());
    if (names.length === count) break;
  }
  return names;
}

interface SyncJson {
  lists: { id: string; status: string }[];
  build: {
    names: number; entriesRead: number; duplicatesMerged: number; bytes: number; tableBytes: number; bytesPerName: number; whyBytes: number; durationMs: number;
    rejected: number; sources: { lines: number }[];
  } | null;
  problems: { id: string; reason: string }[];
}

function compileFigures(label: string, run: Timed, build: NonNullable<SyncJson['build']>, lists: number, missing: string[]): CompileFigures {
  return {
    label,
    lists,
    listsMissing: missing.length,
    missing,
    lines: build.sources.reduce((sum, s) => sum + s.lines, 0),
    entriesRead: build.entriesRead,
    names: build.names,
    duplicatesMerged: build.duplicatesMerged,
    linesNotUsed: build.rejected,
    bytesOnDisk: build.bytes,
    tableBytes: build.tableBytes,
    bytesPerName: build.bytesPerName,
    whyBytes: build.whyBytes,
    buildMs: build.durationMs,
    wallMs: run.wallMs,
    peakRssKb: run.peakRssKb,
    peakFrom: run.peakFrom,
    cpuS: run.userS !== null && run.systemS !== null ? run.userS + run.systemS : null,
  };
}

/** Runs `schoolgate lists sync --mirror DIR --json` and reads its report. */
async function sync(node: string, config: string, mirror: string, logPath: string): Promise<{ run: Timed; report: SyncJson }> {
  const run = await timed(node, [path.join(REPO_ROOT, 'bin', 'schoolgate.js'), 'lists', 'sync', `--config=${config}`, '--mirror', mirror, '--json'], logPath);
  let report: SyncJson;
  try {
    report = JSON.parse(run.stdout) as SyncJson;
  } catch {
    throw new Error(`lists sync (exit code ${run.exitCode}) printed no JSON report; see ${logPath}`);
  }
  // Exit code 1 is "some list had a problem" (the quick run's missing lists); anything else is a failure.
  if ((run.exitCode !== 0 && run.exitCode !== 1) || !report.build) throw new Error(`lists sync failed (exit code ${run.exitCode}); see ${logPath}`);
  return { run, report };
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2), process.env);
  if (!options) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!fs.existsSync(path.join(options.mirror, EXTRA_LIST))) {
    const message = `skipped: ${path.relative(process.cwd(), options.mirror) || options.mirror} not found (it holds the lists; see bench/README.md)`;
    process.stdout.write(`\n## Category lists: compile and swap\n\n${message}\n`);
    process.stderr.write(`lists: ${message}\n`);
    if (process.argv.includes('--results-dir')) {
      fs.mkdirSync(options.resultsDir, { recursive: true });
      fs.writeFileSync(path.join(options.resultsDir, 'lists.md'), `## Category lists: compile and swap\n\n${message}\n`);
    }
    return 0;
  }
  const began = performance.now();
  const resultsDir = options.resultsDir;
  fs.mkdirSync(path.join(resultsDir, 'logs'), { recursive: true });
  logFile = path.join(resultsDir, 'lists-log.txt');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'schoolgate-bench-lists-'));
  if (!options.keep) scratchDir = work;
  const pinned = path.join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');
  const node = fs.existsSync(pinned) ? pinned : process.execPath;
  const loadAtStart = os.loadavg();
  log(`load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} on ${os.availableParallelism()} cores; scratch ${work}`);

  // Sources: every one in the mirror, or sinfonietta alone (4 lists, about 67,000 names) in the quick run.
  const sources = options.quick ? ['sinfonietta'] : ['ut1', 'blocklistproject', 'shadowwhisperer', 'sinfonietta'].filter((s) => fs.existsSync(path.join(options.mirror, s)));
  // One fresh made-up name per swap, each in its own copy of the extra list (so every swap changes the catalog).
  const run = randomBytes(4).toString('hex');
  const freshNames = Array.from({ length: options.swaps }, (_, k) => `sg-bench-${run}-${k + 1}.example`);
  const mirrorA = path.join(work, 'mirror-a');
  linkMirror(options.mirror, mirrorA, sources, null);
  const mirrorsB = freshNames.map((name, k) => {
    const dir = path.join(work, `mirror-b${k + 1}`);
    linkMirror(options.mirror, dir, sources, name);
    return dir;
  });
  const settleMs = options.quick ? 2000 : 8000;
  const gapMs = 3000;

  const taken = new Set<number>();
  const [httpPort, dnsPort, upstreamPort] = [await freePort(15400, taken), await freePort(15400, taken), await freePort(15400, taken)];
  const config = path.join(work, 'schoolgate.yaml');
  const dataDir = path.join(work, 'data');
  fs.writeFileSync(config, [
    `dataDir: ${JSON.stringify(dataDir)}`,
    'log:',
    '  level: info',
    'http:',
    '  host: 127.0.0.1',
    `  port: ${httpPort}`,
    'dns:',
    `  listen: ["127.0.0.1:${dnsPort}"]`,
    `  upstreams: ["127.0.0.1:${upstreamPort}"]`,
    `  workers: ${DNS_WORKERS}`,
    'lists:',
    '  refreshHours: 0', // the app's own refresh stays out of the measurement
    '',
  ].join('\n'));
  fs.copyFileSync(config, path.join(resultsDir, 'lists-schoolgate.yaml'));

  const results: ListsResults = {
    startedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    quick: options.quick,
    mirror: options.mirror,
    sources,
    host: { cpus: os.availableParallelism(), memoryMiB: Math.round(os.totalmem() / 1048576), loadAtStart, loadAtEnd: null, node: process.versions.node, commit: gitCommit() },
    compiles: [],
    swap: null,
    wallS: 0,
  };
  const save = () => fs.writeFileSync(path.join(resultsDir, 'lists.json'), JSON.stringify(results, null, 2));

  // 1. The first sync: every list is checked, kept as a last good copy, and compiled.
  log(`compiling ${sources.join(', ')} from ${options.mirror} (schoolgate lists sync --mirror)`);
  const first = await sync(node, config, mirrorA, path.join(resultsDir, 'logs', 'lists-sync-1.log'));
  results.compiles.push(compileFigures('lists sync, first (enabled lists)', first.run, first.report.build!, first.report.build!.sources.length, first.report.problems.map((p) => p.id)));
  log(`first sync: ${first.report.build!.names} names in ${Math.round(first.run.wallMs)} ms, peak RSS ${Math.round(first.run.peakRssKb / 1024)} MiB`);
  save();

  // 2. Every block list of the catalogue, enabled or not (full run only).
  if (!options.quick) {
    const allLog = path.join(resultsDir, 'logs', 'lists-compile-all.log');
    const all = await timed(node, [path.join(import.meta.dirname, 'compile-all.ts'), options.mirror, path.join(work, 'all', 'catalog.bin')], allLog);
    if (all.exitCode !== 0) throw new Error(`compile-all failed (exit code ${all.exitCode}); see ${allLog}`);
    const report = JSON.parse(all.stdout) as NonNullable<SyncJson['build']> & { notInMirror: string[] };
    results.compiles.push(compileFigures('every block list (enabled or not), build only', all, report, report.sources.length, report.notInMirror));
    log(`every block list: ${report.names} names in ${Math.round(all.wallMs)} ms`);
    save();
  }

  // 3. Schoolgate running on the first catalog, with the demo school (its pupils never reach gambling).
  const blockedNames = hostsNames(path.join(options.mirror, EXTRA_LIST), 300);
  const allowedNames = Array.from({ length: 2000 }, (_, i) => `a${i}.allowed.bench-lists.example`);
  const mix = blockedNames.flatMap((name, i) => [name, allowedNames[i % allowedNames.length], allowedNames[(i + 300) % allowedNames.length]]);
  const upstream = start(node, [path.join(REPO_ROOT, 'bench', 'dns', 'fake-upstream.ts'), String(upstreamPort)], { log: path.join(resultsDir, 'logs', 'lists-upstream.log') });
  const appLog = path.join(resultsDir, 'logs', 'lists-app.log');
  let app: ChildProcess | undefined;
  let client: DnsClient | undefined;
  try {
    log(`starting schoolgate start --demo (DNS on 127.0.0.1:${dnsPort}, web on 127.0.0.1:${httpPort})`);
    const appStarted = performance.now();
    app = start(node, [path.join(REPO_ROOT, 'bin', 'schoolgate.js'), 'start', '--demo', `--config=${config}`], { log: appLog, cwd: work });
    client = await DnsClient.open(dnsPort, CLIENT_ADDRESS);
    for (;;) {
      if (app.exitCode !== null) throw new Error(`schoolgate start exited (code ${app.exitCode}); see ${appLog}`);
      const reply = await client.ask(blockedNames[0], 200);
      if (reply && blocks(reply)) break;
      if (performance.now() - appStarted > 300_000) throw new Error(`schoolgate start did not block ${blockedNames[0]} within 300 s; see ${appLog}`);
      await sleep(100);
    }
    const startupMs = performance.now() - appStarted;
    const appPid = app.pid!;
    log(`answering after ${(startupMs / 1000).toFixed(1)} s (demo school set up on first start); steady load ${options.rate} queries/s for ${options.steadyS} s`);

    // The answers are right before anything is measured: listed names blocked, others and the fresh name let through.
    let blockedRight = 0;
    for (const name of blockedNames.slice(0, 100)) {
      const reply = await client.ask(name);
      if (reply && blocks(reply)) blockedRight++;
    }
    let allowedRight = 0;
    for (const name of allowedNames.slice(0, 100)) {
      const reply = await client.ask(name);
      if (reply && allows(reply)) allowedRight++;
    }
    for (const name of freshNames) {
      const before = await client.ask(name);
      if (!before || !allows(before)) throw new Error(`${name} is not let through before the swap (${JSON.stringify(before)}): the bench's set-up is wrong`);
    }

    // 4. Steady state.
    const load = startLoad(client, mix, options.rate);
    const steadySampler = sampleRss(appPid, 100);
    const steadyFrom = performance.now();
    await sleep(options.steadyS * 1000);
    const steadyTo = performance.now();
    const steadySamples = steadySampler.stop().filter((s) => s.at >= steadyFrom + (steadyTo - steadyFrom) / 2);
    const steadyKb = steadySamples.map((s) => s.kb).sort((a, b) => a - b)[Math.floor(steadySamples.length / 2)];
    const pids = processTree(appPid);
    const hwmBefore = memoryKb(pids, 'VmHWM');
    const peakReset = resetPeakRss(pids);
    log(`steady RSS ${(steadyKb / 1024).toFixed(1)} MiB (${pids.length} process(es)); ${options.swaps} swap(s), each to a catalog with one more made-up name in ${EXTRA_LIST}`);

    // 5. The swaps: each time a sync (in its own process) writes a new catalog beside the old one and renames it into
    // place; the app's watcher (every 3 s) loads it off the serving path and hands it to the DNS workers.
    const catalogFile = path.join(dataDir, 'catalog', 'catalog.bin');
    const swapSampler = sampleRss(appPid, 5);
    const swapFrom = performance.now();
    const timeoutMs = 60_000;
    const swaps: SwapRound[] = [];
    for (const [k, name] of freshNames.entries()) {
      const inodeBefore = fs.statSync(catalogFile).ino;
      let renamedAt: number | null = null;
      const watcher = setInterval(() => {
        try {
          if (renamedAt === null && fs.statSync(catalogFile).ino !== inodeBefore) renamedAt = performance.now();
        } catch {
          // rename is atomic: the file is always there
        }
      }, 2);
      const from = performance.now();
      const exact = probeUntilBlocked(client, () => name, 5, timeoutMs);
      const below = probeUntilBlocked(client, (n) => `p${n}.${name}`, 5, timeoutMs);
      const next = await sync(node, config, mirrorsB[k], path.join(resultsDir, 'logs', `lists-sync-${k + 2}.log`));
      const [exactAt, belowAt] = await Promise.all([exact.blockedAt, below.blockedAt]);
      clearInterval(watcher);
      // Until the next swap (or the end): the old catalog is let go, and garbage collected in this time or not.
      await sleep(k === freshNames.length - 1 ? settleMs : gapMs);
      const to = performance.now();
      const window = swapSampler.peek().filter((x) => x.at >= from && x.at <= to);
      if (k === 0) results.compiles.push(compileFigures('lists sync, second (one list changed: the swap)', next.run, next.report.build!, next.report.build!.sources.length, next.report.problems.map((p) => p.id)));
      swaps.push({
        syncWallMs: next.run.wallMs,
        names: next.report.build!.names,
        renameAfterSyncStartMs: renamedAt === null ? null : renamedAt - from,
        blockedAfterRenameMs: exactAt === null || renamedAt === null ? null : exactAt - renamedAt,
        subdomainBlockedAfterRenameMs: belowAt === null || renamedAt === null ? null : belowAt - renamedAt,
        rssBeforeKb: window.length ? window[0].kb : 0,
        peakKb: Math.max(0, ...window.map((x) => x.kb)),
        rssEndKb: window.length ? window[window.length - 1].kb : 0,
      });
      const last = swaps[swaps.length - 1];
      log(`swap ${k + 1}/${freshNames.length}: ${name} blocked ${last.blockedAfterRenameMs === null ? 'never' : `${Math.round(last.blockedAfterRenameMs)} ms`} after the rename; RSS peak ${(last.peakKb / 1024).toFixed(1)} MiB, ${(last.rssEndKb / 1024).toFixed(1)} MiB at the end`);
    }
    const swapTo = performance.now();
    const swapSamples = swapSampler.stop();
    const hwmAfter = memoryKb(processTree(appPid), 'VmHWM');
    await sleep(1100); // queries sent at the end have had their chance to be answered
    load.stop();
    const steadyQueries = load.window(steadyFrom, steadyTo);
    const swapQueries = load.window(swapFrom, swapTo);
    const sampledPeakKb = Math.max(0, ...swapSamples.map((x) => x.kb));
    const peakKb = peakReset ? Math.max(hwmAfter, sampledPeakKb) : sampledPeakKb;
    const blockedTimes = swaps.map((x) => x.blockedAfterRenameMs).filter((x): x is number => x !== null).sort((a, b) => a - b);
    const swap: SwapFigures = {
      workers: DNS_WORKERS,
      processes: pids.length,
      startupMs,
      answerCheck: { blockedRight, allowedRight, of: 100 },
      rate: options.rate,
      steadyS: options.steadyS,
      steadyRssKb: steadyKb,
      hwmBeforeKb: hwmBefore,
      peakRssKb: peakKb,
      peakFrom: peakReset ? 'VmHWM reset before the first swap (clear_refs), and VmRSS every 5 ms' : 'VmRSS every 5 ms',
      sampledPeakKb,
      samples: swapSamples.length,
      rssAfterKb: swapSamples.length ? swapSamples[swapSamples.length - 1].kb : memoryKb(processTree(appPid), 'VmRSS'),
      settleMs,
      gapMs,
      ratio: peakKb / steadyKb,
      swaps,
      blockedAfterRenameMs: blockedTimes.length === swaps.length ? blockedTimes[Math.floor(blockedTimes.length / 2)] : null,
      probeTimeoutMs: timeoutMs,
      steadyQueries,
      swapQueries,
      swapWindowMs: swapTo - swapFrom,
    };
    results.swap = swap;
    log(`swaps: peak ${(peakKb / 1024).toFixed(1)} MiB = ${swap.ratio.toFixed(2)}x steady; ${swapQueries.unanswered} of ${swapQueries.sent} queries unanswered`);
  } finally {
    client?.close();
    if (app) await stop(app);
    await stop(upstream);
    // The demo prints its first admin's one-time password: of a scratch install, but kept out of results anyway.
    if (fs.existsSync(appLog)) fs.writeFileSync(appLog, fs.readFileSync(appLog, 'utf8').replace(/^(\s*Password:\s*)\S+/m, '$1(removed by the bench)'));
  }
  results.host.loadAtEnd = os.loadavg();
  results.wallS = Math.round((performance.now() - began) / 1000);
  save();
  const summary = renderLists(results);
  fs.writeFileSync(path.join(resultsDir, 'lists.md'), summary);
  process.stdout.write(summary);
  log(`done in ${results.wallS} s: ${path.join(resultsDir, 'lists.md')}`);
  return 0;
}

let scratchDir: string | undefined;
process.on('exit', () => {
  killTimedNow();
  killAllNow();
  if (scratchDir) fs.rmSync(scratchDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping every process the lists bench started`);
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    log(`lists bench failed: ${error.message}`);
    process.exit(2);
  },
);
