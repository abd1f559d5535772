/**
 * `npm run bench`: Schoolgate's DNS filter side by side with dnsmasq, unbound
 * (one thread) and a bare Node UDP echo server, all given the same block list,
 * the same query mix and the same instant upstream, all driven by dnsperf, in
 * one run on one machine. Writes bench/results/<UTC stamp>/summary.md and
 * results.json and prints the summary. See bench/README.md.
 *
 *   node bench/dns/run.ts [--quick] [--peers echo,dnsmasq,unbound,schoolgate] [--reps N] ...
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureData, type BenchData } from './data.ts';
import { runDnsperf, type PerfResult } from './dnsperf.ts';
import { catalogFromLog, PEER_IDS, PEERS, schoolgateDataDir, type Peer, type PeerContext, type PeerId } from './peers.ts';
import { checkAnswers, timeToBlockedAnswer, type StartupResult } from './probe.ts';
import { killAllNow, memoryKb, processTree, setClockTicks, start, stop } from './processes.ts';
import { renderSummary, type BenchResults, type PeerResult, type RoundResult } from './report.ts';

const HELP = `Usage: npm run bench -- [options]      (or: node bench/dns/run.ts [options])

  --quick              a smoke run: 20,000 names, 3 s runs, 1 round (also BENCH_QUICK=1)
  --peers LIST         comma-separated, from: ${PEER_IDS.join(', ')} (default: all; also BENCH_PEERS)
  --names N            listed names (default 1,000,000; quick 20,000)
  --duration S         seconds per measured dnsperf run (default 20; quick 3)
  --reps N             rounds; each peer is started fresh in every round (default 3; quick 1)
  --seed N             data seed (default 42)
  --out DIR            results root (default bench/results)
  --data-dir DIR       where generated data is kept and reused (default: a folder in the system temp dir)
  --schoolgate-cmd CMD Schoolgate's command line instead of \`node bin/schoolgate.js filter serve ...\`;
                       @PORT@ @UPSTREAM@ @LIST@ @DIR@ are filled in, a leading \`node\` is the pinned Node
                       (also SCHOOLGATE_CMD)
  --no-install         never run apt-get, even as root
  --keep               keep the scratch directory (configs, catalog, raw dnsperf output)
  --no-lists           leave out the category-lists part that runs after the peers (bench/lists/run.ts)
`;

/** The run's settings, from flags and environment. */
interface Options {
  quick: boolean;
  peers: PeerId[];
  names: number;
  allowed: number;
  queries: number;
  seed: number;
  duration: number;
  warmup: number;
  reps: number;
  clients: number;
  outstanding: number;
  fixedQps: number;
  settleMs: number;
  startupTimeoutS: number;
  out: string;
  dataDir: string;
  schoolgateCommand?: string;
  install: boolean;
  keep: boolean;
  /** Run the lists part (bench/lists/run.ts) after the peers, into the same results folder. */
  lists: boolean;
}

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

function readOptions(argv: string[], env: NodeJS.ProcessEnv): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' }, peers: { type: 'string' }, names: { type: 'string' }, duration: { type: 'string' },
      reps: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, 'data-dir': { type: 'string' },
      'schoolgate-cmd': { type: 'string' }, 'no-install': { type: 'boolean' }, keep: { type: 'boolean' }, 'no-lists': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const quick = values.quick === true || /^(1|true|yes)$/i.test(env.BENCH_QUICK ?? '');
  const number = (name: string, value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value.replace(/[_,]/g, ''));
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a whole number above 0, not "${value}"`);
    return n;
  };
  const peerList = (values.peers ?? env.BENCH_PEERS ?? PEER_IDS.join(',')).split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of peerList) if (!(PEER_IDS as readonly string[]).includes(p)) throw new Error(`--peers: unknown peer "${p}" (known: ${PEER_IDS.join(', ')})`);
  const names = number('names', values.names, quick ? 20_000 : 1_000_000);
  const seed = number('seed', values.seed, 42);
  return {
    quick,
    peers: PEER_IDS.filter((p) => peerList.includes(p)), // always the same order
    names,
    allowed: Math.min(10_000, names),
    queries: quick ? 100_000 : 1_000_000,
    seed,
    duration: number('duration', values.duration, quick ? 3 : 20),
    warmup: quick ? 1 : 5,
    reps: number('reps', values.reps, quick ? 1 : 3),
    clients: 10,
    outstanding: 100,
    fixedQps: 5000,
    settleMs: quick ? 1000 : 2000,
    startupTimeoutS: quick ? 120 : 600,
    out: path.resolve(values.out ?? path.join(REPO_ROOT, 'bench', 'results')),
    dataDir: path.resolve(values['data-dir'] ?? path.join(os.tmpdir(), 'schoolgate-bench-data', `${names}-names-seed-${seed}`)),
    schoolgateCommand: values['schoolgate-cmd'] ?? (env.SCHOOLGATE_CMD || undefined),
    install: values['no-install'] !== true,
    keep: values.keep === true,
    lists: values['no-lists'] !== true,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let logFile: string | undefined;
/** Progress to stderr (stdout is kept for the summary) and to the run's log.txt. */
function log(message: string): void {
  const line = `[${new Date().toISOString().slice(11, 19)}] ${message}`;
  process.stderr.write(line + '\n');
  if (logFile) fs.appendFileSync(logFile, line + '\n');
}

// ---------- tools ----------

/** The Debian package that brings each command. */
const PACKAGES: Record<string, string> = {
  dnsperf: 'dnsperf', time: 'time', dnsmasq: 'dnsmasq-base', unbound: 'unbound', 'unbound-checkconf': 'unbound',
};

function findTool(name: string): string | undefined {
  if (name === 'time') return fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined; // GNU time, not the shell keyword
  // sbin is not on a normal user's PATH, but dnsmasq and unbound live there.
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Finds every command the chosen peers need; as root, installs what is missing from Debian. */
function ensureTools(names: string[], install: boolean): Record<string, string> {
  const missing = () => names.filter((n) => !findTool(n));
  let absent = missing();
  const packages = () => [...new Set(absent.map((n) => PACKAGES[n]))];
  const isRoot = process.getuid?.() === 0;
  if (absent.length > 0 && isRoot && install && findTool('apt-get')) {
    const aptGet = (...args: string[]) => spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], {
      stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status;
    log(`installing ${packages().join(' ')} from Debian (unbound's package may start a system service on port 53; the bench leaves it alone)`);
    if (aptGet('install', '-y', ...packages()) !== 0) {
      log('apt-get install failed; updating the package lists and trying once more');
      aptGet('update');
      aptGet('install', '-y', ...packages());
    }
    absent = missing();
  }
  if (absent.length > 0) {
    throw new Error(`missing ${absent.join(', ')}. Install with: sudo apt-get install -y ${packages().join(' ')}` +
      ' (or leave the peer out with --peers)');
  }
  return Object.fromEntries(names.map((n) => [n, findTool(n) as string]));
}

/** First line of a command's output, for the versions line. */
function versionOf(command: string, args: string[], pattern: RegExp): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.match(pattern)?.[1] ?? '?';
}

// ---------- ports ----------

const taken = new Set<number>();

function portFree(port: number): Promise<boolean> {
  // dnsmasq and unbound listen on TCP as well as UDP, so both must be free.
  const udp = new Promise<boolean>((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
  const tcp = new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  return Promise.all([udp, tcp]).then(([u, t]) => u && t);
}

/**
 * A port free on 127.0.0.1, counted up from 15300: below the kernel's ephemeral
 * range, so dnsperf's own sockets can never take it between two peers.
 */
async function nextPort(): Promise<number> {
  for (let port = 15300; port < 32000; port++) {
    if (!taken.has(port) && (await portFree(port))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port between 15300 and 32000 on 127.0.0.1');
}

// ---------- measuring one peer ----------

/** What every measurement needs. */
interface Run {
  options: Options;
  context: PeerContext;
  data: BenchData;
  ports: Record<PeerId, number>;
  upstreamPids: number[];
  resultsDir: string;
}

/** The last lines of a log, to put in an error message. */
function tail(file: string, lines = 5): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

/** Starts a peer and waits for its first blocked answer; stops it again if that never comes. */
async function startPeer(run: Run, peer: Peer, logName: string): Promise<StartupResult> {
  const port = run.ports[peer.id];
  const launch = peer.launch(run.context, port);
  const logPath = path.join(run.resultsDir, 'logs', logName);
  fs.appendFileSync(logPath, `$ ${[launch.command, ...launch.args].join(' ')}\n`);
  try {
    return await timeToBlockedAnswer(port, run.data.probeName,
      () => start(launch.command, launch.args, { log: logPath, cwd: launch.cwd }), run.options.startupTimeoutS * 1000);
  } catch (error) {
    const child = (error as { child?: ChildProcess }).child;
    if (child) await stop(child);
    throw new Error(`${(error as Error).message}; log: ${tail(logPath)}`);
  }
}

/** Bytes of all files under a directory. */
function directoryBytes(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** Schoolgate's first start of the run, with an empty --data directory, so it compiles its catalog. */
async function compilingStart(run: Run, peer: Peer, result: RoundResult): Promise<void> {
  const dir = schoolgateDataDir(run.context);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const up = await startPeer(run, peer, 'schoolgate-compile.log');
  try {
    await sleep(run.options.settleMs);
    result.compile = {
      startupMs: up.blockedAnswerMs,
      firstAnswerMs: up.firstAnswerMs,
      rssIdleKb: memoryKb(processTree(up.child.pid!), 'VmRSS'),
      catalogDiskBytes: directoryBytes(dir),
    };
  } finally {
    await stop(up.child);
  }
  result.catalog = catalogFromLog(fs.readFileSync(path.join(run.resultsDir, 'logs', 'schoolgate-compile.log'), 'utf8'));
  log(`  compiling start: first blocked answer after ${(up.blockedAnswerMs / 1000).toFixed(2)} s, ` +
    `--data directory ${(result.compile.catalogDiskBytes / 2 ** 20).toFixed(1)} MiB`);
}

/** One round for one peer: start, check answers, warm up, closed loop, fixed rate, memory, stop. */
async function measurePeer(run: Run, peer: Peer, round: number): Promise<RoundResult> {
  const result: RoundResult = { round };
  const { options } = run;
  const port = run.ports[peer.id];
  let child: ChildProcess | undefined;
  try {
    if (peer.id === 'unbound' && round === 1) {
      // Checked once, before the first start: with 1,000,000 zones the check takes seconds.
      peer.launch(run.context, port); // writes the config, so it can be checked first
      const check = spawnSync(run.context.tools['unbound-checkconf'], [path.join(run.context.workDir, 'unbound.conf')], { encoding: 'utf8' });
      if (check.status !== 0) throw new Error(`unbound-checkconf: ${check.stdout}${check.stderr}`.trim());
    }
    if (peer.id === 'schoolgate' && round === 1) await compilingStart(run, peer, result);

    const logName = `${peer.id}-r${round}.log`;
    const up = await startPeer(run, peer, logName);
    child = up.child;
    result.startupMs = up.blockedAnswerMs;
    result.firstAnswerMs = up.firstAnswerMs;
    await sleep(options.settleMs);
    const pids = processTree(child.pid!);
    result.processes = pids.length;
    result.rssIdleKb = memoryKb(pids, 'VmRSS');
    log(`  up: first blocked answer after ${(up.blockedAnswerMs / 1000).toFixed(2)} s; ${pids.length} process(es), RSS ${(result.rssIdleKb / 1024).toFixed(0)} MiB`);

    if (peer.checksAnswers) {
      const check = await checkAnswers(port, run.data.blockedSample, run.data.allowedSample);
      result.check = check;
      log(`  answers: ${check.blockedRight}/${check.blockedTotal} blocked names blocked, ${check.allowedRight}/${check.allowedTotal} allowed names resolved`);
    }

    const perf = async (label: string, seconds: number, extra: { qps?: number; outstanding?: number; verbose?: boolean }): Promise<PerfResult> => {
      const name = `${peer.id}-r${round}-${label}`;
      const measured = await runDnsperf({
        port,
        queries: run.data.queries,
        seconds,
        clients: options.clients,
        outstanding: extra.outstanding ?? options.outstanding,
        qps: extra.qps,
        verbose: extra.verbose ?? false,
        rawFile: path.join(run.context.workDir, `${name}.out`),
        summaryFile: path.join(run.resultsDir, 'dnsperf', `${name}.txt`),
        serverPids: processTree(child!.pid!),
        upstreamPids: run.upstreamPids,
      });
      const p99 = measured.p99Ms !== undefined ? `, p50 ${measured.p50Ms?.toFixed(3)} ms, p99 ${measured.p99Ms.toFixed(3)} ms` : '';
      log(`  ${label}: ${measured.qps} qps, ${measured.lostPct}% lost${p99}, server CPU ${measured.serverCpuPct}%, dnsperf ${measured.dnsperfCpuPct}%, machine ${measured.machineCpuPct}%`);
      await sleep(1000);
      return measured;
    };
    // The warm-up fills caches and lets JITs settle; its numbers are kept but not compared.
    result.warmup = await perf('warmup', options.warmup, {});
    result.closed = await perf('closed', options.duration, {});
    // The fixed rate needs room for bursts: a queue, not the closed loop's limit, caps it.
    result.fixed = await perf(`fixed${options.fixedQps}`, options.duration, { qps: options.fixedQps, outstanding: 1000, verbose: true });

    const after = processTree(child.pid!);
    result.rssLoadedKb = memoryKb(after, 'VmRSS');
    result.hwmKb = memoryKb(after, 'VmHWM');
    log(`  RSS after load ${(result.rssLoadedKb / 1024).toFixed(0)} MiB (peak ${(result.hwmKb / 1024).toFixed(0)} MiB)`);
    if (peer.id === 'schoolgate') {
      result.catalog = catalogFromLog(fs.readFileSync(path.join(run.resultsDir, 'logs', logName), 'utf8')) ?? result.catalog ?? null;
    }
  } catch (error) {
    result.error = (error as Error).message;
    log(`  failed: ${result.error}`);
  } finally {
    if (child) await stop(child);
  }
  return result;
}

/** Why Schoolgate cannot be measured in this checkout, or undefined when it can. */
function schoolgateUnavailable(context: PeerContext): string | undefined {
  if (context.schoolgateCommand) return undefined;
  const help = spawnSync(context.node, ['bin/schoolgate.js', 'filter', 'serve', '--help'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  if (help.status === 0 && `${help.stdout}${help.stderr}`.includes('--block-list')) return undefined;
  return '`schoolgate filter serve` is not in this checkout yet (its --help does not mention --block-list)';
}

// ---------- main ----------

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2), process.env);
  if (!options) {
    process.stdout.write(HELP);
    return 0;
  }
  const began = performance.now();
  const startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const resultsDir = path.join(options.out, startedAt.replace(/[-:]/g, ''));
  fs.mkdirSync(path.join(resultsDir, 'logs'), { recursive: true });
  fs.mkdirSync(path.join(resultsDir, 'dnsperf'), { recursive: true });
  logFile = path.join(resultsDir, 'log.txt');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'schoolgate-bench-'));
  if (!options.keep) scratchDir = workDir;

  const tools = ensureTools(['dnsperf', 'time', ...new Set(options.peers.flatMap((p) => PEERS[p].tools))], options.install);
  setClockTicks(Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout));
  // The pinned Node 24: bin/schoolgate.js runs in-process on it instead of re-executing itself.
  const pinned = path.join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');
  const node = fs.existsSync(pinned) ? pinned : process.execPath;

  log(`results in ${resultsDir}; scratch in ${workDir}`);
  log(`data: ${options.names.toLocaleString('en-GB')} names, seed ${options.seed}, in ${options.dataDir}`);
  const data = ensureData(options.dataDir, { names: options.names, allowed: options.allowed, queries: options.queries, seed: options.seed });
  log(data.generatedInS > 0 ? `data: generated in ${data.generatedInS.toFixed(1)} s` : 'data: reused');

  const upstreamPort = await nextPort();
  const ports = {} as Record<PeerId, number>;
  for (const id of options.peers) ports[id] = await nextPort();
  const context: PeerContext = { data, workDir, upstreamPort, repoRoot: REPO_ROOT, node, tools, schoolgateCommand: options.schoolgateCommand };

  const cpus = os.availableParallelism();
  const results: BenchResults = {
    startedAt,
    quick: options.quick,
    settings: {
      names: options.names, allowed: options.allowed, queries: options.queries, seed: options.seed, duration: options.duration,
      warmup: options.warmup, reps: options.reps, clients: options.clients, outstanding: options.outstanding, fixedQps: options.fixedQps,
      peers: options.peers, ports, upstreamPort,
    },
    host: {
      cpus, cpuModel: os.cpus()[0]?.model.trim() ?? '?', memoryMiB: Math.round(os.totalmem() / 2 ** 20), kernel: os.release(),
      loadAtStart: os.loadavg()[0].toFixed(2),
    },
    versions: {
      node: versionOf(node, ['--version'], /v([\d.]+)/),
      dnsperf: versionOf(tools.dnsperf, ['-h'], /Version ([\d.]+)/),
      ...(tools.dnsmasq ? { dnsmasq: versionOf(tools.dnsmasq, ['--version'], /version ([\d.]+)/i) } : {}),
      ...(tools.unbound ? { unbound: versionOf(tools.unbound, ['-V'], /Version ([\d.]+)/) } : {}),
      schoolgate: versionOf('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'], /(\w+)/),
    },
    data: { dir: data.dir, probeName: data.probeName, generatedInS: data.generatedInS },
    peers: options.peers.map((id): PeerResult => ({ id, label: PEERS[id].label, rounds: [] })),
    notes: [],
  };
  if (cpus !== 2) results.notes.push(`The targets are for a 2-core machine; this one has ${cpus} CPUs.`);
  if (os.loadavg()[0] > 0.5) results.notes.push(`The machine was already busy at the start (load ${os.loadavg()[0].toFixed(2)}).`);
  const save = () => fs.writeFileSync(path.join(resultsDir, 'results.json'), JSON.stringify(results, null, 1) + '\n');

  const schoolgate = results.peers.find((p) => p.id === 'schoolgate');
  if (schoolgate) {
    const launch = PEERS.schoolgate.launch(context, ports.schoolgate);
    schoolgate.command = [launch.command, ...launch.args].join(' ');
    if (options.schoolgateCommand) schoolgate.label = 'Schoolgate (--schoolgate-cmd)';
    schoolgate.skipped = schoolgateUnavailable(context);
    if (schoolgate.skipped) log(`schoolgate: skipped: ${schoolgate.skipped}`);
  }

  let upstream: ChildProcess | undefined;
  try {
    upstream = start(node, [path.join(import.meta.dirname, 'fake-upstream.ts'), String(upstreamPort)], { log: path.join(resultsDir, 'logs', 'upstream.log') });
    for (let waited = 0; ; waited += 100) {
      const check = await checkAnswers(upstreamPort, [], data.allowedSample.slice(0, 1), 50);
      if (check.allowedRight === 1) break;
      if (waited > 20_000) throw new Error(`the fake upstream did not answer; see ${path.join(resultsDir, 'logs', 'upstream.log')}`);
      await sleep(100);
    }
    log(`fake upstream on 127.0.0.1:${upstreamPort}`);
    const upstreamPids = [upstream.pid!];

    const run: Run = { options, context, data, ports, upstreamPids, resultsDir };
    for (let round = 1; round <= options.reps; round++) {
      for (const peerResult of results.peers) {
        if (peerResult.skipped) continue;
        log(`== ${peerResult.label}, round ${round} of ${options.reps}, port ${ports[peerResult.id]}`);
        peerResult.rounds.push(await measurePeer(run, PEERS[peerResult.id], round));
        save();
        await sleep(1000);
      }
    }
  } finally {
    if (upstream) await stop(upstream);
  }

  results.finishedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  results.wallS = Math.round((performance.now() - began) / 1000);
  save();
  for (const file of ['dnsmasq.conf', 'unbound.conf']) {
    if (fs.existsSync(path.join(workDir, file))) fs.copyFileSync(path.join(workDir, file), path.join(resultsDir, file));
  }
  const summary = renderSummary(results);
  fs.writeFileSync(path.join(resultsDir, 'summary.md'), summary);
  process.stdout.write(summary);
  log(`done in ${(results.wallS / 60).toFixed(1)} min: ${path.join(resultsDir, 'summary.md')}`);
  const code = results.peers.some((p) => p.rounds.some((r) => r.error)) ? 1 : 0;
  if (!options.lists) return code;
  // Issue 5's compile and swap figures, into the same folder (lists.md); it skips itself without ../shared/data.
  log('== category lists: compile and swap (bench/lists/run.ts; --no-lists leaves it out)');
  const lists = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bench', 'lists', 'run.ts'), ...(options.quick ? ['--quick'] : []), '--results-dir', resultsDir], { stdio: 'inherit' });
  return code || (lists.status ?? 1);
}

/** The scratch directory to remove on the way out (unset with --keep). */
let scratchDir: string | undefined;

// However the run ends, every process it started is stopped by PID, then its scratch files go.
process.on('exit', () => {
  killAllNow();
  if (scratchDir) fs.rmSync(scratchDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping every process the bench started`);
    process.exit(130); // the exit handler above does the stopping
  });
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    log(`bench failed: ${error.message}`);
    process.exit(2);
  },
);
