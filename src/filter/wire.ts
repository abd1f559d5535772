/**
 * DNS wire format, read straight from the packet bytes (RFC 1035 §4). The hot
 * path needs only the header, the one question and the client's EDNS(0)
 * record; nothing else is turned into objects. Everything here is pure and
 * imports nothing from the rest of Schoolgate.
 */

/** Response codes this server sends (RFC 1035 §4.1.1, RFC 6895). */
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** Record types the filter treats specially. */
export const QTYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, AAAA: 28, OPT: 41, SVCB: 64, HTTPS: 65, ANY: 255 } as const;

const HEADER_LENGTH = 12;
const MAX_NAME_LENGTH = 255; // RFC 1035 §2.3.4, counting length octets and the root
const MAX_LABEL_LENGTH = 63;

/** The client's EDNS(0) OPT record (RFC 6891), when the query has one. */
export interface Edns {
  /** Largest UDP answer the client accepts (values below 512 are treated as 512). */
  udpSize: number;
  version: number;
  /** DNSSEC OK bit. */
  dnssecOk: boolean;
  /** Offset of the OPT record's first byte (its owner name) in the packet. */
  offset: number;
  /** Whether the OPT record carries a client-subnet option (RFC 7871, option 8). */
  hasClientSubnet: boolean;
}

/** A query as the pipeline needs it. Offsets point into the original packet. */
export interface Query {
  id: number;
  /** Opcode (0 = standard query). */
  opcode: number;
  recursionDesired: boolean;
  checkingDisabled: boolean;
  /** The question name, lower-cased, without the trailing dot (`""` for the root). */
  name: string;
  qtype: number;
  qclass: number;
  /** Offset just past the question: bytes 12..questionEnd are the question in the client's letter case. */
  questionEnd: number;
  edns: Edns | null;
}

/** Why a packet could not be used: `drop` when not even a reply is possible, `formerr` otherwise. */
export type ParseFailure = { ok: false; action: 'drop' | 'formerr'; reason: string; id?: number };

/** The result of reading a query packet. */
export type ParseResult = { ok: true; query: Query } | ParseFailure;

/**
 * Reads the header, the single question and the OPT record of a query. Never
 * throws: a packet that is too short to answer is `drop`; one with a readable
 * header but a bad body is `formerr`, which the server answers (RFC 1035 §4.1.1).
 */
export function parseQuery(packet: Uint8Array): ParseResult {
  if (packet.length < HEADER_LENGTH) return { ok: false, action: 'drop', reason: 'shorter than a DNS header' };
  const id = (packet[0] << 8) | packet[1];
  const flags1 = packet[2];
  if (flags1 & 0x80) return { ok: false, action: 'drop', reason: 'a response, not a query' }; // never answer answers (loops)
  const fail = (reason: string): ParseFailure => ({ ok: false, action: 'formerr', reason, id });
  const qdcount = (packet[4] << 8) | packet[5];
  const ancount = (packet[6] << 8) | packet[7];
  const nscount = (packet[8] << 8) | packet[9];
  const arcount = (packet[10] << 8) | packet[11];
  if (qdcount !== 1) return fail(`expected one question, found ${qdcount}`);

  // The question name: labels only; a compression pointer cannot appear in the first name of a packet.
  let offset = HEADER_LENGTH;
  let name = '';
  let nameLength = 1;
  for (;;) {
    if (offset >= packet.length) return fail('question name runs past the end of the packet');
    const length = packet[offset];
    if (length === 0) {
      offset += 1;
      break;
    }
    if (length > MAX_LABEL_LENGTH) return fail('question name has a compression pointer or a label over 63 bytes');
    nameLength += length + 1;
    if (nameLength > MAX_NAME_LENGTH) return fail('question name is longer than 255 bytes');
    if (offset + 1 + length > packet.length) return fail('question name runs past the end of the packet');
    if (name.length > 0) name += '.';
    for (let i = offset + 1; i <= offset + length; i++) {
      const c = packet[i];
      // ASCII letters are lower-cased (DNS names compare case-insensitively, RFC 4343);
      // other bytes are kept, escaped when they are not printable or would confuse a name.
      if (c >= 0x41 && c <= 0x5a) name += String.fromCharCode(c + 32);
      else if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c) name += String.fromCharCode(c);
      else name += `\\${c.toString().padStart(3, '0')}`;
    }
    offset += 1 + length;
  }
  if (offset + 4 > packet.length) return fail('question type and class are missing');
  const qtype = (packet[offset] << 8) | packet[offset + 1];
  const qclass = (packet[offset + 2] << 8) | packet[offset + 3];
  const questionEnd = offset + 4;

  // Skip answer and authority records (a query normally has none) to reach the additional section.
  offset = questionEnd;
  for (let i = 0; i < ancount + nscount; i++) {
    const next = skipRecord(packet, offset);
    if (next < 0) return fail('a record after the question is malformed');
    offset = next;
  }
  let edns: Edns | null = null;
  for (let i = 0; i < arcount; i++) {
    const start = offset;
    const afterName = skipName(packet, offset);
    if (afterName < 0 || afterName + 10 > packet.length) return fail('an additional record is malformed');
    const type = (packet[afterName] << 8) | packet[afterName + 1];
    const rdlength = (packet[afterName + 8] << 8) | packet[afterName + 9];
    const end = afterName + 10 + rdlength;
    if (end > packet.length) return fail('an additional record runs past the end of the packet');
    if (type === QTYPE.OPT) {
      // RFC 6891 §6.1.1: one OPT record at most, and its owner is the root.
      if (edns) return fail('more than one OPT record');
      if (afterName !== start + 1) return fail('the OPT record’s owner is not the root');
      const udpSize = Math.max(512, (packet[afterName + 2] << 8) | packet[afterName + 3]);
      const version = packet[afterName + 5];
      const dnssecOk = (packet[afterName + 6] & 0x80) !== 0;
      let hasClientSubnet = false;
      for (let o = afterName + 10; o + 4 <= end; ) {
        const code = (packet[o] << 8) | packet[o + 1];
        const length = (packet[o + 2] << 8) | packet[o + 3];
        if (o + 4 + length > end) return fail('an EDNS option runs past its record');
        if (code === 8) hasClientSubnet = true;
        o += 4 + length;
      }
      edns = { udpSize, version, dnssecOk, offset: start, hasClientSubnet };
    }
    offset = end;
  }

  return {
    ok: true,
    query: {
      id,
      opcode: (flags1 >> 3) & 0x0f,
      recursionDesired: (flags1 & 0x01) !== 0,
      checkingDisabled: (packet[3] & 0x10) !== 0,
      name,
      qtype,
      qclass,
      questionEnd,
      edns,
    },
  };
}

/** Skips a (possibly compressed) name; returns the offset after it, or -1 when malformed. */
export function skipName(packet: Uint8Array, offset: number): number {
  for (let guard = 0; guard < 128; guard++) {
    if (offset >= packet.length) return -1;
    const length = packet[offset];
    if (length === 0) return offset + 1;
    if ((length & 0xc0) === 0xc0) return offset + 2 <= packet.length ? offset + 2 : -1; // a pointer ends the name
    if (length > MAX_LABEL_LENGTH) return -1;
    offset += 1 + length;
  }
  return -1;
}

/** Skips one resource record; returns the offset after it, or -1 when malformed. */
export function skipRecord(packet: Uint8Array, offset: number): number {
  const afterName = skipName(packet, offset);
  if (afterName < 0 || afterName + 10 > packet.length) return -1;
  const end = afterName + 10 + ((packet[afterName + 8] << 8) | packet[afterName + 9]);
  return end <= packet.length ? end : -1;
}

/**
 * Builds an answer with no records from a query: its id, question (in the
 * client's letter case), RD and CD bits, the given RCODE, and an OPT record
 * when the client sent one (RFC 6891 §7). Used for REFUSED, FORMERR, SERVFAIL,
 * and as the base of blocked answers.
 */
export function emptyResponse(packet: Uint8Array, query: Query | null, rcode: number, options: { authoritative?: boolean } = {}): Uint8Array {
  const questionEnd = query?.questionEnd ?? HEADER_LENGTH;
  const optLength = query?.edns ? 11 : 0;
  const out = new Uint8Array(questionEnd + optLength);
  out.set(packet.subarray(0, questionEnd));
  // QR=1, keep opcode and RD; AA when we are the authority for a made-up answer.
  out[2] = 0x80 | (packet[2] & 0x79) | (options.authoritative ? 0x04 : 0);
  // RA=1 (we recurse), AD=0 (nothing we make up is validated), keep CD, set RCODE.
  out[3] = 0x80 | (packet[3] & 0x10) | (rcode & 0x0f);
  out[4] = 0;
  out[5] = query ? 1 : 0;
  out.fill(0, 6, 10);
  out[10] = 0;
  out[11] = optLength ? 1 : 0;
  if (optLength) writeOpt(out, questionEnd, 1232);
  return out;
}

/** Writes an OPT record with no options at `offset` (11 bytes): root owner, our UDP size, version 0. */
export function writeOpt(out: Uint8Array, offset: number, udpSize: number) {
  out[offset] = 0; // root
  out[offset + 1] = 0;
  out[offset + 2] = QTYPE.OPT;
  out[offset + 3] = udpSize >> 8;
  out[offset + 4] = udpSize & 0xff;
  out.fill(0, offset + 5, offset + 11); // extended rcode, version, flags, rdlength
}

/** Puts the client's id into a relayed or cached answer (RFC 1035 §4.1.1). */
export function setId(packet: Uint8Array, id: number) {
  packet[0] = id >> 8;
  packet[1] = id & 0xff;
}
