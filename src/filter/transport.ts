/**
 * DNS over UDP, TCP (RFC 1035 §4.2, RFC 7766) and TLS (RFC 7858): sockets in,
 * bytes to the pipeline, bytes back. Nothing here knows about policy.
 *
 * TCP and TLS connections carry pipelined queries: each is handled as soon as
 * its frame is complete and answered as soon as its answer is ready, in any
 * order (RFC 7766 §6.2.1.1). Idle connections are closed after a timeout; a
 * frame that cannot be a DNS message closes the connection.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';

export type Transport = 'udp' | 'tcp' | 'doh' | 'dot';

/** Where a query came from. */
export interface QueryContext {
  address: string;
  transport: Transport;
  /** DoH path token or DoT identifier, when the client presented one. */
  token: string | null;
  /** `performance.now()` when the query arrived. */
  receivedAt: number;
}

/** Answers a query; null drops it (nothing sensible can be sent). */
export type QueryHandler = (packet: Uint8Array, context: QueryContext) => Uint8Array | null | Promise<Uint8Array | null>;

export interface Listener {
  /** The bound address (the port is the real one when 0 was asked for). */
  address: { host: string; port: number };
  close(): Promise<void>;
}

export interface TransportCounters {
  /**
   * Handler failures (never thrown at the socket) and stream answers that
   * could not be sent. A UDP answer the kernel will not take is not counted:
   * it is lost like any datagram (the client asks again), and asking Node to
   * report it would cost every answer a callback on the next tick.
   */
  errors: number;
  tcpConnections: number;
  tcpIdleClosed: number;
}

const MAX_TCP_CONNECTIONS = 2_000;

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return value instanceof Promise;
}

/**
 * dgram's address lookup for sending: a reply goes to the address the query
 * came from, always an IP literal, so it is handed back at once instead of
 * through dns.lookup and the next tick (which Node does for every send).
 */
function literalLookup(hostname: string, options: dns.LookupOneOptions | number, callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = net.isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dns.lookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
}

/** Listens for DNS over UDP on host:port. `reusePort` lets several worker threads share the port. */
export function listenUdp(host: string, port: number, handler: QueryHandler, counters: TransportCounters, options: { reusePort?: boolean } = {}): Promise<Listener> {
  const type = net.isIPv6(host) ? 'udp6' : 'udp4';
  const socket = dgram.createSocket({
    type,
    reuseAddr: false,
    reusePort: options.reusePort ?? false,
    recvBufferSize: 4 << 20,
    sendBufferSize: 4 << 20,
    lookup: literalLookup as unknown as dgram.SocketOptions['lookup'],
  });
  const reply = (answer: Uint8Array | null, address: string, rport: number) => {
    if (answer) socket.send(answer, rport, address);
  };
  socket.on('message', (packet, remote) => {
    let result: ReturnType<QueryHandler>;
    try {
      result = handler(packet, { address: remote.address, transport: 'udp', token: null, receivedAt: performance.now() });
    } catch {
      counters.errors++;
      return;
    }
    if (isPromise(result)) {
      result.then((answer) => reply(answer, remote.address, remote.port), () => counters.errors++);
    } else {
      reply(result, remote.address, remote.port);
    }
  });
  socket.on('error', () => counters.errors++);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      const bound = socket.address();
      resolve({
        address: { host: bound.address, port: bound.port },
        close: () => new Promise((done) => socket.close(() => done())),
      });
    });
  });
}

/** Frames DNS messages on a stream (two-byte length prefix) and answers them in any order. */
function serveStream(socket: net.Socket, transport: 'tcp' | 'dot', handler: QueryHandler, counters: TransportCounters, idleMs: number, token: () => string | null) {
  let buffered: Buffer = Buffer.alloc(0);
  let pending = 0;
  let closing = false;
  socket.setNoDelay(true);
  socket.setTimeout(idleMs, () => {
    counters.tcpIdleClosed++;
    socket.end();
  });
  const write = (answer: Uint8Array | null) => {
    pending--;
    if (!answer || socket.destroyed) return;
    const frame = Buffer.allocUnsafe(answer.length + 2);
    frame.writeUInt16BE(answer.length, 0);
    frame.set(answer, 2);
    socket.write(frame);
    if (closing && pending === 0) socket.end();
  };
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    while (buffered.length >= 2) {
      const length = buffered.readUInt16BE(0);
      if (length < 12) {
        // Not a DNS message: nothing more on this connection can be trusted to be framed right.
        counters.errors++;
        socket.destroy();
        return;
      }
      if (buffered.length < length + 2) break;
      const packet = buffered.subarray(2, length + 2);
      buffered = buffered.subarray(length + 2);
      pending++;
      let result: ReturnType<QueryHandler>;
      try {
        result = handler(packet, { address: socket.remoteAddress ?? '', transport, token: token(), receivedAt: performance.now() });
      } catch {
        counters.errors++;
        write(null);
        continue;
      }
      if (isPromise(result)) result.then(write, () => { counters.errors++; write(null); });
      else write(result);
    }
  });
  // A client that half-closes after its queries still gets every answer (RFC 7766 §6.2.4).
  socket.on('end', () => {
    closing = true;
    if (pending === 0) socket.end();
  });
  socket.on('error', () => socket.destroy());
}

/** Listens for DNS over TCP, or over TLS when `tls` is given (DoT, normally port 853). */
export function listenStream(
  host: string,
  port: number,
  handler: QueryHandler,
  counters: TransportCounters,
  options: { reusePort?: boolean; idleMs?: number; tls?: { key: string | Buffer; cert: string | Buffer } } = {},
): Promise<Listener> {
  const idleMs = options.idleMs ?? 10_000;
  const transport = options.tls ? 'dot' : 'tcp';
  const open = new Set<net.Socket>();
  const onConnection = (socket: net.Socket | tls.TLSSocket) => {
    counters.tcpConnections++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    // DoT clients may name themselves in the first SNI label: `<token>.dns.school.example`.
    const token = () => {
      const sni = (socket as tls.TLSSocket).servername;
      return typeof sni === 'string' && sni.includes('.') ? sni.slice(0, sni.indexOf('.')) : null;
    };
    serveStream(socket, transport, handler, counters, idleMs, transport === 'dot' ? token : () => null);
  };
  const server = options.tls
    ? tls.createServer({ key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2', ALPNProtocols: ['dot'] }, onConnection)
    : net.createServer(onConnection);
  server.maxConnections = MAX_TCP_CONNECTIONS;
  server.on('error', () => counters.errors++);
  if (options.tls) server.on('tlsClientError', () => counters.errors++);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, reusePort: options.reusePort ?? false }, () => {
      server.off('error', reject);
      const bound = server.address() as net.AddressInfo;
      resolve({
        address: { host: bound.address, port: bound.port },
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            // Idle connections would hold close() open until their timeout.
            for (const socket of open) socket.destroy();
          }),
      });
    });
  });
}
