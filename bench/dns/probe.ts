/**
 * Small UDP clients the bench uses around dnsperf: the start-up probe (time
 * from spawn to the first correct blocked answer) and the answer check (does
 * this peer block and allow the same names as the others?).
 */
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { encodeQuery, isBlockedAnswer, parseReply, RCODE, UPSTREAM_ANSWER, type Reply } from './dns.ts';
import { exited } from './processes.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How a server came up. Times in milliseconds from spawn. */
export interface StartupResult {
  child: ChildProcess;
  /** The first answer of any kind (a server may answer, e.g. by forwarding, before its list is loaded). */
  firstAnswerMs: number | null;
  /** The first answer that blocks the probe name: the start-up time. */
  blockedAnswerMs: number;
  /** Answers before that one which did not block the name. */
  unblockedAnswers: number;
}

/**
 * Starts a server with `launch` while asking it for a blocked name every
 * `everyMs`; resolves at the first blocked answer. The probe is already sending
 * when the server starts, so the time includes everything from spawn on.
 */
export async function timeToBlockedAnswer(
  port: number,
  name: string,
  launch: () => ChildProcess,
  timeoutMs: number,
  everyMs = 5,
): Promise<StartupResult> {
  const socket = dgram.createSocket('udp4');
  socket.on('error', () => {}); // nothing listens yet: the kernel may say so, and that is expected
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  let id = 0;
  const ask = () => socket.send(encodeQuery(id++ & 0xffff, name), port, '127.0.0.1', () => {});
  const timer = setInterval(ask, everyMs);
  let firstAnswerMs: number | null = null;
  let unblockedAnswers = 0;
  let t0 = 0;
  try {
    const blocked = new Promise<number>((resolve) => {
      socket.on('message', (message) => {
        const at = performance.now() - t0;
        const reply = parseReply(message);
        if (!reply || reply.name !== name.toLowerCase()) return;
        firstAnswerMs ??= at;
        if (isBlockedAnswer(reply)) resolve(at);
        else unblockedAnswers++;
      });
    });
    await sleep(50); // a few queries are in flight before the server exists
    t0 = performance.now();
    const child = launch();
    ask();
    const outcome = await Promise.race([
      blocked.then((ms) => ({ ms })),
      exited(child).then((code) => ({ exit: code })),
      sleep(timeoutMs).then(() => ({ timeout: true })),
    ]);
    if ('ms' in outcome) return { child, firstAnswerMs, blockedAnswerMs: outcome.ms, unblockedAnswers };
    const why = 'exit' in outcome ? `ended (${outcome.exit}) before it` : `gave no blocked answer within ${timeoutMs / 1000} s, though it`;
    throw Object.assign(new Error(`the server ${why} answered ${name} as blocked (${unblockedAnswers} unblocked answers seen)`), { child });
  } finally {
    clearInterval(timer);
    socket.close();
  }
}

/** How many names a peer answered as the list says it should. */
export interface AnswerCheck {
  blockedRight: number;
  blockedTotal: number;
  allowedRight: number;
  allowedTotal: number;
  /** A few wrong answers, to show in the summary. */
  wrong: string[];
}

/** Describes a reply in a few words for the summary. */
function describe(reply: Reply | undefined): string {
  if (!reply) return 'no answer';
  const rcode = Object.entries(RCODE).find(([, v]) => v === reply.rcode)?.[0] ?? `rcode ${reply.rcode}`;
  return reply.addresses.length > 0 ? `${rcode} ${reply.addresses.join(',')}` : rcode;
}

/**
 * Asks for every sample name (twice at most: UDP may drop one, so each try
 * waits up to `waitMs`) and counts the blocked names answered as blocked and
 * the allowed names answered with the fake upstream's address.
 */
export async function checkAnswers(port: number, blocked: string[], allowed: string[], waitMs = 3000): Promise<AnswerCheck> {
  const names = [...blocked, ...allowed];
  const replies = new Map<number, Reply>();
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message) => {
    const reply = parseReply(message);
    if (reply && reply.id < names.length && reply.name === names[reply.id].toLowerCase()) replies.set(reply.id, reply);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  try {
    for (let attempt = 0; attempt < 2 && replies.size < names.length; attempt++) {
      for (let i = 0; i < names.length; i++) {
        if (replies.has(i)) continue;
        socket.send(encodeQuery(i, names[i]), port, '127.0.0.1');
        if (i % 20 === 19) await sleep(2); // small bursts: this is a check, not a load test
      }
      for (let waited = 0; waited < waitMs && replies.size < names.length; waited += 50) await sleep(50);
    }
  } finally {
    socket.close();
  }
  const wrong: string[] = [];
  let blockedRight = 0;
  let allowedRight = 0;
  names.forEach((name, i) => {
    const reply = replies.get(i);
    const shouldBlock = i < blocked.length;
    const right = reply !== undefined && (shouldBlock
      ? isBlockedAnswer(reply)
      : reply.rcode === RCODE.NOERROR && reply.addresses.length === 1 && reply.addresses[0] === UPSTREAM_ANSWER);
    if (right && shouldBlock) blockedRight++;
    else if (right) allowedRight++;
    else if (wrong.length < 5) wrong.push(`${name} (${shouldBlock ? 'listed' : 'allowed'}): ${describe(reply)}`);
  });
  return { blockedRight, blockedTotal: blocked.length, allowedRight, allowedTotal: allowed.length, wrong };
}
