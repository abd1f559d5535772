/** Upstream exchanges against real servers this test starts on 127.0.0.1 (UDP, TCP, DoT, DoH). */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { answerTargets, buildUpstreamQuery, QUESTION_NAME, ResponseBuilder, SECTION } from './message.ts';
import { createUpstreams, parseServer, UpstreamError, type Upstreams } from './upstream.ts';
import { parseQuery, QTYPE, RCODE } from './wire.ts';

const HOST = '127.0.0.1';
const OPENSSL = ['/usr/bin/openssl', '/bin/openssl'].find((p) => existsSync(p));

// Any rejection nobody handled is a bug in upstream.ts (its promise says it never leaves one).
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on('unhandledRejection', onUnhandled);
after(() => {
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, [], 'no unhandled rejections');
});

/** The query our filter would send upstream for `name`. */
function upstreamQuery(name: string, id = 0x7777): Uint8Array {
  const bytes = [0xab, 0xcd, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const label of name.split('.')) bytes.push(label.length, ...Buffer.from(label, 'latin1'));
  bytes.push(0, 0, QTYPE.A, 0, 1);
  const client = Uint8Array.from(bytes);
  const parsed = parseQuery(client);
  assert.ok(parsed.ok);
  return buildUpstreamQuery(client, parsed.query, id);
}

/** A server's answer to `query`: one A record, or an empty answer with TC or an error RCODE. */
function reply(query: Uint8Array, address: string, options: { tc?: boolean; rcode?: number; name?: string } = {}): Uint8Array {
  const source = options.name ? upstreamQuery(options.name, (query[0] << 8) | query[1]) : query;
  const parsed = parseQuery(source);
  assert.ok(parsed.ok, 'the upstream received a well-formed query');
  const b = new ResponseBuilder(source, parsed.query).setRcode(options.rcode ?? RCODE.NOERROR);
  if (!options.tc && !options.rcode) b.addA(SECTION.ANSWER, QUESTION_NAME, 60, address);
  const out = b.finish().slice();
  if (options.tc) out[2] |= 0x02;
  return out;
}

const addressesOf = (answer: Uint8Array) => answerTargets(answer)?.addresses;
const nameOf = (query: Uint8Array) => {
  const parsed = parseQuery(Uint8Array.from([...query.subarray(0, 2), query[2] & 0x7f, ...query.subarray(3)]));
  return parsed.ok ? parsed.query.name : null;
};

interface UdpServer {
  port: number;
  socket: dgram.Socket;
  received: number;
  close(): Promise<void>;
}
async function udpServer(handle: (message: Buffer, remote: dgram.RemoteInfo, socket: dgram.Socket) => void, port = 0): Promise<UdpServer> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, HOST, () => resolve());
  });
  const server: UdpServer = {
    port: socket.address().port,
    socket,
    received: 0,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (message, remote) => {
    server.received++;
    handle(message, remote, socket);
  });
  return server;
}

/** Calls `onMessage` for each length-prefixed DNS message on a stream. */
function readFrames(socket: net.Socket, onMessage: (message: Buffer) => void) {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      const length = buffered.readUInt16BE(0);
      onMessage(buffered.subarray(2, 2 + length));
      buffered = buffered.subarray(2 + length);
    }
  });
  socket.on('error', () => {});
}
const frame = (message: Uint8Array) => Buffer.concat([Buffer.from([message.length >> 8, message.length & 0xff]), message]);

interface StreamServer {
  port: number;
  connections: number;
  close(): Promise<void>;
}
async function streamServer(server: net.Server, onConnection: (socket: net.Socket) => void, port = 0): Promise<StreamServer> {
  const sockets = new Set<net.Socket>();
  const result: StreamServer = {
    port: 0,
    connections: 0,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  server.on(server instanceof tls.Server ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    result.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve());
  });
  result.port = (server.address() as net.AddressInfo).port;
  return result;
}

/** A port nothing listens on (TCP connections to it are refused at once). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function rejection(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UpstreamError, `an UpstreamError, not ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

describe('parseServer', () => {
  it('reads every supported form', () => {
    assert.deepEqual(parseServer('9.9.9.9'), { spec: '9.9.9.9', transport: 'udp', host: '9.9.9.9', port: 53, servername: undefined });
    assert.deepEqual(parseServer('127.0.0.1:5353'), { spec: '127.0.0.1:5353', transport: 'udp', host: '127.0.0.1', port: 5353, servername: undefined });
    assert.equal(parseServer('udp://[2001:DB8:0::1]:53').host, '2001:db8::1');
    assert.equal(parseServer('2001:db8::53').port, 53);
    assert.equal(parseServer('tcp://192.0.2.1').transport, 'tcp');
    assert.deepEqual(parseServer('tls://1.1.1.1#cloudflare-dns.com'), { spec: 'tls://1.1.1.1#cloudflare-dns.com', transport: 'tls', host: '1.1.1.1', port: 853, servername: 'cloudflare-dns.com' });
    assert.equal(parseServer('tls://dns.quad9.net').servername, 'dns.quad9.net');
    const doh = parseServer('https://dns.example.net/dns-query');
    assert.deepEqual([doh.transport, doh.host, doh.port, doh.servername, doh.url], ['https', 'dns.example.net', 443, 'dns.example.net', 'https://dns.example.net/dns-query']);
  });

  it('refuses what it cannot use, naming the server', () => {
    assert.throws(() => parseServer('dns.google:53'), /"dns.google:53".*IP addresses/);
    assert.throws(() => parseServer('quic://1.1.1.1'), /unknown scheme/);
    assert.throws(() => parseServer('1.1.1.1:0'), /port/);
    assert.throws(() => parseServer('udp://1.1.1.1#name'), /only for tls/);
    assert.throws(() => createUpstreams({ servers: [] }), /at least one/);
  });
});

describe('upstreams over UDP and TCP', () => {
  const open: { close(): Promise<void> }[] = [];
  const track = <T extends { close(): Promise<void> }>(thing: T) => (open.push(thing), thing);
  after(async () => {
    for (const thing of open.reverse()) await thing.close();
  });

  it('asks over UDP and gives back the answer with the query’s id', async () => {
    const server = track(await udpServer((m, r, s) => s.send(reply(m, '192.0.2.1'), r.port, r.address)));
    const upstreams = track(createUpstreams({ servers: [`${HOST}:${server.port}`] }));
    const query = upstreamQuery('www.example.org', 0x1234);
    const result = await upstreams.resolve(query);
    assert.equal(result.server, `${HOST}:${server.port}`);
    assert.equal(result.transport, 'udp');
    assert.deepEqual([result.answer[0], result.answer[1]], [0x12, 0x34]);
    assert.deepEqual(addressesOf(result.answer), ['192.0.2.1']);
    const stats = upstreams.stats();
    assert.equal(stats.queries, 1);
    assert.equal(stats.answered, 1);
    assert.equal(stats.servers[0].answers, 1);
    assert.ok(stats.latencyMsSum >= 0);
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    // UDP and TCP on the same port, as a real server has.
    const tcp = track(await streamServer(net.createServer(), (socket) => readFrames(socket, (m) => socket.write(frame(reply(m, '192.0.2.2'))))));
    const udp = track(await udpServer((m, r, s) => s.send(reply(m, '', { tc: true }), r.port, r.address), tcp.port));
    const upstreams = track(createUpstreams({ servers: [`udp://${HOST}:${udp.port}`] }));
    const result = await upstreams.resolve(upstreamQuery('big.example.org'));
    assert.equal(result.transport, 'tcp');
    assert.deepEqual(addressesOf(result.answer), ['192.0.2.2']);
    assert.equal(udp.received, 1);
    assert.equal(upstreams.stats().servers[0].truncated, 1);
  });

  it('ignores replies from the wrong port, with the wrong id or for another question', async () => {
    const spoofer = track(await udpServer(() => {}));
    const server = track(
      await udpServer((m, r, s) => {
        const wrongId = reply(m, '203.0.113.2');
        wrongId[0] ^= 0xff;
        spoofer.socket.send(reply(m, '203.0.113.1'), r.port, r.address); // right id and question, wrong source port
        s.send(wrongId, r.port, r.address);
        s.send(reply(m, '203.0.113.3', { name: 'other.example.org' }), r.port, r.address);
        const notAnAnswer = reply(m, '203.0.113.4');
        notAnAnswer[2] &= 0x7f; // QR clear
        s.send(notAnAnswer, r.port, r.address);
        setTimeout(() => s.send(reply(m, '192.0.2.3'), r.port, r.address), 50);
      }),
    );
    const upstreams = track(createUpstreams({ servers: [`${HOST}:${server.port}`] }));
    const result = await upstreams.resolve(upstreamQuery('www.example.org'));
    assert.deepEqual(addressesOf(result.answer), ['192.0.2.3']);
    assert.equal(upstreams.stats().ignoredReplies, 4);
  });

  it('moves to the next server when one does not answer, and tries it last for a while', async () => {
    const silent = track(await udpServer(() => {}));
    const good = track(await udpServer((m, r, s) => s.send(reply(m, '192.0.2.4'), r.port, r.address)));
    const upstreams = track(createUpstreams({ servers: [`${HOST}:${silent.port}`, `${HOST}:${good.port}`], timeoutMs: 4000, attemptTimeoutMs: 200 }));
    const first = await upstreams.resolve(upstreamQuery('a.example.org'));
    assert.equal(first.server, `${HOST}:${good.port}`);
    const second = await upstreams.resolve(upstreamQuery('b.example.org'));
    assert.equal(second.server, `${HOST}:${good.port}`);
    assert.equal(silent.received, 1, 'the silent server was not asked again while held down');
    const stats = upstreams.stats();
    assert.equal(stats.servers[0].errors.timeout, 1);
    assert.equal(stats.servers[0].heldDown, true);
    assert.equal(stats.servers[1].answers, 2);
  });

  it('moves on after REFUSED and SERVFAIL, and returns SERVFAIL when that is all there is', async () => {
    const refusing = track(await udpServer((m, r, s) => s.send(reply(m, '', { rcode: RCODE.REFUSED }), r.port, r.address)));
    const failing = track(await udpServer((m, r, s) => s.send(reply(m, '', { rcode: RCODE.SERVFAIL }), r.port, r.address)));
    const good = track(await udpServer((m, r, s) => s.send(reply(m, '192.0.2.5'), r.port, r.address)));
    const upstreams = track(createUpstreams({ servers: [`${HOST}:${refusing.port}`, `${HOST}:${failing.port}`, `${HOST}:${good.port}`] }));
    const result = await upstreams.resolve(upstreamQuery('c.example.org'));
    assert.equal(result.server, `${HOST}:${good.port}`);
    const stats = upstreams.stats();
    assert.equal(stats.servers[0].errors.refused, 1);
    assert.equal(stats.servers[1].errors.servfail, 1);
    assert.equal(stats.servers[0].heldDown, true, 'REFUSED is the server’s fault');
    assert.equal(stats.servers[1].heldDown, false, 'SERVFAIL is usually the name’s');

    const onlyFailing = track(createUpstreams({ servers: [`${HOST}:${failing.port}`] }));
    const servfail = await onlyFailing.resolve(upstreamQuery('d.example.org', 0x0102));
    assert.equal(servfail.answer[3] & 0x0f, RCODE.SERVFAIL);
    assert.deepEqual([servfail.answer[0], servfail.answer[1]], [0x01, 0x02]);
  });

  it('fails with a typed error naming every server and why when none answers', async () => {
    const silent = track(await udpServer(() => {}));
    const refusedPort = await closedPort();
    const upstreams = track(createUpstreams({ servers: [`${HOST}:${silent.port}`, `tcp://${HOST}:${refusedPort}`], timeoutMs: 1500, attemptTimeoutMs: 150 }));
    const error = await rejection(upstreams.resolve(upstreamQuery('e.example.org')));
    assert.deepEqual(
      error.failures.map((f) => [f.server, f.kind]),
      [
        [`${HOST}:${silent.port}`, 'timeout'],
        [`tcp://${HOST}:${refusedPort}`, 'network'],
      ],
    );
    assert.equal(error.kind, 'network');
    assert.match(error.message, /timeout/);
    const stats = upstreams.stats();
    assert.equal(stats.failed, 1);
    assert.equal(stats.servers[1].errors.network, 1);

    const timing = track(createUpstreams({ servers: [`${HOST}:${silent.port}`], timeoutMs: 150 }));
    assert.equal((await rejection(timing.resolve(upstreamQuery('f.example.org')))).kind, 'timeout');
  });

  it('stops when the caller aborts, and fails queries in flight on close', async () => {
    const silent = track(await udpServer(() => {}));
    const upstreams = createUpstreams({ servers: [`${HOST}:${silent.port}`], timeoutMs: 5000 });
    const controller = new AbortController();
    const aborted = upstreams.resolve(upstreamQuery('g.example.org'), { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    assert.equal((await rejection(aborted)).kind, 'aborted');
    assert.equal(upstreams.stats().servers[0].heldDown, false, 'an abort is not the server’s fault');
    const inFlight = upstreams.resolve(upstreamQuery('h.example.org'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await upstreams.close();
    assert.equal((await rejection(inFlight)).kind, 'closed');
    assert.equal((await rejection(upstreams.resolve(upstreamQuery('i.example.org')))).kind, 'closed');
  });

  it('pipelines queries on one TCP connection, answered out of order, and reconnects after a close', async () => {
    let held: { socket: net.Socket; message: Buffer }[] = [];
    let closeAfterAnswer = false;
    const server = track(
      await streamServer(net.createServer(), (socket) =>
        readFrames(socket, (message) => {
          held.push({ socket, message: Buffer.from(message) });
          if (held.length < 3 && !closeAfterAnswer) return;
          // Answer in reverse order of arrival.
          for (const { socket: s, message: m } of held.reverse()) s.write(frame(reply(m, `192.0.2.${10 + Number(nameOf(m)!.split('.')[0].slice(1))}`)));
          held = [];
          if (closeAfterAnswer) socket.end();
        }),
      ),
    );
    const upstreams = track(createUpstreams({ servers: [`tcp://${HOST}:${server.port}`] }));
    const results = await Promise.all(['q1', 'q2', 'q3'].map((label) => upstreams.resolve(upstreamQuery(`${label}.example.org`))));
    assert.deepEqual(
      results.map((r) => addressesOf(r.answer)),
      [['192.0.2.11'], ['192.0.2.12'], ['192.0.2.13']],
    );
    assert.equal(server.connections, 1);
    assert.ok(results.every((r) => r.transport === 'tcp'));

    closeAfterAnswer = true;
    assert.deepEqual(addressesOf((await upstreams.resolve(upstreamQuery('q4.example.org'))).answer), ['192.0.2.14']);
    assert.equal(server.connections, 1, 'the open connection was reused');
    // Asked at once, q5 may race the server's close: either it goes on a new connection, or it is
    // sent on the closing one and retried on a new one (RFC 7766 §6.2.1). Both must answer.
    assert.deepEqual(addressesOf((await upstreams.resolve(upstreamQuery('q5.example.org'))).answer), ['192.0.2.15']);
    assert.equal(server.connections, 2, 'a new connection after the server closed the old one');
    assert.equal(upstreams.stats().failed, 0);
  });

  it('closes a TCP connection that has been idle', async () => {
    let closed = 0;
    const server = track(
      await streamServer(net.createServer(), (socket) => {
        socket.on('close', () => closed++);
        readFrames(socket, (m) => socket.write(frame(reply(m, '192.0.2.16'))));
      }),
    );
    const upstreams = track(createUpstreams({ servers: [`tcp://${HOST}:${server.port}`], idleTimeoutMs: 50 }));
    await upstreams.resolve(upstreamQuery('idle.example.org'));
    for (let i = 0; i < 100 && closed === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(closed, 1, 'the client closed the idle connection');
    await upstreams.resolve(upstreamQuery('idle.example.org'));
    assert.equal(server.connections, 2);
  });
});

describe('upstreams over TLS and HTTPS', { skip: OPENSSL ? false : 'openssl is not installed (needed to make a test certificate)' }, () => {
  let dir: string;
  let key: Buffer;
  let cert: Buffer;
  const open: { close(): Promise<void> }[] = [];
  const track = <T extends { close(): Promise<void> }>(thing: T) => (open.push(thing), thing);
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'schoolgate-upstream-'));
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync(OPENSSL!, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
    key = readFileSync(keyFile);
    cert = readFileSync(certFile);
  });
  after(async () => {
    for (const thing of open.reverse()) await thing.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks over DNS over TLS, checking the server name against our CA', async () => {
    const server = track(await streamServer(tls.createServer({ key, cert }), (socket) => readFrames(socket, (m) => socket.write(frame(reply(m, '192.0.2.20'))))));
    const upstreams = track(createUpstreams({ servers: [`tls://${HOST}:${server.port}#localhost`], ca: cert }));
    const result = await upstreams.resolve(upstreamQuery('dot.example.org'));
    assert.equal(result.transport, 'tls');
    assert.deepEqual(addressesOf(result.answer), ['192.0.2.20']);

    const untrusting = track(createUpstreams({ servers: [`tls://${HOST}:${server.port}#localhost`], timeoutMs: 1500 }));
    const error = await rejection(untrusting.resolve(upstreamQuery('dot.example.org')));
    assert.equal(error.kind, 'network');
    assert.match(error.message, /certificate/i);
  });

  it('asks over DNS over HTTPS with POST and application/dns-message (RFC 8484)', async () => {
    const seen: { method: string; type: string; id: number }[] = [];
    let status = 200;
    const h2 = http2.createSecureServer({ key, cert });
    h2.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push({ method: String(headers[':method']), type: String(headers['content-type']), id: body.readUInt16BE(0) });
        if (headers[':path'] !== '/dns-query') status = 404;
        stream.respond({ ':status': status, 'content-type': 'application/dns-message' });
        stream.end(status === 200 ? reply(body, '192.0.2.30') : undefined);
      });
    });
    const sessions = new Set<http2.ServerHttp2Session>();
    h2.on('session', (session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
    });
    await new Promise<void>((resolve) => h2.listen(0, HOST, () => resolve()));
    const port = (h2.address() as net.AddressInfo).port;
    track({ close: () => new Promise<void>((resolve) => (sessions.forEach((s) => s.destroy()), h2.close(() => resolve()))) });

    const upstreams = track(createUpstreams({ servers: [`https://${HOST}:${port}/dns-query`], ca: cert }));
    const result = await upstreams.resolve(upstreamQuery('doh.example.org', 0x4321));
    assert.equal(result.transport, 'https');
    assert.deepEqual(addressesOf(result.answer), ['192.0.2.30']);
    assert.deepEqual([result.answer[0], result.answer[1]], [0x43, 0x21], 'our id back, though the request carried 0');
    assert.deepEqual(seen, [{ method: 'POST', type: 'application/dns-message', id: 0 }]);
    await upstreams.resolve(upstreamQuery('again.example.org'));
    assert.equal(sessions.size, 1, 'one HTTP/2 connection carries both');

    const untrusting = track(createUpstreams({ servers: [`https://${HOST}:${port}/dns-query`], timeoutMs: 1500 }));
    assert.equal((await rejection(untrusting.resolve(upstreamQuery('doh.example.org')))).kind, 'network', 'a certificate we do not trust');

    status = 503;
    const error = await rejection(upstreams.resolve(upstreamQuery('down.example.org')));
    assert.equal(error.kind, 'http');
    assert.match(error.message, /503/);
  });
});
