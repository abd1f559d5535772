/**
 * DNS traffic for the lists bench: a UDP client bound to a loopback address
 * of the demo school's pupil network (so the filter applies that group's
 * policy), a steady query load that records every query's fate, and the
 * probe that waits for a name to come back blocked. Every packet goes to
 * 127.0.0.1.
 */
import dgram from 'node:dgram';
import { encodeQuery, parseReply, RCODE, type Reply, UPSTREAM_ANSWER } from '../dns/dns.ts';

/** The filter's address: the bench never sends anywhere else. */
export const SERVER_HOST = '127.0.0.1';

/** Whether a reply blocks the name: NXDOMAIN, or A records none of which is the fake upstream's answer (0.0.0.0, the block page's address). */
export function blocks(reply: Reply): boolean {
  if (reply.rcode === RCODE.NXDOMAIN) return true;
  return reply.rcode === RCODE.NOERROR && reply.addresses.length > 0 && !reply.addresses.includes(UPSTREAM_ANSWER);
}

/** Whether a reply is the upstream's answer, i.e. the name was let through. */
export function allows(reply: Reply): boolean {
  return reply.rcode === RCODE.NOERROR && reply.addresses.includes(UPSTREAM_ANSWER);
}

/** One UDP socket with its own query ids; replies are matched by id. */
export class DnsClient {
  private readonly socket: dgram.Socket;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private nextId = 1;
  readonly port: number;

  private constructor(socket: dgram.Socket, port: number) {
    this.socket = socket;
    this.port = port;
    socket.on('message', (packet) => {
      const reply = parseReply(packet);
      if (!reply) return;
      const done = this.waiting.get(reply.id);
      if (!done) return;
      this.waiting.delete(reply.id);
      done(reply);
    });
  }

  /** A socket bound to `from` (a loopback address) that talks to 127.0.0.1:`port`. */
  static open(port: number, from: string): Promise<DnsClient> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
      socket.once('error', reject);
      socket.bind(0, from, () => {
        socket.off('error', reject);
        resolve(new DnsClient(socket, port));
      });
    });
  }

  /** Sends one A query; `onReply` runs when its answer arrives (never, when it is lost). */
  send(name: string, onReply: (reply: Reply) => void): void {
    let id = this.nextId;
    this.nextId = (this.nextId % 0xffff) + 1;
    if (this.waiting.has(id)) this.waiting.delete(id); // a query lost 65,535 queries ago: forget it
    this.waiting.set(id, onReply);
    this.socket.send(encodeQuery(id, name), this.port, SERVER_HOST);
  }

  /** Asks once and waits up to `timeoutMs` for the answer. */
  ask(name: string, timeoutMs = 1000): Promise<Reply | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.send(name, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  }

  close(): void {
    this.waiting.clear();
    this.socket.close();
  }
}

/** How the queries sent in a time window fared. */
export interface WindowStats {
  sent: number;
  answered: number;
  /** No answer within the loss timeout. */
  unanswered: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** The longest stretch (ms) with queries sent but none of them answered. */
  longestGapMs: number;
}

/** A fixed-rate query load; every query's send and answer time is kept. */
export interface Load {
  stop(): void;
  /** Figures for the queries sent between `from` and `to` (performance.now() times); call after `lossMs` has passed since `to`. */
  window(from: number, to: number): WindowStats;
}

/** Sends `perSecond` queries a second, cycling through `names`, in batches every 10 ms. */
export function startLoad(client: DnsClient, names: string[], perSecond: number, lossMs = 1000): Load {
  const sentAt: number[] = [];
  const answeredAt: number[] = [];
  let next = 0;
  const began = performance.now();
  const timer = setInterval(() => {
    // Catch up to the rate the clock says, so a slow tick does not lower it.
    const due = Math.floor(((performance.now() - began) / 1000) * perSecond);
    while (sentAt.length < due) {
      const index = sentAt.length;
      sentAt.push(performance.now());
      answeredAt.push(NaN);
      client.send(names[next++ % names.length], () => {
        answeredAt[index] = performance.now();
      });
    }
  }, 10);
  return {
    stop: () => clearInterval(timer),
    window(from, to) {
      const latencies: number[] = [];
      let sent = 0;
      let unanswered = 0;
      let longestGapMs = 0;
      let gapStart: number | null = null;
      for (let i = 0; i < sentAt.length; i++) {
        if (sentAt[i] < from || sentAt[i] > to) continue;
        sent++;
        const latency = answeredAt[i] - sentAt[i];
        if (Number.isNaN(latency) || latency > lossMs) {
          unanswered++;
          gapStart ??= sentAt[i];
          longestGapMs = Math.max(longestGapMs, sentAt[i] - gapStart);
        } else {
          latencies.push(latency);
          gapStart = null;
        }
      }
      latencies.sort((a, b) => a - b);
      const at = (q: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : null);
      return { sent, answered: latencies.length, unanswered, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: latencies.length ? latencies[latencies.length - 1] : null, longestGapMs };
    },
  };
}

/** A probe that asks for names every `everyMs` until one comes back blocked. */
export interface BlockProbe {
  /** Resolves with the performance.now() time the first blocking answer arrived, or null on timeout. */
  blockedAt: Promise<number | null>;
  /** Answers seen, blocking or not. */
  answers(): { total: number; allowed: number };
  stop(): void;
}

/** Asks `nameOf(n)` (n = 0, 1, …) every `everyMs` until an answer blocks it. */
export function probeUntilBlocked(client: DnsClient, nameOf: (n: number) => string, everyMs: number, timeoutMs: number): BlockProbe {
  let n = 0;
  let total = 0;
  let allowed = 0;
  let settle: (at: number | null) => void = () => {};
  const blockedAt = new Promise<number | null>((resolve) => {
    settle = resolve;
  });
  const finish = (at: number | null) => {
    clearInterval(timer);
    clearTimeout(deadline);
    settle(at);
  };
  const timer = setInterval(() => {
    client.send(nameOf(n++), (reply) => {
      const at = performance.now();
      total++;
      if (blocks(reply)) finish(at);
      else if (allows(reply)) allowed++;
    });
  }, everyMs);
  const deadline = setTimeout(() => finish(null), timeoutMs);
  return { blockedAt, answers: () => ({ total, allowed }), stop: () => finish(null) };
}
