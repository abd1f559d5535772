/**
 * Runs dnsperf against one server and turns its output into numbers, with the
 * CPU the server, the fake upstream, dnsperf itself and the whole machine used
 * during the run (so a reader can tell a slow server from a busy machine).
 */
import fs from 'node:fs';
import { clockTicks, cpuTicks, exited, machineBusyTicks, start } from './processes.ts';

/** One dnsperf run's results. Latencies in milliseconds. */
export interface PerfResult {
  sent: number;
  completed: number;
  lost: number;
  lostPct: number;
  qps: number;
  runS: number;
  avgMs: number;
  maxMs: number;
  /** Response code counts, e.g. { NOERROR: 5000, NXDOMAIN: 5000 }. */
  rcodes: Record<string, number>;
  /** From per-query lines; only when the run was verbose (-v). */
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
  /** CPU use during the run, in percent of one core. */
  serverCpuPct: number;
  upstreamCpuPct: number;
  dnsperfCpuPct: number;
  /** All CPUs of the machine, in percent of one core (200 = both cores of a 2-core machine busy). */
  machineCpuPct: number;
}

/** Numbers from dnsperf's "Statistics" block and its per-query lines ("> RCODE name TYPE seconds"). */
export function parseDnsperfOutput(text: string): Omit<PerfResult, 'serverCpuPct' | 'upstreamCpuPct' | 'dnsperfCpuPct' | 'machineCpuPct'> {
  const number = (pattern: RegExp): number => {
    const match = text.match(pattern);
    if (!match) throw new Error(`dnsperf output has no ${pattern.source}`);
    return Number(match[1]);
  };
  const rcodes: Record<string, number> = {};
  const codes = text.match(/Response codes:\s+(.*)/);
  for (const [, code, count] of (codes?.[1] ?? '').matchAll(/([A-Z]+) (\d+)/g)) rcodes[code] = Number(count);
  const latency = text.match(/Average Latency \(s\):\s+([\d.]+) \(min [\d.]+, max ([\d.]+)\)/);
  const result: ReturnType<typeof parseDnsperfOutput> = {
    sent: number(/Queries sent:\s+(\d+)/),
    completed: number(/Queries completed:\s+(\d+)/),
    lost: number(/Queries lost:\s+(\d+)/),
    lostPct: number(/Queries lost:\s+\d+ \(([\d.]+)%\)/),
    qps: Math.round(number(/Queries per second:\s+([\d.]+)/)),
    runS: number(/Run time \(s\):\s+([\d.]+)/),
    avgMs: latency ? Number(latency[1]) * 1000 : NaN,
    maxMs: latency ? Number(latency[2]) * 1000 : NaN,
    rcodes,
  };
  const latencies: number[] = [];
  for (const [, seconds] of text.matchAll(/^> \S+ .* ([\d.]+)$/gm)) latencies.push(Number(seconds) * 1000);
  if (latencies.length > 0) {
    // A lost query never got an answer: it counts as slower than any answer, not as absent.
    for (let i = 0; i < result.lost; i++) latencies.push(Infinity);
    latencies.sort((a, b) => a - b);
    // Nearest rank: the smallest latency at or below which the given share of queries fall.
    const at = (share: number) => latencies[Math.min(latencies.length - 1, Math.ceil(share * latencies.length) - 1)];
    Object.assign(result, { p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), p999Ms: at(0.999) });
  }
  return result;
}

/** One dnsperf run. */
export interface PerfRun {
  port: number;
  queries: string;
  seconds: number;
  clients: number;
  outstanding: number;
  /** Fixed rate (-Q); closed loop when absent. */
  qps?: number;
  /** Per-query lines, for percentiles. Costs dnsperf CPU, so closed-loop runs leave it off. */
  verbose: boolean;
  /** Where dnsperf's full output goes (per-query lines included); summary lines are kept in summaryFile. */
  rawFile: string;
  summaryFile: string;
  serverPids: number[];
  upstreamPids: number[];
}

/** Runs dnsperf once (under /usr/bin/time for its own CPU) and returns what it measured. */
export async function runDnsperf(run: PerfRun): Promise<PerfResult> {
  const timeFile = `${run.rawFile}.time`;
  const args = ['-f', '%U %S', '-o', timeFile, 'dnsperf', '-s', '127.0.0.1', '-p', String(run.port), '-d', run.queries,
    '-l', String(run.seconds), '-c', String(run.clients), '-q', String(run.outstanding), '-t', '2'];
  if (run.qps !== undefined) args.push('-Q', String(run.qps));
  if (run.verbose) args.push('-v');
  fs.rmSync(run.rawFile, { force: true });

  const server0 = cpuTicks(run.serverPids);
  const upstream0 = cpuTicks(run.upstreamPids);
  const machine0 = machineBusyTicks();
  const wall0 = performance.now();
  const code = await exited(start('/usr/bin/time', args, { log: run.rawFile }));
  const wallTicks = ((performance.now() - wall0) / 1000) * clockTicks;
  const percent = (ticks: number) => Math.round((ticks * 100) / wallTicks);
  const serverCpuPct = percent(cpuTicks(run.serverPids) - server0);
  const upstreamCpuPct = percent(cpuTicks(run.upstreamPids) - upstream0);
  const machineCpuPct = percent(machineBusyTicks() - machine0);

  const output = fs.readFileSync(run.rawFile, 'utf8');
  fs.writeFileSync(run.summaryFile, `$ dnsperf ${args.slice(5).join(' ')}\n` + output.split('\n').filter((l) => !l.startsWith('> ')).join('\n'));
  if (code !== 0) throw new Error(`dnsperf ended with ${code}; see ${run.summaryFile}`);
  const [user, system] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return {
    ...parseDnsperfOutput(output),
    serverCpuPct,
    upstreamCpuPct,
    dnsperfCpuPct: percent((user + system) * clockTicks),
    machineCpuPct,
  };
}
