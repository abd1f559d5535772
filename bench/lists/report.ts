/**
 * The lists bench's figures and their Markdown summary (lists.md).
 */
import type { WindowStats } from './traffic.ts';

/** One compile: what went in, what came out, and what it cost. */
export interface CompileFigures {
  label: string;
  /** Lists compiled, and lists asked for but not in the mirror (the quick run reads one source). */
  lists: number;
  listsMissing: number;
  /** Their ids. */
  missing: string[];
  /** Lines read from every list file (decompressed). */
  lines: number;
  /** Names accepted, duplicates included. */
  entriesRead: number;
  /** Distinct names in the catalog. */
  names: number;
  duplicatesMerged: number;
  linesNotUsed: number;
  /** catalog.bin on disk. */
  bytesOnDisk: number;
  /** Its lookup tables once loaded (what each DNS worker shares). */
  tableBytes: number;
  bytesPerName: number;
  /** The `.why` index on disk (read only by `lists why` and the block page). */
  whyBytes: number;
  /** The compile step's own time (read, hash, sort, write), as its report gives it. */
  buildMs: number;
  /** The whole command: Node start, checking and keeping the lists, the compile, the report. */
  wallMs: number;
  /** Peak RSS of the command's process (the compile's worker thread included). */
  peakRssKb: number;
  peakFrom: string;
  /** User + system CPU seconds of the command (null without GNU time). */
  cpuS: number | null;
}

/** How a query load fared in a window (the traffic's own figures). */
export type QueryWindow = WindowStats;

/** One catalog swap. */
export interface SwapRound {
  /** The sync that made the new catalog, spawn to exit. */
  syncWallMs: number;
  names: number;
  /** When the new catalog file was renamed into place, from the start of the sync. */
  renameAfterSyncStartMs: number | null;
  /** Rename to the first answer that blocks the new name (asked every 5 ms; it had been answered, and cached, as allowed). */
  blockedAfterRenameMs: number | null;
  /** The same for a new subdomain of it each time (no cache can hold it). */
  subdomainBlockedAfterRenameMs: number | null;
  /** VmRSS at the start of the sync, its highest sample in this swap, and at the end (the gap after the block). */
  rssBeforeKb: number;
  peakKb: number;
  rssEndKb: number;
}

/** The running filter across catalog swaps. */
export interface SwapFigures {
  workers: number | null;
  processes: number;
  /** Spawn of `schoolgate start --demo` (first start: migrations and the demo school) to the first blocked answer. */
  startupMs: number;
  answerCheck: { blockedRight: number; allowedRight: number; of: number };
  rate: number;
  steadyS: number;
  /** Median VmRSS over the second half of the steady state. */
  steadyRssKb: number;
  /** VmHWM just before the swap (start-up included: demo set-up, first catalog load). */
  hwmBeforeKb: number;
  peakRssKb: number;
  peakFrom: string;
  sampledPeakKb: number;
  samples: number;
  /** VmRSS at the end (settleMs after the last new catalog blocked). */
  rssAfterKb: number;
  settleMs: number;
  /** Wait between a swap's block and the next sync. */
  gapMs: number;
  /** Peak over every swap ÷ steady. */
  ratio: number;
  swaps: SwapRound[];
  /** Median over the swaps of rename → first blocking answer (null when one never blocked). */
  blockedAfterRenameMs: number | null;
  probeTimeoutMs: number;
  steadyQueries: QueryWindow;
  /** From the start of the first swap's sync to settleMs after the last one blocked. */
  swapQueries: QueryWindow;
  swapWindowMs: number;
}

/** Everything one run measured (lists.json). */
export interface ListsResults {
  startedAt: string;
  quick: boolean;
  mirror: string;
  sources: string[];
  host: { cpus: number; memoryMiB: number; loadAtStart: number[]; loadAtEnd: number[] | null; node: string; commit: string };
  compiles: CompileFigures[];
  swap: SwapFigures | null;
  wallS: number;
}

/** The swap's peak RSS must stay below this multiple of the steady state (issue 5). */
export const SWAP_RSS_TARGET = 1.3;

const int = (n: number) => Math.round(n).toLocaleString('en-GB');
const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
const mibKb = (kb: number) => (kb / 1024).toFixed(1);
const seconds = (ms: number) => (ms / 1000).toFixed(2);
const ms = (value: number | null) => (value === null ? 'n/a' : `${Math.round(value)}`);
const loads = (l: number[] | null) => (l ? l.map((x) => x.toFixed(2)).join(' / ') : '?');

/** lists.md: the compile table, the swap table with its verdict, and how to read them. */
export function renderLists(r: ListsResults): string {
  const out: string[] = [];
  out.push('## Category lists: compile and swap', '');
  out.push(`${r.quick ? 'Quick run (one source: ' + r.sources.join(', ') + '); the targets are for every list. ' : ''}Lists from \`${r.mirror}\` (${r.sources.join(', ')}). ` +
    `Started ${r.startedAt}, ${r.wallS} s. ${r.host.cpus} cores, ${int(r.host.memoryMiB)} MiB, Node ${r.host.node}, commit ${r.host.commit}. ` +
    `Load average (1 / 5 / 15 min) ${loads(r.host.loadAtStart)} at the start, ${loads(r.host.loadAtEnd)} at the end: the machine is shared, so times move with other people's work.`, '');

  out.push('### Compiling', '');
  const c = r.compiles;
  const row = (name: string, f: (x: CompileFigures) => string) => `| ${name} | ${c.map(f).join(' | ')} |`;
  out.push(`| | ${c.map((x) => x.label).join(' | ')} |`, `|---|${c.map(() => '---:').join('|')}|`);
  out.push(
    row('lists compiled (not in the mirror)', (x) => `${x.lists}${x.listsMissing ? ` (${x.listsMissing})` : ''}`),
    row('lines read', (x) => int(x.lines)),
    row('names read (with duplicates)', (x) => int(x.entriesRead)),
    row('distinct names', (x) => `**${int(x.names)}**`),
    row('lines not used', (x) => int(x.linesNotUsed)),
    row('compile step (its own durationMs)', (x) => `${seconds(x.buildMs)} s`),
    row('whole command, wall', (x) => `**${seconds(x.wallMs)} s**`),
    row('CPU (user + system)', (x) => (x.cpuS === null ? 'n/a' : `${x.cpuS.toFixed(2)} s`)),
    row('peak RSS of the command', (x) => `**${mibKb(x.peakRssKb)} MiB**`),
    row('catalog.bin on disk', (x) => `${mib(x.bytesOnDisk)} MiB`),
    row('lookup tables in memory', (x) => `**${mib(x.tableBytes)} MiB**`),
    row('bytes per name in memory', (x) => x.bytesPerName.toFixed(2)),
    row('why index on disk', (x) => `${mib(x.whyBytes)} MiB`),
  );
  const missing = [...new Set(c.flatMap((x) => x.missing))];
  if (missing.length && !r.quick) out.push('', `Not in the mirror, so not compiled: ${missing.join(', ')}.`);
  out.push('');

  const s = r.swap;
  out.push('### The running filter across catalog swaps', '');
  if (!s) {
    out.push('Not measured (the run stopped before it).', '');
    return out.join('\n') + '\n';
  }
  const verdict = s.ratio < SWAP_RSS_TARGET ? 'met' : 'missed';
  const q = (w: QueryWindow) => `${int(w.answered)} of ${int(w.sent)} answered, ${int(w.unanswered)} unanswered; p50 ${w.p50Ms?.toFixed(2) ?? 'n/a'} ms, p99 ${w.p99Ms?.toFixed(2) ?? 'n/a'} ms, max ${w.maxMs?.toFixed(0) ?? 'n/a'} ms`;
  out.push('| figure | value |', '|---|---|');
  out.push(
    `| filter | \`schoolgate start --demo\`, ${s.workers ?? '?'} DNS worker threads, ${s.processes} process(es); first answer ${seconds(s.startupMs)} s after spawn (first start: migrations, demo school) |`,
    `| answer check before | ${s.answerCheck.blockedRight}/${s.answerCheck.of} listed names blocked, ${s.answerCheck.allowedRight}/${s.answerCheck.of} others answered by the upstream |`,
    `| steady RSS (median, last ${Math.round(s.steadyS / 2)} s of ${s.steadyS} s at ${s.rate} queries/s) | **${mibKb(s.steadyRssKb)} MiB** |`,
    `| peak RSS over ${s.swaps.length} swap(s) | **${mibKb(s.peakRssKb)} MiB** (${s.peakFrom}; sampled peak ${mibKb(s.sampledPeakKb)} MiB over ${int(s.samples)} samples) |`,
    `| peak ÷ steady (target < ${SWAP_RSS_TARGET}×) | **${s.ratio.toFixed(2)}× — ${verdict}** |`,
    `| RSS ${seconds(s.settleMs)} s after the last swap blocked | ${mibKb(s.rssAfterKb)} MiB |`,
    `| VmHWM before the swaps (start-up included) | ${mibKb(s.hwmBeforeKb)} MiB |`,
    `| rename → first answer blocking the new name, median | **${ms(s.blockedAfterRenameMs)} ms** (each swap below) |`,
    `| queries in the steady state | ${q(s.steadyQueries)} |`,
    `| queries during the swaps (${seconds(s.swapWindowMs)} s: first sync start → ${seconds(s.settleMs)} s after the last block) | **${q(s.swapQueries)}**; longest stretch unanswered ${Math.round(s.swapQueries.longestGapMs)} ms |`,
  );
  out.push('');
  out.push('| swap | sync wall s | renamed after s | rename → new name blocked ms | → new subdomain blocked ms | RSS before MiB | peak MiB | RSS at end MiB |', '|---:|---:|---:|---:|---:|---:|---:|---:|');
  s.swaps.forEach((w, i) => {
    out.push(`| ${i + 1} | ${seconds(w.syncWallMs)} | ${w.renameAfterSyncStartMs === null ? 'unseen' : seconds(w.renameAfterSyncStartMs)} | ${ms(w.blockedAfterRenameMs)} | ${ms(w.subdomainBlockedAfterRenameMs)} | ${mibKb(w.rssBeforeKb)} | ${mibKb(w.peakKb)} | ${mibKb(w.rssEndKb)} |`);
  });
  out.push('', `The new name is asked every 5 ms (it had been answered, and cached, as allowed before); "RSS at end" is ${seconds(s.gapMs)} s after the block (${seconds(s.settleMs)} s after the last).`, '');
  out.push('How to read it: the compile figures come from `schoolgate lists sync --mirror … --json` (its build report) and GNU time around the whole command; ' +
    'the compile runs in a worker thread of that process, so its peak RSS is the compile\'s. Each swap is done as in service: a sync, in its own process, writes the new catalog ' +
    'beside the old one and renames it into place; the running app notices within its 3-second poll, loads the file on its main thread and hands it to the DNS workers, which keep answering. ' +
    'The time from the rename is therefore mostly the wait for the next poll (0–3 s). RSS is the app\'s whole process (web app, database, both DNS workers); the syncs\' own memory is not in it. ' +
    'A refresh the app runs itself (`lists.refreshHours`) compiles in a worker thread of the app, so its peak adds the compile\'s (above) and is not measured here.');
  out.push('');
  return out.join('\n') + '\n';
}
