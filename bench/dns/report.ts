/**
 * The bench's results: the raw shape written to results.json, the per-peer
 * medians, the ratios against issue 4's targets, and the Markdown summary.
 */
import type { PerfResult } from './dnsperf.ts';
import type { PeerId } from './peers.ts';
import type { AnswerCheck } from './probe.ts';

/** One start of one peer and everything measured on it. */
export interface RoundResult {
  round: number;
  /** Spawn to the first blocked answer to the probe, in ms. */
  startupMs?: number;
  /** Spawn to the first answer of any kind. */
  firstAnswerMs?: number | null;
  /** Processes in the server's tree (a launcher that re-executes Node would make 2). */
  processes?: number;
  rssIdleKb?: number;
  rssLoadedKb?: number;
  /** Peak RSS (VmHWM) summed over the tree at the end. */
  hwmKb?: number;
  check?: AnswerCheck;
  warmup?: PerfResult;
  closed?: PerfResult;
  fixed?: PerfResult;
  /** Schoolgate only, first round: the start that compiled the catalog. */
  compile?: { startupMs: number; firstAnswerMs: number | null; rssIdleKb: number; catalogDiskBytes: number };
  /** Schoolgate only: what its log said about the catalog. */
  catalog?: { names: number; bytesPerName: number } | null;
  error?: string;
}

/** All rounds of one peer. */
export interface PeerResult {
  id: PeerId;
  label: string;
  command?: string;
  /** Why the peer was not measured at all. */
  skipped?: string;
  rounds: RoundResult[];
}

/** Everything results.json holds. */
export interface BenchResults {
  startedAt: string;
  finishedAt?: string;
  wallS?: number;
  quick: boolean;
  settings: Record<string, unknown>;
  host: Record<string, unknown>;
  versions: Record<string, string>;
  data: Record<string, unknown>;
  peers: PeerResult[];
  notes: string[];
}

/** One peer's medians over its rounds. */
export interface PeerSummary {
  id: PeerId;
  label: string;
  rounds: number;
  qps?: number;
  qpsMin?: number;
  qpsMax?: number;
  closedLostPct?: number;
  serverCpuPct?: number;
  dnsperfCpuPct?: number;
  /** Machine CPU not used by the server, the upstream or dnsperf: other load that makes the numbers shaky. */
  otherCpuPct?: number;
  p50Ms?: number;
  p99Ms?: number;
  fixedLostPct?: number;
  rssIdleKb?: number;
  rssLoadedKb?: number;
  startupMs?: number;
  compileStartMs?: number;
  check?: AnswerCheck;
  /** From Schoolgate's log; null when it printed no catalog line. */
  catalog?: { names: number; bytesPerName: number } | null;
  /** Size of Schoolgate's --data directory after compiling, per listed name. */
  catalogDiskBytesPerName?: number;
  skipped?: string;
  errors: string[];
}

/** Median of the defined values; undefined when there are none. */
export function median(values: Array<number | undefined | null>): number | undefined {
  const sorted = values.filter((v): v is number => typeof v === 'number' && !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Medians per peer; `names` is the length of the block list. */
export function summarizePeer(peer: PeerResult, names: number): PeerSummary {
  const ok = peer.rounds.filter((r) => r.closed);
  const qps = ok.map((r) => r.closed!.qps);
  const other = (p?: PerfResult) => (p ? p.machineCpuPct - p.serverCpuPct - p.upstreamCpuPct - p.dnsperfCpuPct : undefined);
  const compile = peer.rounds.find((r) => r.compile)?.compile;
  const catalogs = peer.rounds.map((r) => r.catalog).filter((c) => c !== undefined);
  return {
    id: peer.id,
    label: peer.label,
    rounds: ok.length,
    qps: median(qps),
    qpsMin: qps.length ? Math.min(...qps) : undefined,
    qpsMax: qps.length ? Math.max(...qps) : undefined,
    closedLostPct: median(ok.map((r) => r.closed!.lostPct)),
    serverCpuPct: median(ok.map((r) => r.closed!.serverCpuPct)),
    dnsperfCpuPct: median(ok.map((r) => r.closed!.dnsperfCpuPct)),
    otherCpuPct: median(ok.map((r) => other(r.closed))),
    p50Ms: median(peer.rounds.map((r) => r.fixed?.p50Ms)),
    p99Ms: median(peer.rounds.map((r) => r.fixed?.p99Ms)),
    fixedLostPct: median(peer.rounds.map((r) => r.fixed?.lostPct)),
    rssIdleKb: median(peer.rounds.map((r) => r.rssIdleKb)),
    rssLoadedKb: median(peer.rounds.map((r) => r.rssLoadedKb)),
    startupMs: median(peer.rounds.map((r) => r.startupMs)),
    compileStartMs: compile?.startupMs,
    check: peer.rounds.find((r) => r.check)?.check,
    catalog: catalogs.length === 0 ? undefined : (catalogs.at(-1) ?? null),
    catalogDiskBytesPerName: compile ? compile.catalogDiskBytes / names : undefined,
    skipped: peer.skipped,
    errors: peer.rounds.filter((r) => r.error).map((r) => `round ${r.round}: ${r.error}`),
  };
}

/** How a ratio compares with its target. */
export type Verdict = 'met' | 'missed' | 'info' | 'not measured';

/** One line of the targets table. */
export interface Ratio {
  what: string;
  value?: number;
  shown: string;
  target: string;
  verdict: Verdict;
}

const ratio = (a?: number | null, b?: number | null) => (a != null && b != null && b > 0 && Number.isFinite(a) ? a / b : undefined);

/** Issue 4's targets, each as a ratio measured in this run. */
export function targetRatios(summaries: PeerSummary[]): Ratio[] {
  const of = (id: PeerId) => summaries.find((s) => s.id === id && s.rounds > 0);
  const sg = of('schoolgate');
  const dnsmasq = of('dnsmasq');
  const unbound = of('unbound');
  const echo = of('echo');
  const line = (what: string, value: number | undefined, target: string, pass?: (v: number) => boolean): Ratio => ({
    what,
    value,
    shown: value === undefined ? '–' : Number.isFinite(value) ? `${value.toFixed(2)}×` : 'queries lost',
    target,
    verdict: value === undefined ? 'not measured' : pass ? (pass(value) ? 'met' : 'missed') : 'info',
  });
  // A lost query at the fixed rate makes p99 infinite: that is a miss, not a missing number.
  const p99Ratio = sg?.p99Ms === Infinity && dnsmasq?.p99Ms !== undefined ? Infinity : ratio(sg?.p99Ms, dnsmasq?.p99Ms);
  const catalog = sg?.catalog;
  return [
    line('closed-loop QPS, Schoolgate ÷ unbound (1 thread)', ratio(sg?.qps, unbound?.qps), '≥ 1', (v) => v >= 1),
    line('closed-loop QPS, Schoolgate ÷ dnsmasq', ratio(sg?.qps, dnsmasq?.qps), '≥ 7', (v) => v >= 7),
    line('closed-loop QPS, Schoolgate ÷ Node UDP echo (the ceiling for Node)', ratio(sg?.qps, echo?.qps), 'no target'),
    line('p99 latency at 5,000 qps, Schoolgate ÷ dnsmasq', p99Ratio, '≤ 1', (v) => v <= 1),
    line('RSS after load, Schoolgate ÷ dnsmasq', ratio(sg?.rssLoadedKb, dnsmasq?.rssLoadedKb), '≤ 1', (v) => v <= 1),
    line('RSS after load, Schoolgate ÷ unbound', ratio(sg?.rssLoadedKb, unbound?.rssLoadedKb), '≤ 0.25', (v) => v <= 0.25),
    line('start-up from the compiled catalog, Schoolgate ÷ dnsmasq', ratio(sg?.startupMs, dnsmasq?.startupMs), '< 0.33', (v) => v < 1 / 3),
    line('compiling start, Schoolgate ÷ dnsmasq', ratio(sg?.compileStartMs, dnsmasq?.startupMs), 'no target'),
    {
      what: "catalog bytes per name in memory (from Schoolgate's log)",
      value: catalog?.bytesPerName,
      shown: catalog ? `${catalog.bytesPerName} (${catalog.names.toLocaleString('en-GB')} names)` : sg ? 'not reported' : '–',
      target: '≤ 16',
      verdict: catalog ? (catalog.bytesPerName <= 16 ? 'met' : 'missed') : 'not measured',
    },
  ];
}

const mib = (kb?: number) => (kb === undefined ? '–' : (kb / 1024).toFixed(0));
const ms = (v?: number) => (v === undefined ? '–' : v === Infinity ? 'lost' : v < 1 ? v.toFixed(3) : v.toFixed(2));
const seconds = (v?: number) => (v === undefined ? '–' : (v / 1000).toFixed(2));
const thousands = (v?: number) => (v === undefined ? '–' : v >= 10_000 ? `${(v / 1000).toFixed(1)}k` : String(Math.round(v)));

/** The Markdown summary (also printed to stdout). */
export function renderSummary(results: BenchResults): string {
  const summaries = results.peers.map((p) => summarizePeer(p, Number(results.settings.names)));
  const out: string[] = [];
  const s = results.settings;
  out.push(`# Schoolgate DNS filter bench, ${results.startedAt}`);
  out.push('');
  out.push(`${results.quick ? '**Quick mode** (a smoke run: the targets are for 1,000,000 names, so met/missed here means little). ' : ''}` +
    `${Number(s.names).toLocaleString('en-GB')} listed names; queries half blocked, half allowed (${Number(s.allowed).toLocaleString('en-GB')} allowed names, repeated); ` +
    `dnsperf -c ${s.clients} -q ${s.outstanding} for ${s.duration} s after a ${s.warmup} s warm-up, then -Q ${s.fixedQps} for ${s.duration} s; ` +
    `${s.reps} round(s), medians shown.`);
  out.push('');
  const h = results.host;
  out.push(`Host: ${h.cpus} CPUs (${h.cpuModel}), ${h.memoryMiB} MiB, Linux ${h.kernel}, load ${h.loadAtStart} at start. ` +
    Object.entries(results.versions).map(([k, v]) => `${k} ${v}`).join(', ') + '.');
  if (results.wallS !== undefined) out.push(`Run took ${(results.wallS / 60).toFixed(1)} min.`);
  out.push('');
  out.push('| peer | closed-loop QPS (range) | lost % | server CPU % | p50 / p99 ms at 5k qps | RSS idle / after load MiB | start-up s | answers right |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const p of summaries) {
    if (p.skipped || p.rounds === 0) {
      out.push(`| ${p.label} | ${p.skipped ? `not run: ${p.skipped}` : `failed: ${p.errors.join('; ')}`} | | | | | | |`);
      continue;
    }
    const range = p.rounds > 1 ? ` (${thousands(p.qpsMin)}–${thousands(p.qpsMax)})` : '';
    const startup = p.compileStartMs !== undefined ? `${seconds(p.startupMs)} (compiling: ${seconds(p.compileStartMs)})` : seconds(p.startupMs);
    const check = p.check ? `${p.check.blockedRight + p.check.allowedRight}/${p.check.blockedTotal + p.check.allowedTotal}` : 'n/a (echo)';
    out.push(`| ${p.label} | ${thousands(p.qps)}${range} | ${p.closedLostPct ?? '–'} | ${p.serverCpuPct ?? '–'} | ` +
      `${ms(p.p50Ms)} / ${ms(p.p99Ms)} | ${mib(p.rssIdleKb)} / ${mib(p.rssLoadedKb)} | ${startup} | ${check} |`);
  }
  out.push('');
  out.push('## Against the targets (issue 4, 2-core machine)');
  out.push('');
  out.push('| ratio | this run | target | |');
  out.push('|---|---:|---:|---|');
  for (const r of targetRatios(summaries)) out.push(`| ${r.what} | ${r.shown} | ${r.target} | ${r.verdict} |`);

  const notes = [...results.notes];
  for (const p of summaries) {
    for (const e of p.errors) notes.push(`${p.label}, ${e}`);
    if (p.check && p.check.wrong.length > 0) notes.push(`${p.label} answered wrongly: ${p.check.wrong.join('; ')}`);
    if ((p.closedLostPct ?? 0) > 1) notes.push(`${p.label} lost ${p.closedLostPct}% of queries in the closed loop: its QPS is not comparable.`);
    if ((p.fixedLostPct ?? 0) > 0) notes.push(`${p.label} lost ${p.fixedLostPct}% at the fixed rate; lost queries count as slower than any answer in p99.`);
    if (p.catalogDiskBytesPerName !== undefined) notes.push(`${p.label}'s --data directory after compiling: ${p.catalogDiskBytesPerName.toFixed(1)} bytes per listed name on disk.`);
    if ((p.otherCpuPct ?? 0) > 20) notes.push(`Something else used ${p.otherCpuPct}% CPU while ${p.label} was measured: its numbers are shaky.`);
  }
  if (notes.length > 0) {
    out.push('');
    out.push('Notes:');
    out.push('');
    for (const n of notes) out.push(`- ${n}`);
  }

  out.push('');
  out.push('Every round (closed loop): QPS, lost %, CPU % of server / upstream / dnsperf / whole machine (100 = one core):');
  out.push('');
  out.push('| peer | round | QPS | lost % | server | upstream | dnsperf | machine | p99 ms at 5k | RSS idle / after / peak MiB | start-up s |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const peer of results.peers) {
    for (const r of peer.rounds) {
      const c = r.closed;
      out.push(`| ${peer.label} | ${r.round} | ${thousands(c?.qps)} | ${c?.lostPct ?? '–'} | ${c?.serverCpuPct ?? '–'} | ${c?.upstreamCpuPct ?? '–'} | ` +
        `${c?.dnsperfCpuPct ?? '–'} | ${c?.machineCpuPct ?? '–'} | ${ms(r.fixed?.p99Ms)} | ${mib(r.rssIdleKb)} / ${mib(r.rssLoadedKb)} / ${mib(r.hwmKb)} | ${seconds(r.startupMs)} |`);
    }
  }
  return out.join('\n') + '\n';
}
