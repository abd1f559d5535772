/**
 * Every process the bench starts goes through here, so each one is known by
 * PID and stopped by PID however the run ends (normal end, error, Ctrl-C,
 * SIGTERM). Also: the process tree of a server and its memory and CPU, read
 * from /proc, so a server that forks or re-executes itself is counted whole.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/** Clock ticks per second for /proc/PID/stat times; 100 on every Linux we run on, checked by getconf in run.ts. */
export let clockTicks = 100;
/** Sets the tick rate read from `getconf CLK_TCK`. */
export function setClockTicks(ticks: number): void {
  if (ticks > 0) clockTicks = ticks;
}

const running = new Set<ChildProcess>();

/** How to start one process. */
export interface StartOptions {
  /** stdout and stderr both go to this file (appended). */
  log: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts a process with its output in a log file and remembers it for the final clean-up. */
export function start(command: string, args: string[], options: StartOptions): ChildProcess {
  const out = fs.openSync(options.log, 'a');
  try {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', out, out] });
    running.add(child);
    child.once('exit', () => running.delete(child));
    child.once('error', () => running.delete(child));
    return child;
  } finally {
    fs.closeSync(out); // the child holds its own copy of the descriptor
  }
}

/** Resolves with the exit code (or the signal's name) when the process ends. */
export function exited(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.once('error', (error) => resolve(error.message));
  });
}

/** The parent PID of every process, read once from /proc. */
function parents(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue; // it ended while we looked
    }
    // The command name is in parentheses and may hold spaces: read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  return children;
}

/** The PID and every descendant's PID. */
export function processTree(pid: number): number[] {
  const children = parents();
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree.filter((p) => fs.existsSync(`/proc/${p}`));
}

/** Sum of one /proc/PID/status field (in kB) over the processes, e.g. VmRSS or VmHWM. */
export function memoryKb(pids: number[], field: 'VmRSS' | 'VmHWM'): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const match = fs.readFileSync(`/proc/${pid}/status`, 'latin1').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
      if (match) total += Number(match[1]);
    } catch {
      // ended: it holds no memory any more
    }
  }
  return total;
}

/** User + system CPU time of the processes, in clock ticks. */
export function cpuTicks(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // ended
    }
  }
  return total;
}

/** Busy ticks of the whole machine (all CPUs), from the first line of /proc/stat. */
export function machineBusyTicks(): number {
  const [, user, nice, system, , , irq, softirq, steal] = fs.readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).map(Number);
  return user + nice + system + irq + softirq + steal;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a PID is still alive (and not a zombie waiting for us). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
  } catch {
    return false;
  }
}

/**
 * Stops a process and everything it started: SIGTERM, then SIGKILL after the
 * grace period; descendants still alive after their parent ends are killed by
 * the PIDs recorded before the stop.
 */
export async function stop(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.pid === undefined) return;
  const descendants = processTree(child.pid).slice(1);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const ended = exited(child);
    const timedOut = await Promise.race([ended.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) {
      child.kill('SIGKILL');
      await ended;
    }
  }
  for (const pid of descendants) {
    if (alive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  running.delete(child);
}

/** Last resort on the way out: SIGKILL every process still running, and its descendants, by PID. */
export function killAllNow(): void {
  for (const child of running) {
    if (child.pid === undefined) continue;
    for (const pid of processTree(child.pid).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  running.clear();
}

/** Processes still running (for the clean-up message). */
export function stillRunning(): number {
  return running.size;
}
