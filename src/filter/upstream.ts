/**
 * Sending allowed queries to the resolvers the school chose: plain DNS over
 * UDP (with TCP when an answer is truncated), TCP, DNS over TLS (RFC 7858)
 * and DNS over HTTPS (RFC 8484), with failover between several servers.
 *
 * - UDP replies are accepted only from the address and port the query went
 *   to, with its id and its question; anything else is ignored and counted
 *   (RFC 5452). Ids are random; a few sockets with OS-chosen random ports are
 *   used in turn and replaced after a while, so the source port varies too.
 * - TCP and TLS connections stay open and carry many queries at once,
 *   answered in any order (RFC 7766 §6.2.1); they reconnect when closed and
 *   close after an idle time.
 * - Servers are tried in order within one deadline per query; one that times
 *   out, fails or refuses is tried last for a while (longer after each
 *   failure) and a success restores it.
 * - Failures are `UpstreamError`s naming every server tried and why; no
 *   promise here is ever left rejected without a handler.
 *
 * Creating a set is cheap (sockets open on first use), so conditional
 * forwarding can make one per forwarded zone. Imports nothing outside
 * `src/filter/`.
 */
import { getRandomValues } from 'node:crypto';
import dgram from 'node:dgram';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { formatIpv6, matchesQuestion, parseIpv6 } from './message.ts';
import { RCODE } from './wire.ts';

/** How a server is reached. */
export type UpstreamTransport = 'udp' | 'tcp' | 'tls' | 'https';

/** Why an attempt failed. */
export type UpstreamErrorKind =
  | 'timeout' // no answer in time
  | 'network' // socket, connection or TLS error
  | 'refused' // REFUSED, NOTIMP or FORMERR from the server
  | 'servfail' // SERVFAIL from every server asked (see `resolve`)
  | 'http' // DoH: a status other than 200 or the wrong content type
  | 'malformed' // an answer we could not use
  | 'aborted' // the caller's signal
  | 'closed'; // `close()` was called

/** One server as configured. */
export interface UpstreamServer {
  /** The text it was configured with: how metrics and errors name it. */
  spec: string;
  transport: UpstreamTransport;
  /** An IP literal for udp and tcp (IPv6 without brackets, canonical form); for tls and https also a host name. */
  host: string;
  port: number;
  /** TLS server name (SNI and certificate check) for tls and https. */
  servername?: string;
  /** The DoH URL. */
  url?: string;
}

/** One failed attempt. */
export interface UpstreamFailure {
  server: string;
  transport: UpstreamTransport;
  kind: UpstreamErrorKind;
  message: string;
}

/** Why a query got no answer: the kind of the last failure, and every attempt. */
export class UpstreamError extends Error {
  kind: UpstreamErrorKind;
  failures: UpstreamFailure[];
  constructor(kind: UpstreamErrorKind, failures: UpstreamFailure[], message?: string) {
    super(message ?? (failures.length ? failures.map((f) => `${f.server}: ${f.kind} (${f.message})`).join('; ') : kind));
    this.name = 'UpstreamError';
    this.kind = kind;
    this.failures = failures;
  }
}

/** Settings for a set of upstream servers. */
export interface UpstreamOptions {
  /** `HOST:PORT` or `udp://HOST:PORT` (UDP, TCP on truncation), `tcp://HOST:PORT`, `tls://HOST:PORT#servername`, `https://host/dns-query`. */
  servers: string[];
  /** Deadline for a whole query, failover included (default 2000 ms). */
  timeoutMs?: number;
  /** Longest wait for one server before trying the next (default half of `timeoutMs`); the last server gets what is left. */
  attemptTimeoutMs?: number;
  /** Trusted CA certificates (PEM) for DoT and DoH, instead of Node's default set (tests, private resolvers). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** UDP sockets per address family (default 4). */
  udpSockets?: number;
  /** Queries a UDP socket sends before it is replaced by one on a new random port (default 5000). */
  udpSocketQueries?: number;
  /** Close an unused TCP, TLS or HTTP/2 connection after this long (default 10000 ms). */
  idleTimeoutMs?: number;
  /** How long a failed server is tried last; doubles with each further failure (default 2000 ms) … */
  holdDownMs?: number;
  /** … up to this (default 30000 ms). */
  maxHoldDownMs?: number;
}

/** A successful exchange. */
export interface UpstreamResult {
  /** The answer, with the id of the query given to `resolve`. A fresh buffer the caller owns. */
  answer: Uint8Array;
  /** The server's configured text. */
  server: string;
  /** How it came: `tcp` also for a UDP server's truncated answer retried over TCP. */
  transport: UpstreamTransport;
}

/** Counters of one server. */
export interface UpstreamServerStats {
  server: string;
  transport: UpstreamTransport;
  /** Attempts sent to this server. */
  queries: number;
  answers: number;
  errors: Record<UpstreamErrorKind, number>;
  /** Sum of the latency of answered attempts, in milliseconds. */
  latencyMsSum: number;
  /** UDP answers with TC that were retried over TCP. */
  truncated: number;
  /** Whether the server is currently tried last because it failed recently. */
  heldDown: boolean;
}

/** Counters of a set of servers, plain numbers for the caller's metrics. */
export interface UpstreamStats {
  /** Calls to `resolve`. */
  queries: number;
  answered: number;
  failed: number;
  /** Sum of the latency of answered calls, in milliseconds. */
  latencyMsSum: number;
  /** Replies ignored for a wrong source, id or question (possible spoofing) or that arrived after their query gave up. */
  ignoredReplies: number;
  servers: UpstreamServerStats[];
}

/** A set of upstream servers with failover. */
export interface Upstreams {
  /** The servers as configured. */
  readonly servers: readonly UpstreamServer[];
  /**
   * Sends `query` (a whole DNS query, e.g. from `buildUpstreamQuery`) and
   * resolves with the first usable answer. SERVFAIL moves on to the next
   * server; if every server that answered said SERVFAIL, that answer is
   * returned (the name is probably broken, not the servers). Rejects only
   * with an `UpstreamError`.
   */
  resolve(query: Uint8Array, options?: { signal?: AbortSignal }): Promise<UpstreamResult>;
  stats(): UpstreamStats;
  /** Closes every socket and connection; queries in flight fail with `closed`. */
  close(): Promise<void>;
}

const DEFAULT_PORT: Record<UpstreamTransport, number> = { udp: 53, tcp: 53, tls: 853, https: 443 };

/**
 * Reads one server's text; throws an `Error` naming the text when it cannot
 * be used (this is configuration, checked at start-up). UDP and TCP servers
 * must be IP addresses: looking up a resolver's name would need a resolver.
 */
export function parseServer(spec: string): UpstreamServer {
  const fail = (why: string): never => {
    throw new Error(`upstream "${spec}": ${why}`);
  };
  const text = spec.trim();
  if (/^https:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return fail('not a valid URL');
    }
    if (url.username || url.password) fail('credentials in the URL are not supported');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (url.pathname === '/' && !url.search) url.pathname = '/dns-query';
    return { spec, transport: 'https', host, port: url.port ? Number(url.port) : 443, servername: net.isIP(host) ? undefined : host, url: url.href };
  }
  let transport: UpstreamTransport = 'udp';
  let rest = text;
  const scheme = /^([a-z]+):\/\//i.exec(text);
  if (scheme) {
    const name = scheme[1].toLowerCase();
    if (name !== 'udp' && name !== 'tcp' && name !== 'tls') fail(`unknown scheme ${name}:// (udp, tcp, tls or https)`);
    transport = name as UpstreamTransport;
    rest = text.slice(scheme[0].length);
  }
  let servername: string | undefined;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    if (transport !== 'tls') fail('#servername is only for tls://');
    servername = rest.slice(hash + 1) || undefined;
    rest = rest.slice(0, hash);
  }
  rest = rest.replace(/\/$/, '');
  let host: string;
  let port = DEFAULT_PORT[transport];
  if (net.isIPv6(rest)) {
    host = rest; // a bare IPv6 address, default port
  } else if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return fail('missing ] after an IPv6 address');
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after) {
      if (!after.startsWith(':')) fail('expected :PORT after ]');
      port = Number(after.slice(1));
    }
  } else {
    const colon = rest.lastIndexOf(':');
    host = colon >= 0 ? rest.slice(0, colon) : rest;
    if (colon >= 0) port = Number(rest.slice(colon + 1));
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail('the port must be 1-65535');
  if (!host) fail('no host');
  if (net.isIPv6(host)) host = formatIpv6(parseIpv6(host)!); // the form Node reports reply sources in
  else if (!net.isIPv4(host)) {
    if (transport !== 'tls') fail('UDP and TCP servers must be IP addresses');
    if (!/^[a-z0-9.-]+$/i.test(host)) fail('not a host name');
    servername ??= host;
  }
  return { spec, transport, host, port, servername };
}

// ---------------------------------------------------------------------------
// One attempt: a promise with a timer and the caller's abort signal

/** What an attempt rejects with inside this module (a plain value, cheap; `resolve` turns it into an `UpstreamError`). */
interface AttemptFailure {
  kind: UpstreamErrorKind;
  message: string;
}

const isAttemptFailure = (value: unknown): value is AttemptFailure =>
  typeof value === 'object' && value !== null && 'kind' in value && 'message' in value && !(value instanceof Error);

class Attempt {
  promise: Promise<Uint8Array>;
  settled = false;
  #resolve!: (answer: Uint8Array) => void;
  #reject!: (failure: AttemptFailure) => void;
  #timer: NodeJS.Timeout;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #cleanup: () => void;

  constructor(timeoutMs: number, signal: AbortSignal | undefined, cleanup: () => void) {
    this.promise = new Promise<Uint8Array>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#cleanup = cleanup;
    this.#timer = setTimeout(() => this.fail('timeout', `no answer within ${Math.round(timeoutMs)} ms`), Math.max(1, timeoutMs));
    if (signal) {
      this.#signal = signal;
      this.#onAbort = () => this.fail('aborted', 'the query was abandoned');
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  succeed(answer: Uint8Array) {
    if (this.#settle()) this.#resolve(answer);
  }

  fail(kind: UpstreamErrorKind, message: string) {
    if (this.#settle()) this.#reject({ kind, message });
  }

  #settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.#timer);
    if (this.#signal && this.#onAbort) this.#signal.removeEventListener('abort', this.#onAbort);
    this.#cleanup();
    return true;
  }
}

/** Cryptographically random 16-bit ids, drawn from a refilled pool (one `getRandomValues` call per 512 ids). */
const idPool = new Uint16Array(512);
let idIndex = idPool.length;
function randomId(): number {
  if (idIndex >= idPool.length) {
    getRandomValues(idPool);
    idIndex = 0;
  }
  return idPool[idIndex++];
}

function setId(packet: Uint8Array, id: number) {
  packet[0] = id >> 8;
  packet[1] = id & 0xff;
}

/** Shared state the transports report into. */
interface Shared {
  ignoredReplies: number;
}

// ---------------------------------------------------------------------------
// UDP

interface UdpPending {
  attempt: Attempt;
  host: string;
  port: number;
  query: Uint8Array;
}

interface UdpSocket {
  socket: dgram.Socket;
  pending: Map<number, UdpPending>;
  sent: number;
  retired: boolean;
}

/** A few UDP sockets per address family, shared by every UDP server of the set. */
class UdpPool {
  #active: Record<4 | 6, UdpSocket[]> = { 4: [], 6: [] };
  #all = new Set<UdpSocket>();
  #size: number;
  #rotateAfter: number;
  #shared: Shared;
  #closed = false;

  constructor(size: number, rotateAfter: number, shared: Shared) {
    this.#size = Math.max(1, size);
    this.#rotateAfter = Math.max(1, rotateAfter);
    this.#shared = shared;
  }

  query(server: UpstreamServer, packet: Uint8Array, timeoutMs: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject<Uint8Array>({ kind: 'closed', message: 'the upstream set is closed' } satisfies AttemptFailure);
    const state = this.#pick(net.isIPv6(server.host) ? 6 : 4);
    let id = randomId();
    for (let tries = 0; state.pending.has(id) && tries < 64; tries++) id = randomId();
    if (state.pending.has(id)) return Promise.reject<Uint8Array>({ kind: 'network', message: 'too many queries in flight' } satisfies AttemptFailure);
    const bytes = new Uint8Array(packet);
    setId(bytes, id);
    const attempt = new Attempt(timeoutMs, signal, () => {
      state.pending.delete(id);
      if (state.retired && state.pending.size === 0) this.#dispose(state);
    });
    state.pending.set(id, { attempt, host: server.host, port: server.port, query: bytes });
    if (++state.sent >= this.#rotateAfter) this.#retire(state);
    state.socket.send(bytes, server.port, server.host, (error) => {
      if (error) attempt.fail('network', error.message);
    });
    return attempt.promise;
  }

  #pick(family: 4 | 6): UdpSocket {
    const active = this.#active[family];
    if (active.length < this.#size) {
      const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
      const state: UdpSocket = { socket, pending: new Map(), sent: 0, retired: false };
      socket.on('message', (message, remote) => this.#onMessage(state, message, remote));
      socket.on('error', (error) => {
        for (const pending of [...state.pending.values()]) pending.attempt.fail('network', error.message);
        this.#retire(state);
        this.#dispose(state);
      });
      active.push(state);
      this.#all.add(state);
      return state;
    }
    return active[randomId() % active.length];
  }

  #onMessage(state: UdpSocket, message: Buffer, remote: dgram.RemoteInfo) {
    const pending = message.length >= 12 ? state.pending.get((message[0] << 8) | message[1]) : undefined;
    // RFC 5452 §9.1: the reply must come from where the query went, with its id and question.
    if (
      !pending ||
      remote.port !== pending.port ||
      (remote.address !== pending.host && !(net.isIPv6(remote.address) && formatIpv6(parseIpv6(remote.address)!) === pending.host)) ||
      (message[2] & 0x80) === 0 ||
      !matchesQuestion(pending.query, message)
    ) {
      this.#shared.ignoredReplies++;
      return;
    }
    pending.attempt.succeed(new Uint8Array(message));
  }

  /** Stops giving the socket new queries; it closes when its last answer is in. */
  #retire(state: UdpSocket) {
    if (state.retired) return;
    state.retired = true;
    for (const family of [4, 6] as const) {
      const index = this.#active[family].indexOf(state);
      if (index >= 0) this.#active[family].splice(index, 1);
    }
    if (state.pending.size === 0) this.#dispose(state);
  }

  #dispose(state: UdpSocket) {
    if (!this.#all.delete(state)) return;
    try {
      state.socket.close();
    } catch {
      // already closed
    }
  }

  close() {
    this.#closed = true;
    for (const state of [...this.#all]) {
      for (const pending of [...state.pending.values()]) pending.attempt.fail('closed', 'the upstream set is closed');
      this.#retire(state);
      this.#dispose(state);
    }
  }
}

// ---------------------------------------------------------------------------
// TCP and TLS: length-prefixed messages on a kept-open connection

interface StreamPending {
  attempt: Attempt;
  query: Uint8Array;
}

class StreamConnection {
  socket: net.Socket;
  pending = new Map<number, StreamPending>();
  buffered: Buffer | null = null;
  lastReceived = performance.now();
  closed = false;
  closeReason = 'the connection closed';
  idleTimer: NodeJS.Timeout | null = null;

  constructor(socket: net.Socket) {
    this.socket = socket;
  }
}

/** One server's TCP or TLS connection, opened on demand, carrying any number of queries at once. */
class StreamClient {
  #server: UpstreamServer;
  #connect: () => net.Socket;
  #idleMs: number;
  #shared: Shared;
  #connection: StreamConnection | null = null;
  #closed = false;

  constructor(server: UpstreamServer, connect: () => net.Socket, idleMs: number, shared: Shared) {
    this.#server = server;
    this.#connect = connect;
    this.#idleMs = idleMs;
    this.#shared = shared;
  }

  /**
   * Sends on the open connection, or a new one. If a connection that was
   * already open dies before answering (the server closed it as idle just as
   * we wrote), the query is sent once more on a fresh one (RFC 7766 §6.2.1).
   */
  async query(packet: Uint8Array, timeoutMs: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const deadline = performance.now() + timeoutMs;
    for (let round = 0; ; round++) {
      if (this.#closed) throw { kind: 'closed', message: 'the upstream set is closed' } satisfies AttemptFailure;
      const reused = this.#connection !== null;
      const connection = this.#open();
      try {
        return await this.#send(connection, packet, deadline - performance.now(), signal);
      } catch (failure) {
        const retry = round === 0 && reused && isAttemptFailure(failure) && failure.kind === 'network' && deadline - performance.now() > 1;
        if (!retry) throw failure;
      }
    }
  }

  #open(): StreamConnection {
    const existing = this.#connection;
    if (existing && !existing.closed && !existing.socket.destroyed) return existing;
    const socket = this.#connect();
    const connection = new StreamConnection(socket);
    this.#connection = connection;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(connection, chunk));
    socket.on('error', (error) => {
      connection.closeReason = error.message;
    });
    socket.on('close', () => {
      connection.closed = true;
      if (connection.idleTimer) clearTimeout(connection.idleTimer);
      if (this.#connection === connection) this.#connection = null;
      for (const pending of [...connection.pending.values()]) pending.attempt.fail('network', connection.closeReason);
    });
    return connection;
  }

  #send(connection: StreamConnection, packet: Uint8Array, timeoutMs: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
    let id = randomId();
    for (let tries = 0; connection.pending.has(id) && tries < 64; tries++) id = randomId();
    if (connection.pending.has(id)) return Promise.reject<Uint8Array>({ kind: 'network', message: 'too many queries in flight' } satisfies AttemptFailure);
    const frame = new Uint8Array(2 + packet.length);
    frame[0] = packet.length >> 8;
    frame[1] = packet.length & 0xff;
    frame.set(packet, 2);
    const query = frame.subarray(2);
    setId(query, id);
    const sentAt = performance.now();
    const attempt = new Attempt(timeoutMs, signal, () => {
      connection.pending.delete(id);
      if (connection.pending.size === 0 && !connection.closed) this.#armIdle(connection);
    });
    connection.pending.set(id, { attempt, query });
    if (connection.idleTimer) {
      clearTimeout(connection.idleTimer);
      connection.idleTimer = null;
    }
    connection.socket.write(frame);
    // A connection that has said nothing since before this query and lets it time out is presumed dead.
    attempt.promise.catch((failure: AttemptFailure) => {
      if (failure.kind === 'timeout' && connection.lastReceived < sentAt) connection.socket.destroy();
    });
    return attempt.promise;
  }

  #armIdle(connection: StreamConnection) {
    if (connection.idleTimer) clearTimeout(connection.idleTimer);
    connection.idleTimer = setTimeout(() => {
      if (connection.pending.size === 0) connection.socket.end();
    }, this.#idleMs);
    connection.idleTimer.unref();
  }

  #onData(connection: StreamConnection, chunk: Buffer) {
    connection.lastReceived = performance.now();
    let buffer = connection.buffered ? Buffer.concat([connection.buffered, chunk]) : chunk;
    while (buffer.length >= 2) {
      const length = buffer.readUInt16BE(0);
      if (buffer.length < 2 + length) break;
      const message = new Uint8Array(buffer.subarray(2, 2 + length)); // a copy: chunks may share pooled memory
      buffer = buffer.subarray(2 + length);
      const pending = message.length >= 12 ? connection.pending.get((message[0] << 8) | message[1]) : undefined;
      if (!pending || (message[2] & 0x80) === 0 || !matchesQuestion(pending.query, message)) {
        this.#shared.ignoredReplies++;
        continue;
      }
      pending.attempt.succeed(message);
    }
    connection.buffered = buffer.length ? buffer : null;
  }

  close() {
    this.#closed = true;
    const connection = this.#connection;
    this.#connection = null;
    if (connection) {
      connection.closeReason = 'the upstream set is closed';
      for (const pending of [...connection.pending.values()]) pending.attempt.fail('closed', 'the upstream set is closed');
      connection.socket.destroy();
    }
  }
}

// ---------------------------------------------------------------------------
// DNS over HTTPS (RFC 8484): POST over one HTTP/2 connection

class DohClient {
  #server: UpstreamServer;
  #url: URL;
  #ca: UpstreamOptions['ca'];
  #idleMs: number;
  #session: http2.ClientHttp2Session | null = null;
  #active = 0;
  #idleTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(server: UpstreamServer, ca: UpstreamOptions['ca'], idleMs: number) {
    this.#server = server;
    this.#url = new URL(server.url!);
    this.#ca = ca;
    this.#idleMs = idleMs;
  }

  query(packet: Uint8Array, timeoutMs: number, signal: AbortSignal | undefined): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject<Uint8Array>({ kind: 'closed', message: 'the upstream set is closed' } satisfies AttemptFailure);
    const body = new Uint8Array(packet);
    setId(body, 0); // RFC 8484 §4.1: id 0 keeps HTTP caches useful; the stream, not the id, matches the answer
    let stream: http2.ClientHttp2Stream | null = null;
    let ended = false;
    const attempt = new Attempt(timeoutMs, signal, () => {
      if (stream && !ended) stream.close(http2.constants.NGHTTP2_CANCEL);
      this.#active--;
      if (this.#active === 0) this.#armIdle();
    });
    this.#active++;
    if (this.#idleTimer) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = null;
    }
    let session: http2.ClientHttp2Session;
    try {
      session = this.#open();
      stream = session.request({
        ':method': 'POST',
        ':path': this.#url.pathname + this.#url.search,
        'content-type': 'application/dns-message',
        accept: 'application/dns-message',
        'content-length': body.length,
      });
    } catch (error) {
      attempt.fail('network', (error as Error).message);
      return attempt.promise;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    stream.on('response', (headers) => {
      const status = Number(headers[':status']);
      const type = String(headers['content-type'] ?? '');
      if (status !== 200) attempt.fail('http', `HTTP status ${status}`);
      else if (!type.toLowerCase().startsWith('application/dns-message')) attempt.fail('http', `content type ${type || 'missing'}`);
    });
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > 0xffff) attempt.fail('malformed', 'answer longer than 65535 bytes');
      else chunks.push(chunk);
    });
    stream.on('end', () => {
      ended = true;
      const message = new Uint8Array(Buffer.concat(chunks));
      if (message.length < 12 || (message[2] & 0x80) === 0 || !matchesQuestion(body, message)) attempt.fail('malformed', 'the answer is not for our question');
      else attempt.succeed(message);
    });
    stream.on('close', () => {
      ended = true;
      attempt.fail('network', `stream closed (code ${stream?.rstCode ?? 0})`);
    });
    stream.on('error', (error) => attempt.fail('network', error.message));
    stream.end(body);
    return attempt.promise;
  }

  #open(): http2.ClientHttp2Session {
    const existing = this.#session;
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(this.#url.origin, { ca: this.#ca, servername: this.#server.servername });
    this.#session = session;
    const forget = () => {
      if (this.#session === session) this.#session = null;
    };
    session.on('error', forget); // each stream reports its own error too
    session.on('goaway', forget); // streams in flight finish; new ones go on a new connection
    session.on('close', forget);
    return session;
  }

  #armIdle() {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      const session = this.#session;
      this.#session = null;
      if (session && this.#active === 0) session.close();
    }, this.#idleMs);
    this.#idleTimer.unref();
  }

  close() {
    this.#closed = true;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    const session = this.#session;
    this.#session = null;
    session?.destroy();
  }
}

// ---------------------------------------------------------------------------
// The set

interface ServerState {
  server: UpstreamServer;
  failures: number;
  heldDownUntil: number;
  stream: StreamClient | null;
  doh: DohClient | null;
  stats: UpstreamServerStats;
}

const noErrors = (): Record<UpstreamErrorKind, number> => ({
  timeout: 0,
  network: 0,
  refused: 0,
  servfail: 0,
  http: 0,
  malformed: 0,
  aborted: 0,
  closed: 0,
});

const RCODE_NAMES: Record<number, string> = { 1: 'FORMERR', 2: 'SERVFAIL', 4: 'NOTIMP', 5: 'REFUSED' };

/** Creates a set of upstream servers. Throws when a server's text cannot be used (see `parseServer`). */
export function createUpstreams(options: UpstreamOptions): Upstreams {
  if (options.servers.length === 0) throw new Error('at least one upstream server is needed');
  const servers = options.servers.map(parseServer);
  const timeoutMs = options.timeoutMs ?? 2000;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? Math.max(100, Math.floor(timeoutMs / 2));
  const idleMs = options.idleTimeoutMs ?? 10_000;
  const holdDownMs = options.holdDownMs ?? 2000;
  const maxHoldDownMs = options.maxHoldDownMs ?? 30_000;
  const shared: Shared = { ignoredReplies: 0 };
  const totals = { queries: 0, answered: 0, failed: 0, latencyMsSum: 0 };
  const udp = new UdpPool(options.udpSockets ?? 4, options.udpSocketQueries ?? 5000, shared);
  let closed = false;

  const states: ServerState[] = servers.map((server) => ({
    server,
    failures: 0,
    heldDownUntil: 0,
    stream: null,
    doh: null,
    stats: { server: server.spec, transport: server.transport, queries: 0, answers: 0, errors: noErrors(), latencyMsSum: 0, truncated: 0, heldDown: false },
  }));

  const streamOf = (state: ServerState): StreamClient => {
    const { server } = state;
    state.stream ??= new StreamClient(
      server,
      server.transport === 'tls'
        ? () => tls.connect({ host: server.host, port: server.port, servername: server.servername, ca: options.ca })
        : () => net.connect({ host: server.host, port: server.port }),
      idleMs,
      shared,
    );
    return state.stream;
  };

  /** One attempt at one server; resolves with the answer and how it came. */
  async function exchange(state: ServerState, query: Uint8Array, ms: number, signal: AbortSignal | undefined): Promise<[Uint8Array, UpstreamTransport]> {
    const { server } = state;
    switch (server.transport) {
      case 'udp': {
        const deadline = performance.now() + ms;
        const answer = await udp.query(server, query, ms, signal);
        if ((answer[2] & 0x02) === 0) return [answer, 'udp'];
        // Truncated: ask again over TCP (RFC 7766 §5), within the same attempt's time.
        state.stats.truncated++;
        const left = deadline - performance.now();
        if (left <= 0) throw { kind: 'timeout', message: 'no time left to retry a truncated answer over TCP' } satisfies AttemptFailure;
        return [await streamOf(state).query(query, left, signal), 'tcp'];
      }
      case 'tcp':
      case 'tls':
        return [await streamOf(state).query(query, ms, signal), server.transport];
      case 'https':
        state.doh ??= new DohClient(server, options.ca, idleMs);
        return [await state.doh.query(query, ms, signal), 'https'];
    }
  }

  /** Servers in the order to try: those not held down as configured, then the held-down ones, soonest released first. */
  const order = (now: number): ServerState[] => {
    if (!states.some((s) => s.heldDownUntil > now)) return states;
    const up = states.filter((s) => s.heldDownUntil <= now);
    const down = states.filter((s) => s.heldDownUntil > now).sort((a, b) => a.heldDownUntil - b.heldDownUntil);
    return [...up, ...down];
  };

  const holdDown = (state: ServerState) => {
    state.failures++;
    state.heldDownUntil = Date.now() + Math.min(maxHoldDownMs, holdDownMs * 2 ** Math.min(20, state.failures - 1));
  };

  async function resolve(query: Uint8Array, resolveOptions: { signal?: AbortSignal } = {}): Promise<UpstreamResult> {
    const { signal } = resolveOptions;
    totals.queries++;
    const started = performance.now();
    const deadline = started + timeoutMs;
    const failures: UpstreamFailure[] = [];
    let servfail: UpstreamResult | null = null;
    const fail = (kind: UpstreamErrorKind) => {
      totals.failed++;
      throw new UpstreamError(kind, failures);
    };
    if (closed) fail('closed');
    if (query.length < 12) {
      failures.push({ server: '-', transport: 'udp', kind: 'malformed', message: 'the query is shorter than a DNS header' });
      fail('malformed');
    }
    const tried = order(Date.now());
    for (let i = 0; i < tried.length; i++) {
      const state = tried[i];
      const left = deadline - performance.now();
      if (left <= 0) break;
      if (signal?.aborted) {
        failures.push({ server: state.server.spec, transport: state.server.transport, kind: 'aborted', message: 'the query was abandoned' });
        fail('aborted');
      }
      const ms = i === tried.length - 1 ? left : Math.min(left, attemptTimeoutMs);
      const attemptStarted = performance.now();
      state.stats.queries++;
      let answer: Uint8Array;
      let transport: UpstreamTransport;
      try {
        [answer, transport] = await exchange(state, query, ms, signal);
      } catch (error) {
        const failure: AttemptFailure = isAttemptFailure(error) ? error : { kind: 'network', message: String((error as Error)?.message ?? error) };
        state.stats.errors[failure.kind]++;
        failures.push({ server: state.server.spec, transport: state.server.transport, kind: failure.kind, message: failure.message });
        if (failure.kind === 'aborted' || failure.kind === 'closed') fail(failure.kind);
        holdDown(state);
        continue;
      }
      const rcode = answer[3] & 0x0f;
      if (rcode === RCODE.SERVFAIL || rcode === RCODE.REFUSED || rcode === RCODE.NOTIMP || rcode === RCODE.FORMERR) {
        const kind: UpstreamErrorKind = rcode === RCODE.SERVFAIL ? 'servfail' : 'refused';
        state.stats.errors[kind]++;
        failures.push({ server: state.server.spec, transport: state.server.transport, kind, message: `answered ${RCODE_NAMES[rcode]}` });
        // SERVFAIL usually means the name's own servers are broken, not this resolver: no hold-down for it.
        if (kind === 'servfail') {
          if (answer[4] === 0 && answer[5] === 1) {
            answer[0] = query[0];
            answer[1] = query[1];
            servfail = { answer, server: state.server.spec, transport };
          }
        } else holdDown(state);
        continue;
      }
      state.failures = 0;
      state.heldDownUntil = 0;
      const took = performance.now();
      state.stats.answers++;
      state.stats.latencyMsSum += took - attemptStarted;
      totals.answered++;
      totals.latencyMsSum += took - started;
      answer[0] = query[0];
      answer[1] = query[1];
      return { answer, server: state.server.spec, transport };
    }
    if (servfail) {
      totals.answered++;
      totals.latencyMsSum += performance.now() - started;
      return servfail;
    }
    if (failures.length === 0 || performance.now() >= deadline) {
      if (!failures.some((f) => f.kind === 'timeout')) failures.push({ server: '-', transport: 'udp', kind: 'timeout', message: `no answer within ${timeoutMs} ms` });
      return fail('timeout');
    }
    return fail(failures[failures.length - 1].kind);
  }

  return {
    servers,
    resolve,
    stats() {
      const now = Date.now();
      return {
        ...totals,
        ignoredReplies: shared.ignoredReplies,
        servers: states.map((s) => ({ ...s.stats, errors: { ...s.stats.errors }, heldDown: s.heldDownUntil > now })),
      };
    },
    async close() {
      closed = true;
      udp.close();
      for (const state of states) {
        state.stream?.close();
        state.doh?.close();
      }
    },
  };
}
