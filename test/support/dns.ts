/**
 * DNS for tests, written independently of src/filter so the filter is checked
 * against a second reading of the RFCs: a stub client that builds queries and
 * reads answers, and a loopback "upstream" authoritative for whatever the test
 * tells it. Everything binds 127.0.0.1 only.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, OPT: 41, SVCB: 64, HTTPS: 65 } as const;

export interface QueryOptions {
  id?: number;
  type?: number;
  /** Add an OPT record with this UDP size. */
  edns?: number;
  dnssecOk?: boolean;
}

function nameBytes(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split('.').filter(Boolean)) out.push(label.length, ...Buffer.from(label, 'latin1'));
  out.push(0);
  return out;
}

/** A query packet as a stub resolver sends it (RD set). */
export function buildQuery(name: string, options: QueryOptions = {}): Buffer {
  const id = options.id ?? Math.floor(Math.random() * 0xffff);
  const type = options.type ?? TYPE.A;
  const bytes = [id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, options.edns ? 1 : 0, ...nameBytes(name), type >> 8, type & 0xff, 0, 1];
  if (options.edns) bytes.push(0, 0, TYPE.OPT, options.edns >> 8, options.edns & 0xff, 0, 0, options.dnssecOk ? 0x80 : 0, 0, 0, 0);
  return Buffer.from(bytes);
}

export interface Record {
  name: string;
  type: number;
  ttl: number;
  /** A/AAAA: the address; CNAME/PTR/NS: the target; SOA: "mname rname ... minimum"; TXT: the text; others: hex. */
  data: string;
}

export interface Answer {
  id: number;
  rcode: number;
  flags: { qr: boolean; aa: boolean; tc: boolean; rd: boolean; ra: boolean; ad: boolean; cd: boolean };
  question: { name: string; type: number } | null;
  answers: Record[];
  authority: Record[];
  additional: Record[];
  /** The OPT record's UDP size, when present. */
  ednsSize: number | null;
  /** Extended DNS Errors (RFC 8914). */
  ede: { code: number; text: string }[];
  size: number;
}

function readName(buf: Buffer, offset: number): [string, number] {
  const labels: string[] = [];
  let end = -1;
  for (let hops = 0; hops < 64; hops++) {
    const length = buf[offset];
    if (length === undefined) throw new Error('name runs past the end');
    if ((length & 0xc0) === 0xc0) {
      if (end < 0) end = offset + 2;
      offset = ((length & 0x3f) << 8) | buf[offset + 1];
      continue;
    }
    if (length === 0) return [labels.join('.'), end < 0 ? offset + 1 : end];
    labels.push(buf.toString('latin1', offset + 1, offset + 1 + length));
    offset += length + 1;
  }
  throw new Error('name has too many pointers');
}

function ipv6(buf: Buffer, offset: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(offset + i * 2).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

/** Reads a whole answer; throws on anything malformed (a test failure). */
export function parseAnswer(buf: Buffer): Answer {
  const count = (i: number) => buf.readUInt16BE(i);
  let offset = 12;
  let question: Answer['question'] = null;
  if (count(4) > 0) {
    const [name, next] = readName(buf, offset);
    question = { name, type: count(next) };
    offset = next + 4;
  }
  const sections: Record[][] = [[], [], []];
  let ednsSize: number | null = null;
  const ede: Answer['ede'] = [];
  for (const [section, n] of [count(6), count(8), count(10)].entries()) {
    for (let i = 0; i < n; i++) {
      const [name, next] = readName(buf, offset);
      const type = count(next);
      const ttl = buf.readUInt32BE(next + 4);
      const rdlength = count(next + 8);
      const rdata = next + 10;
      offset = rdata + rdlength;
      if (offset > buf.length) throw new Error('record runs past the end');
      if (type === TYPE.OPT) {
        ednsSize = count(next + 2);
        for (let o = rdata; o < rdata + rdlength; ) {
          const code = count(o);
          const length = count(o + 2);
          if (code === 15) ede.push({ code: count(o + 4), text: buf.toString('utf8', o + 6, o + 4 + length) });
          o += 4 + length;
        }
        continue;
      }
      let data: string;
      if (type === TYPE.A) data = [...buf.subarray(rdata, rdata + 4)].join('.');
      else if (type === TYPE.AAAA) data = ipv6(buf, rdata);
      else if (type === TYPE.CNAME || type === TYPE.PTR || type === TYPE.NS) data = readName(buf, rdata)[0];
      else if (type === TYPE.SOA) {
        const [mname, a] = readName(buf, rdata);
        const [rname, b] = readName(buf, a);
        data = [mname, rname, ...[0, 4, 8, 12, 16].map((k) => buf.readUInt32BE(b + k))].join(' ');
      } else if (type === TYPE.TXT) data = buf.toString('utf8', rdata + 1, rdata + 1 + buf[rdata]);
      else data = buf.toString('hex', rdata, rdata + rdlength);
      sections[section].push({ name, type, ttl, data });
    }
  }
  const f = buf[2];
  const g = buf[3];
  return {
    id: count(0),
    rcode: g & 0x0f,
    flags: { qr: !!(f & 0x80), aa: !!(f & 0x04), tc: !!(f & 0x02), rd: !!(f & 0x01), ra: !!(g & 0x80), ad: !!(g & 0x20), cd: !!(g & 0x10) },
    question,
    answers: sections[0],
    authority: sections[1],
    additional: sections[2],
    ednsSize,
    ede,
    size: buf.length,
  };
}

/** Sends one UDP query from `localAddress` (any 127.x address) and waits for the answer. */
export function udpExchange(port: number, packet: Buffer, options: { localAddress?: string; timeoutMs?: number; host?: string } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no UDP answer within ${options.timeoutMs ?? 2000} ms`));
    }, options.timeoutMs ?? 2000);
    socket.on('message', (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(message);
    });
    socket.bind(0, options.localAddress ?? '127.0.0.1', () => socket.send(packet, port, options.host ?? '127.0.0.1'));
  });
}

/** Sends queries over one TCP (or TLS) connection, pipelined, and collects one answer per query (in arrival order). */
export function streamExchange(
  port: number,
  packets: Buffer[],
  options: { localAddress?: string; tls?: { ca: string | Buffer; servername: string }; timeoutMs?: number } = {},
): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const answers: Buffer[] = [];
    let buffered = Buffer.alloc(0);
    const onConnect = () => socket.write(Buffer.concat(packets.map((p) => Buffer.concat([Buffer.from([p.length >> 8, p.length & 0xff]), p]))));
    const socket: net.Socket = options.tls
      ? tls.connect({ port, host: '127.0.0.1', ca: options.tls.ca, servername: options.tls.servername }, onConnect)
      : net.connect({ port, host: '127.0.0.1', localAddress: options.localAddress }, onConnect);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`only ${answers.length} of ${packets.length} answers within ${options.timeoutMs ?? 3000} ms`));
    }, options.timeoutMs ?? 3000);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        answers.push(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
      }
      if (answers.length === packets.length) {
        clearTimeout(timer);
        socket.end();
        resolve(answers);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** What the test upstream answers for a name. */
export type Zone = Map<string, { a?: string[]; aaaa?: string[]; cname?: string; nxdomain?: boolean; ttl?: number; txtBytes?: number }>;

export interface TestUpstream {
  port: number;
  /** Queries received, by lower-case name. */
  seen: string[];
  zone: Zone;
  /** Stops answering (timeouts) until `resume`. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

/**
 * A loopback authoritative server over UDP and TCP. Unknown names are NXDOMAIN
 * with an SOA; a name with `txtBytes` answers TXT that large (for truncation).
 */
export async function startTestUpstream(zone: Zone = new Map()): Promise<TestUpstream> {
  const seen: string[] = [];
  let paused = false;
  const answer = (query: Buffer): Buffer => {
    const [rawName, next] = readName(query, 12);
    const name = rawName.toLowerCase();
    const type = query.readUInt16BE(next);
    seen.push(name);
    const questionEnd = next + 4;
    const records: Buffer[] = [];
    const authority: Buffer[] = [];
    const rr = (owner: number[], rtype: number, ttl: number, rdata: number[]) =>
      Buffer.from([...owner, rtype >> 8, rtype & 0xff, 0, 1, (ttl >>> 24) & 0xff, (ttl >> 16) & 0xff, (ttl >> 8) & 0xff, ttl & 0xff, rdata.length >> 8, rdata.length & 0xff, ...rdata]);
    let owner = name;
    let entry = zone.get(owner);
    let rcode = 0;
    for (let hops = 0; entry?.cname && hops < 8; hops++) {
      records.push(rr(nameBytes(owner), TYPE.CNAME, entry.ttl ?? 300, nameBytes(entry.cname)));
      owner = entry.cname;
      entry = zone.get(owner);
    }
    if (!entry || entry.nxdomain) {
      if (records.length === 0) rcode = 3;
      authority.push(rr(nameBytes('test'), TYPE.SOA, 60, [...nameBytes('ns.test'), ...nameBytes('admin.test'), 0, 0, 0, 1, 0, 0, 14, 16, 0, 0, 7, 8, 0, 9, 58, 128, 0, 0, 0, 30]));
    } else {
      const ttl = entry.ttl ?? 300;
      if (type === TYPE.A) for (const a of entry.a ?? []) records.push(rr(nameBytes(owner), TYPE.A, ttl, a.split('.').map(Number)));
      if (type === TYPE.AAAA) {
        for (const a of entry.aaaa ?? []) {
          const full = net.isIPv6(a) ? a : '::';
          const [head, tail = ''] = full.split('::');
          const h = head ? head.split(':') : [];
          const t = tail ? tail.split(':') : [];
          const groups = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g || '0', 16));
          records.push(rr(nameBytes(owner), TYPE.AAAA, ttl, groups.flatMap((g) => [g >> 8, g & 0xff])));
        }
      }
      if (type === TYPE.TXT && entry.txtBytes) {
        let left = entry.txtBytes;
        while (left > 0) {
          const chunk = Math.min(200, left);
          records.push(rr(nameBytes(owner), TYPE.TXT, ttl, [chunk, ...Buffer.alloc(chunk, 0x61)]));
          left -= chunk;
        }
      }
    }
    const header = Buffer.from(query.subarray(0, questionEnd));
    header[2] = 0x84 | (query[2] & 0x01);
    header[3] = 0x80 | rcode;
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(records.length, 6);
    header.writeUInt16BE(authority.length, 8);
    header.writeUInt16BE(0, 10);
    return Buffer.concat([header, ...records, ...authority]);
  };

  const udp = dgram.createSocket('udp4');
  udp.on('message', (query, remote) => {
    if (paused) return;
    let out = answer(query);
    // Over UDP without EDNS, answers over 512 bytes are cut to the header and question with TC.
    if (out.length > 512) {
      const [, next] = readName(query, 12);
      out = Buffer.from(out.subarray(0, next + 4));
      out[2] |= 0x02;
      out.writeUInt16BE(0, 6);
      out.writeUInt16BE(0, 8);
    }
    udp.send(out, remote.port, remote.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
  const port = udp.address().port;
  const tcp = net.createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const query = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + query.length);
        if (paused) continue;
        const out = answer(query);
        socket.write(Buffer.concat([Buffer.from([out.length >> 8, out.length & 0xff]), out]));
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    seen,
    zone,
    pause: () => (paused = true),
    resume: () => (paused = false),
    close: () =>
      new Promise<void>((resolve) => {
        udp.close();
        tcp.close(() => resolve());
      }),
  };
}
