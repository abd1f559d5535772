/**
 * The check runner's side of DNS: it asks the running filter the way a
 * device does, over its real listeners (UDP and TCP from a chosen source
 * address, DNS-over-HTTPS on the web server), and reads just enough of the
 * answer to say whether the filter blocked the name. The filter marks every
 * answer it makes up for a block with Extended DNS Error 15 "Blocked" and its
 * reason (RFC 8914), so queries carry EDNS; the block page's address is the
 * second sign, for an answer without the option.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import { cidrContains, formatIp, matchNetwork, parseCidr, parseIp } from '../shared/cidr.ts';

const TYPE_A = 1;
const TYPE_AAAA = 28;
const TYPE_OPT = 41;
const OPTION_EDE = 15;
const EDE_BLOCKED = 15;
const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** What the check needs of an answer. */
export interface ReadAnswer {
  rcode: number;
  addresses: string[];
  /** Extended DNS Errors: code and text. */
  ede: { code: number; text: string }[];
}

/** An A query with RD and an EDNS OPT record (so the filter adds its Extended DNS Error). */
export function buildQuery(name: string): Buffer {
  const labels = name.split('.').filter(Boolean);
  const parts: number[] = [];
  for (const label of labels) parts.push(label.length, ...Buffer.from(label, 'latin1'));
  parts.push(0);
  const id = randomInt(0, 0x10000);
  return Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1, ...parts, 0, TYPE_A, 0, 1, 0, 0, TYPE_OPT, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
}

function skipName(packet: Buffer, offset: number): number {
  for (let hops = 0; hops < 128; hops++) {
    const length = packet[offset];
    if (length === undefined) throw new Error('the answer ends inside a name');
    if ((length & 0xc0) === 0xc0) return offset + 2;
    if (length === 0) return offset + 1;
    offset += length + 1;
  }
  throw new Error('a name in the answer is too long');
}

/** Reads rcode, A/AAAA addresses and Extended DNS Errors; throws on a malformed or mismatched answer. */
export function readAnswer(packet: Buffer, query: Buffer): ReadAnswer {
  if (packet.length < 12) throw new Error('the answer is shorter than a DNS header');
  if (packet.readUInt16BE(0) !== query.readUInt16BE(0)) throw new Error('the answer has another query id');
  const counts = [packet.readUInt16BE(4), packet.readUInt16BE(6), packet.readUInt16BE(8), packet.readUInt16BE(10)];
  let offset = 12;
  for (let i = 0; i < counts[0]; i++) offset = skipName(packet, offset) + 4;
  const addresses: string[] = [];
  const ede: ReadAnswer['ede'] = [];
  let extendedRcode = 0;
  const records = counts[1] + counts[2] + counts[3];
  for (let i = 0; i < records; i++) {
    offset = skipName(packet, offset);
    if (offset + 10 > packet.length) throw new Error('the answer ends inside a record');
    const type = packet.readUInt16BE(offset);
    const ttlField = packet.readUInt32BE(offset + 4);
    const length = packet.readUInt16BE(offset + 8);
    const data = offset + 10;
    if (data + length > packet.length) throw new Error('the answer ends inside a record');
    const inAnswer = i < counts[1];
    if (inAnswer && type === TYPE_A && length === 4) addresses.push([...packet.subarray(data, data + 4)].join('.'));
    if (inAnswer && type === TYPE_AAAA && length === 16) {
      addresses.push(formatIp({ family: 6, value: BigInt(`0x${packet.subarray(data, data + 16).toString('hex')}`) }));
    }
    if (type === TYPE_OPT) {
      extendedRcode = ttlField >>> 24;
      for (let o = data; o + 4 <= data + length; ) {
        const code = packet.readUInt16BE(o);
        const size = packet.readUInt16BE(o + 2);
        if (code === OPTION_EDE && size >= 2) ede.push({ code: packet.readUInt16BE(o + 4), text: packet.toString('utf8', o + 6, o + 4 + size) });
        o += 4 + size;
      }
    }
    offset = data + length;
  }
  return { rcode: (extendedRcode << 4) | (packet[3] & 0x0f), addresses, ede };
}

/** How the filter answers blocked names (the policy's `blocking` settings). */
export interface BlockingAnswer {
  answer: 'address' | 'null' | 'nxdomain';
  ipv4: string | null;
  ipv6: string | null;
}

/** What an answer says: whether the filter blocked the name, and in words what came back. */
export function judge(answer: ReadAnswer, blocking: BlockingAnswer): { blocked: boolean; detail: string } {
  const rcode = RCODE_NAMES[answer.rcode] ?? `rcode ${answer.rcode}`;
  const said = answer.addresses.length ? `${rcode} ${answer.addresses.join(', ')}` : rcode;
  const mark = answer.ede.find((e) => e.code === EDE_BLOCKED);
  if (mark) return { blocked: true, detail: `${said}; the filter says: ${mark.text || 'blocked'}` };
  const blockAddresses = blocking.answer === 'null' ? ['0.0.0.0', '::'] : blocking.answer === 'address' ? [blocking.ipv4, blocking.ipv6].filter(Boolean) : [];
  if (answer.addresses.length && answer.addresses.every((a) => blockAddresses.includes(a))) return { blocked: true, detail: `${said} (the block answer)` };
  return { blocked: false, detail: `${said}: not blocked by the filter` };
}

/** One query over UDP from `localAddress` (or any), with a time limit. */
export function askUdp(server: { host: string; port: number }, query: Buffer, localAddress: string | null, timeoutMs: number): Promise<Buffer> {
  const family = net.isIPv6(server.host) ? 'udp6' : 'udp4';
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(family);
    const timer = setTimeout(() => finish(new Error(`no answer over UDP within ${timeoutMs} ms`)), timeoutMs);
    let done = false;
    function finish(error: Error | null, packet?: Buffer) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(packet!);
    }
    socket.on('error', (error) => finish(error));
    socket.on('message', (packet) => {
      if (packet.length >= 2 && packet.readUInt16BE(0) === query.readUInt16BE(0)) finish(null, packet);
    });
    socket.bind({ address: localAddress ?? undefined, port: 0 }, () => socket.send(query, server.port, server.host, (error) => error && finish(error)));
  });
}

/** One query over TCP (two-byte length prefix) from `localAddress` (or any), with a time limit. */
export function askTcp(server: { host: string; port: number }, query: Buffer, localAddress: string | null, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port, localAddress: localAddress ?? undefined });
    const timer = setTimeout(() => finish(new Error(`no answer over TCP within ${timeoutMs} ms`)), timeoutMs);
    let buffered = Buffer.alloc(0);
    let done = false;
    function finish(error: Error | null, packet?: Buffer) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(packet!);
    }
    socket.on('error', (error) => finish(error));
    socket.on('connect', () => {
      const framed = Buffer.alloc(query.length + 2);
      framed.writeUInt16BE(query.length, 0);
      query.copy(framed, 2);
      socket.write(framed);
    });
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) finish(null, buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
    });
    socket.on('end', () => finish(new Error('the filter closed the TCP connection without an answer')));
  });
}

/**
 * One DNS-over-HTTPS POST to the web server's own listener at `/dns-query/{token}`.
 * The server is this process, reached on its own address: its certificate
 * (often self-signed, or issued for a name, not the address) is not what is
 * being checked, so it is not verified.
 */
export function askDoh(baseUrl: string, token: string, query: Buffer, timeoutMs: number): Promise<Buffer> {
  const url = new URL(`/dns-query/${encodeURIComponent(token)}`, baseUrl);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = lib.request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message', 'content-length': query.length },
        timeout: timeoutMs,
        agent: false,
        ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => {
          const body = Buffer.concat(chunks);
          if (response.statusCode !== 200) reject(new Error(`DoH answered HTTP ${response.statusCode}: ${body.toString('utf8').slice(0, 200)}`));
          else resolve(body);
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no DoH answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(query);
  });
}

/** A network as the snapshot has it. */
export interface CheckNetwork {
  id: string;
  name: string;
  cidr: string;
  groupId: string | null;
}

/** Addresses of this machine's interfaces. */
export function localAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((i) => i !== undefined)
    .map((i) => i.address.replace(/%.*$/, ''));
}

/**
 * A source address on this machine that the filter maps to `groupId` by its
 * network (the most specific network holding it names the group): an
 * interface address inside one of the group's networks, or, for a network
 * inside 127.0.0.0/8 (all of which this machine answers on), an address in
 * it. Null when the machine has no such address.
 */
export function sourceAddressFor(networks: readonly CheckNetwork[], groupId: string, interfaces: readonly string[] = localAddresses()): { address: string; network: CheckNetwork } | null {
  const mine = networks.filter((n) => n.groupId === groupId);
  const candidates: string[] = [];
  for (const network of mine) {
    const parsed = parseCidr(network.cidr);
    if (!parsed.ok) continue;
    const cidr = parsed.cidr;
    for (const address of interfaces) {
      const ip = parseIp(address);
      if (ip && cidrContains(cidr, ip)) candidates.push(address);
    }
    if (cidr.family === 4 && cidr.prefix >= 8 && cidr.value >> 24n === 127n) {
      const size = 1n << BigInt(32 - cidr.prefix);
      // Skip the network's own address where there are host addresses, as on a real subnet.
      const first = size > 2n ? 1n : 0n;
      for (let i = first; i < size && i < first + 16n; i++) candidates.push(formatIp({ family: 4, value: cidr.value + i }));
    }
  }
  for (const address of candidates) {
    const network = matchNetwork(networks, address);
    if (network && network.groupId === groupId) return { address, network };
  }
  return null;
}

/** The address to send to for a listener bound to `host` (a wildcard is reached on loopback of the source's family). */
export function targetFor(bound: readonly { host: string; port: number }[], source: string): { host: string; port: number } | null {
  const v6 = net.isIPv6(source);
  for (const listener of bound) {
    const host = listener.host;
    if (host === '0.0.0.0' && !v6) return { host: '127.0.0.1', port: listener.port };
    if (host === '::') return { host: v6 ? '::1' : '127.0.0.1', port: listener.port };
    if (net.isIPv6(host) === v6) return { host, port: listener.port };
  }
  return null;
}
