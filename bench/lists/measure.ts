/**
 * Measuring processes for the lists bench: a command's wall time, CPU and
 * peak RSS (GNU time, or /proc sampling without it), and a running
 * process's RSS sampled every few milliseconds from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { memoryKb, processTree } from '../dns/processes.ts';

const children = new Set<ChildProcess>();

/** Kills (SIGKILL, by PID with their descendants) every command `timed` still runs: the bench's exit handler calls it. */
export function killTimedNow(): void {
  for (const child of children) {
    if (child.pid === undefined) continue;
    for (const pid of processTree(child.pid).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  children.clear();
}

/** What one command cost. */
export interface Timed {
  exitCode: number | null;
  /** Spawn to exit, as the bench saw it. */
  wallMs: number;
  /** Peak RSS of the command (its largest process: the compile runs in a worker thread of the same process). */
  peakRssKb: number;
  /** How the peak was measured. */
  peakFrom: 'GNU time' | '/proc sampling';
  userS: number | null;
  systemS: number | null;
  stdout: string;
  /** performance.now() at spawn and exit. */
  startedAt: number;
  endedAt: number;
}

/** Runs a command to its end with stdout kept, stderr appended to `log`; under GNU time when there is one. */
export function timed(command: string, args: string[], log: string, env: NodeJS.ProcessEnv = process.env): Promise<Timed> {
  const gnuTime = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
  const timeFile = `${log}.time`;
  const [file, argv] = gnuTime ? [gnuTime, ['-f', '%M %U %S', '-o', timeFile, command, ...args]] : [command, args];
  fs.appendFileSync(log, `$ ${[command, ...args].join(' ')}\n`);
  const err = fs.openSync(log, 'a');
  const startedAt = performance.now();
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', err], env });
  fs.closeSync(err);
  children.add(child);
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  // Without GNU time: the largest VmHWM seen in the process tree, read every 10 ms (misses at most the last 10 ms).
  let sampledKb = 0;
  const sampler = gnuTime
    ? undefined
    : setInterval(() => {
        if (child.pid === undefined) return;
        for (const pid of processTree(child.pid)) sampledKb = Math.max(sampledKb, memoryKb([pid], 'VmHWM'));
      }, 10);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const endedAt = performance.now();
      clearInterval(sampler);
      children.delete(child);
      let peakRssKb = sampledKb;
      let userS: number | null = null;
      let systemS: number | null = null;
      if (gnuTime && fs.existsSync(timeFile)) {
        // GNU time writes "Command exited with non-zero status N" first when it did.
        const last = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
        const [m, u, s] = last.split(' ').map(Number);
        peakRssKb = m;
        userS = u;
        systemS = s;
      }
      resolve({ exitCode: code, wallMs: endedAt - startedAt, peakRssKb, peakFrom: gnuTime ? 'GNU time' : '/proc sampling', userS, systemS, stdout, startedAt, endedAt });
    });
  });
}

/** RSS of a process tree sampled at a fixed interval. */
export interface RssSampler {
  /** The samples so far. */
  peek(): { at: number; kb: number }[];
  stop(): { at: number; kb: number }[];
}

/** Samples VmRSS summed over `pid`'s process tree every `everyMs` (the tree is read again every second). */
export function sampleRss(pid: number, everyMs: number): RssSampler {
  const samples: { at: number; kb: number }[] = [];
  let pids = processTree(pid);
  let treeReadAt = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - treeReadAt > 1000) {
      pids = processTree(pid);
      treeReadAt = now;
    }
    samples.push({ at: now, kb: memoryKb(pids, 'VmRSS') });
  }, everyMs);
  return {
    peek: () => samples,
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/**
 * Resets the peak RSS (VmHWM) of each process to its current RSS, by writing
 * 5 to /proc/PID/clear_refs (Linux 4.0+, own processes only). Returns whether
 * it worked for all, so the caller knows if VmHWM afterwards is the peak since now.
 */
export function resetPeakRss(pids: number[]): boolean {
  try {
    for (const pid of pids) fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
