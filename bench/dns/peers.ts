/**
 * The servers the bench compares, each given the same block list, the same
 * upstream (the fake one on loopback) and its own port on 127.0.0.1. Every
 * config file lives in the run's own work directory, so nothing installed
 * system-wide (such as Debian's unbound service on port 53) is read or touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BenchData } from './data.ts';

/** The peers, in the order they run. */
export const PEER_IDS = ['echo', 'dnsmasq', 'unbound', 'schoolgate'] as const;
/** One of the peers. */
export type PeerId = (typeof PEER_IDS)[number];

/** What a peer needs to start. */
export interface PeerContext {
  data: BenchData;
  /** The run's scratch directory (configs, unbound's directory, Schoolgate's catalog). */
  workDir: string;
  upstreamPort: number;
  repoRoot: string;
  /** The Node binary for the bench's own servers and for Schoolgate. */
  node: string;
  /** Absolute paths of the system commands, found in run.ts. */
  tools: Record<string, string>;
  /** A replacement for Schoolgate's command line, with @PORT@ @UPSTREAM@ @LIST@ @DIR@ placeholders. */
  schoolgateCommand?: string;
}

/** A command line to spawn. */
export interface Launch {
  command: string;
  args: string[];
  cwd?: string;
}

/** How to run one peer. */
export interface Peer {
  id: PeerId;
  /** Name in the tables. */
  label: string;
  /** Commands this peer needs on the machine (beyond Node). */
  tools: string[];
  /** False for the echo server, which answers every name NXDOMAIN and so cannot "allow" anything. */
  checksAnswers: boolean;
  /** Writes whatever config the peer needs and returns its command line. */
  launch(context: PeerContext, port: number): Launch;
}

/** Where Schoolgate keeps its compiled catalog during a run: kept between its starts, so the second start loads it. */
export function schoolgateDataDir(context: PeerContext): string {
  return path.join(context.workDir, 'schoolgate-data');
}

function dnsmasqLaunch(context: PeerContext, port: number): Launch {
  const config = path.join(context.workDir, 'dnsmasq.conf');
  fs.writeFileSync(config, [
    '# dnsmasq as a blocking forwarder, written by bench/dns/peers.ts',
    `port=${port}`,
    'listen-address=127.0.0.1',
    'bind-interfaces',
    'no-resolv', // no /etc/resolv.conf: the fake upstream is the only server
    'no-hosts',
    'no-poll',
    'pid-file=', // no pid file, so a system dnsmasq's is never touched
    `server=127.0.0.1#${context.upstreamPort}`,
    // Cache on, and big enough that the ~10,000 allowed names never fall out (Pi-hole ships 10,000).
    'cache-size=100000',
    // address=/d/ lines: NXDOMAIN for d and every name under it
    `conf-file=${context.data.dnsmasqConf}`,
    '',
  ].join('\n'));
  return { command: context.tools.dnsmasq, args: ['--keep-in-foreground', `--conf-file=${config}`, '--log-facility=-'] };
}

function unboundLaunch(context: PeerContext, port: number): Launch {
  const dir = path.join(context.workDir, 'unbound');
  fs.mkdirSync(dir, { recursive: true });
  const config = path.join(context.workDir, 'unbound.conf');
  fs.writeFileSync(config, [
    '# unbound, one thread, as a blocking forwarder, written by bench/dns/peers.ts',
    'server:',
    '    interface: 127.0.0.1',
    `    port: ${port}`,
    '    do-ip6: no',
    '    num-threads: 1',
    '    so-reuseport: no',
    '    so-rcvbuf: 4m',
    '    so-sndbuf: 4m',
    // Caches fill on demand, so a generous size costs RSS only when used.
    '    msg-cache-size: 32m',
    '    rrset-cache-size: 64m',
    '    do-daemonize: no',
    '    username: ""',
    '    chroot: ""',
    `    directory: "${dir}"`,
    `    pidfile: "${path.join(dir, 'unbound.pid')}"`,
    '    use-syslog: no',
    '    logfile: ""',
    '    verbosity: 0',
    '    access-control: 127.0.0.0/8 allow',
    '    do-not-query-localhost: no', // the upstream is on 127.0.0.1
    '    module-config: "iterator"', // no DNSSEC validation: the fake upstream signs nothing
    // local-zone: "d." always_nxdomain lines: NXDOMAIN for d and every name under it
    `    include: "${context.data.unboundConf}"`,
    'remote-control:',
    '    control-enable: no',
    'forward-zone:',
    '    name: "."',
    `    forward-addr: 127.0.0.1@${context.upstreamPort}`,
    '',
  ].join('\n'));
  return { command: context.tools.unbound, args: ['-d', '-c', config] };
}

function schoolgateLaunch(context: PeerContext, port: number): Launch {
  const values: Record<string, string> = {
    '@PORT@': String(port),
    '@UPSTREAM@': String(context.upstreamPort),
    '@LIST@': context.data.blockList,
    '@DIR@': schoolgateDataDir(context),
  };
  if (context.schoolgateCommand) {
    // Split on spaces (no shell, so no quoting); a leading `node` means the same Node as the bench.
    const words = context.schoolgateCommand.trim().split(/\s+/).map((w) => w.replace(/@[A-Z]+@/g, (p) => values[p] ?? p));
    return { command: words[0] === 'node' ? context.node : words[0], args: words.slice(1), cwd: context.repoRoot };
  }
  // Node itself, not npm or npx, so that the RSS counted is the server's alone.
  return {
    command: context.node,
    args: ['bin/schoolgate.js', 'filter', 'serve', '--listen', `127.0.0.1:${port}`, '--upstream', `127.0.0.1:${context.upstreamPort}`,
      '--block-list', context.data.blockList, '--data', schoolgateDataDir(context)],
    cwd: context.repoRoot,
  };
}

/** Every peer by id. */
export const PEERS: Record<PeerId, Peer> = {
  echo: {
    id: 'echo',
    label: 'Node UDP echo',
    tools: [],
    checksAnswers: false,
    launch: (context, port) => ({ command: context.node, args: [path.join(import.meta.dirname, 'echo-server.ts'), String(port)] }),
  },
  dnsmasq: { id: 'dnsmasq', label: 'dnsmasq', tools: ['dnsmasq'], checksAnswers: true, launch: dnsmasqLaunch },
  unbound: { id: 'unbound', label: 'unbound (1 thread)', tools: ['unbound', 'unbound-checkconf'], checksAnswers: true, launch: unboundLaunch },
  schoolgate: { id: 'schoolgate', label: 'Schoolgate', tools: [], checksAnswers: true, launch: schoolgateLaunch },
};

/**
 * Reads the catalog line Schoolgate prints when it starts, e.g.
 * `catalog: 1000000 names, 12.1 bytes/name` (also inside a JSON log line).
 */
export function catalogFromLog(log: string): { names: number; bytesPerName: number } | null {
  const matches = [...log.matchAll(/catalog\W+([\d,_]+)\s*names?\W+([\d.]+)\s*bytes?\s*(?:\/|per)\s*name/gi)];
  const last = matches.at(-1);
  if (!last) return null;
  return { names: Number(last[1].replace(/[,_]/g, '')), bytesPerName: Number(last[2]) };
}
