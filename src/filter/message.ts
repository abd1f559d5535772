/**
 * Whole DNS messages (RFC 1035 §4), read and rewritten as bytes: walking an
 * answer's sections, the TTL to cache an answer for, ageing and capping TTLs,
 * relaying an upstream or cached answer to a client, building the query we
 * send upstream, the names and addresses a policy must re-check, and a small
 * builder for answers we make up. Pure functions over `Uint8Array`; nothing
 * here builds an object per record, and nothing that reads a packet throws on
 * malformed input (it returns -1, `false` or `null`). Imports nothing outside
 * `src/filter/`: this runs in the filter's worker threads on the hot path.
 */
import { parseIpv4, parseIpv6 as parseIpv6Literal } from './name-hash.ts';
import { QTYPE, RCODE, skipName, skipRecord, type Query } from './wire.ts';

export { parseIpv4 };

const HEADER_LENGTH = 12;
/** Offset of the question name in every message: the target of the `0xc00c` compression pointer. */
export const QUESTION_NAME = 12;

/** Record sections after the question, numbered as the header counts them. */
export const SECTION = { ANSWER: 1, AUTHORITY: 2, ADDITIONAL: 3 } as const;
export type Section = (typeof SECTION)[keyof typeof SECTION];

/** EDNS option codes this module reads or writes. */
export const EDNS_OPTION = { CLIENT_SUBNET: 8, COOKIE: 10, TCP_KEEPALIVE: 11, PADDING: 12, EXTENDED_ERROR: 15 } as const;

/** Extended DNS Error info-codes (RFC 8914 §4) the filter uses. */
export const EDE = {
  OTHER: 0,
  STALE_ANSWER: 3,
  FORGED_ANSWER: 4,
  NOT_READY: 14,
  BLOCKED: 15,
  CENSORED: 16,
  FILTERED: 17,
  PROHIBITED: 18,
  STALE_NXDOMAIN: 19,
  NO_REACHABLE_AUTHORITY: 22,
  NETWORK_ERROR: 23,
} as const;

/** Our UDP payload size (the DNS flag day 2020 value): what we advertise and the most we send over UDP. */
export const DEFAULT_UDP_SIZE = 1232;

const u16 = (p: Uint8Array, o: number) => (p[o] << 8) | p[o + 1];
const put16 = (p: Uint8Array, o: number, v: number) => {
  p[o] = (v >> 8) & 0xff;
  p[o + 1] = v & 0xff;
};
const lowerByte = (c: number) => (c >= 0x41 && c <= 0x5a ? c + 32 : c);

/**
 * A TTL as a resolver must read it: unsigned 32 bits, and values with the top
 * bit set count as 0 (RFC 2181 §8).
 */
export function readTtl(p: Uint8Array, o: number): number {
  const ttl = p[o] * 0x1000000 + ((p[o + 1] << 16) | (p[o + 2] << 8) | p[o + 3]);
  return ttl > 0x7fffffff ? 0 : ttl;
}

function writeTtl(p: Uint8Array, o: number, ttl: number) {
  p[o] = (ttl >>> 24) & 0xff;
  p[o + 1] = (ttl >>> 16) & 0xff;
  p[o + 2] = (ttl >>> 8) & 0xff;
  p[o + 3] = ttl & 0xff;
}

// ---------------------------------------------------------------------------
// Walking sections

/** Offset just past the question section, or -1 when the header or a question is malformed. */
export function questionsEnd(packet: Uint8Array): number {
  if (packet.length < HEADER_LENGTH) return -1;
  const count = u16(packet, 4);
  let offset = HEADER_LENGTH;
  for (let i = 0; i < count; i++) {
    offset = skipName(packet, offset);
    if (offset < 0 || offset + 4 > packet.length) return -1;
    offset += 4;
  }
  return offset;
}

/**
 * Called once per resource record: `start` is the owner name's offset, `fixed`
 * the offset of TYPE (then CLASS at +2, TTL at +4, RDLENGTH at +8, RDATA at +10).
 * Return `false` to stop the walk.
 */
export type RecordVisitor = (section: Section, start: number, fixed: number, rdlength: number) => boolean | void;

/**
 * Walks every record of the answer, authority and additional sections,
 * checking that each lies inside the packet. Returns the offset after the last
 * record walked (trailing bytes are ignored), or -1 when a record is malformed;
 * records before the malformed one have already been visited.
 */
export function walkRecords(packet: Uint8Array, visit?: RecordVisitor): number {
  let offset = questionsEnd(packet);
  if (offset < 0) return -1;
  for (let section = 1; section <= 3; section++) {
    const count = u16(packet, 4 + section * 2);
    for (let i = 0; i < count; i++) {
      const fixed = skipName(packet, offset);
      if (fixed < 0 || fixed + 10 > packet.length) return -1;
      const rdlength = u16(packet, fixed + 8);
      const end = fixed + 10 + rdlength;
      if (end > packet.length) return -1;
      if (visit && visit(section as Section, offset, fixed, rdlength) === false) return end;
      offset = end;
    }
  }
  return offset;
}

/** Appends one label to a name in the same text form as `parseQuery` (lower case, `\DDD` for odd bytes). */
function appendLabel(name: string, packet: Uint8Array, from: number, to: number): string {
  if (name.length > 0) name += '.';
  for (let i = from; i < to; i++) {
    const c = packet[i];
    if (c >= 0x41 && c <= 0x5a) name += String.fromCharCode(c + 32);
    else if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c) name += String.fromCharCode(c);
    else name += `\\${c.toString().padStart(3, '0')}`;
  }
  return name;
}

/**
 * Reads a possibly compressed name as lower-case text without the trailing dot
 * (`""` for the root), or `null` when malformed. Every pointer must jump to
 * before the start of the labels it interrupts, so pointer loops cannot occur;
 * the name may not exceed 255 bytes (RFC 1035 §2.3.4).
 */
export function readName(packet: Uint8Array, offset: number): string | null {
  let name = '';
  let length = 1;
  let floor = offset; // where the current run of labels began; a pointer must go below it
  for (let guard = 0; guard < 256; guard++) {
    if (offset >= packet.length) return null;
    const len = packet[offset];
    if (len === 0) return name;
    if ((len & 0xc0) === 0xc0) {
      if (offset + 1 >= packet.length) return null;
      const target = ((len & 0x3f) << 8) | packet[offset + 1];
      if (target >= floor || target < HEADER_LENGTH) return null;
      floor = offset = target;
      continue;
    }
    if (len > 63) return null; // 0x40 and 0x80 label types are obsolete (RFC 6891 §5)
    length += len + 1;
    if (length > 255 || offset + 1 + len > packet.length) return null;
    name = appendLabel(name, packet, offset + 1, offset + 1 + len);
    offset += 1 + len;
  }
  return null;
}

/**
 * Whether `answer` answers the question of `query`: one question (or none, for
 * an error answer from a server that could not read ours) with the same name
 * compared case-insensitively, type and class. Used to reject spoofed and
 * mismatched upstream replies.
 */
export function matchesQuestion(query: Uint8Array, answer: Uint8Array): boolean {
  if (answer.length < HEADER_LENGTH || query.length < HEADER_LENGTH) return false;
  if (u16(answer, 4) === 0) {
    const rcode = answer[3] & 0x0f;
    return rcode === RCODE.FORMERR || rcode === RCODE.NOTIMP || rcode === RCODE.REFUSED || rcode === RCODE.SERVFAIL;
  }
  if (u16(answer, 4) !== 1 || u16(query, 4) !== 1) return false;
  // Our query's question name is plain labels (no pointers), so the answer's must be the same bytes.
  let offset = HEADER_LENGTH;
  for (let guard = 0; guard < 128; guard++) {
    if (offset >= query.length || offset >= answer.length) return false;
    const len = query[offset];
    if (len !== answer[offset] || len > 63) return false;
    if (len === 0) break;
    if (offset + 1 + len > query.length || offset + 1 + len > answer.length) return false;
    for (let i = offset + 1; i <= offset + len; i++) if (lowerByte(query[i]) !== lowerByte(answer[i])) return false;
    offset += 1 + len;
  }
  if (query[offset] !== 0 || offset + 5 > query.length || offset + 5 > answer.length) return false;
  for (let i = offset + 1; i < offset + 5; i++) if (query[i] !== answer[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------
// TTLs

/** Options for reading the TTL to cache an answer for. */
export interface TtlOptions {
  /** TTL of a negative answer with no SOA to take it from (seconds; default 60). */
  negativeDefaultTtl?: number;
}

/**
 * Whether the answer is negative (RFC 2308 §1): NXDOMAIN, or NOERROR with no
 * record of the question's type in the answer section (NODATA; a CNAME chain
 * that ends without the type counts). False when malformed.
 */
export function isNegativeAnswer(packet: Uint8Array): boolean {
  const qEnd = questionsEnd(packet);
  if (qEnd < 0) return false;
  const rcode = packet[3] & 0x0f;
  if (rcode === RCODE.NXDOMAIN) return true;
  if (rcode !== RCODE.NOERROR) return false;
  const qtype = u16(packet, 4) === 1 ? u16(packet, qEnd - 4) : -1;
  let found = false;
  const end = walkRecords(packet, (section, _start, fixed) => {
    if (section !== SECTION.ANSWER) return false;
    const type = u16(packet, fixed);
    if (qtype < 0 || type === qtype || qtype === QTYPE.ANY) {
      found = true;
      return false;
    }
  });
  return end >= 0 && !found;
}

/** The MINIMUM field of the SOA record whose fixed part is at `fixed`, or -1 when malformed. */
function soaMinimum(packet: Uint8Array, fixed: number, rdlength: number): number {
  const rdata = fixed + 10;
  const end = rdata + rdlength;
  const afterMname = skipName(packet, rdata);
  if (afterMname < 0 || afterMname > end) return -1;
  const afterRname = skipName(packet, afterMname);
  if (afterRname < 0 || afterRname + 20 !== end) return -1;
  return readTtl(packet, afterRname + 16);
}

/**
 * The TTL to cache an answer for, in seconds, or -1 when malformed: the
 * smallest TTL in the answer and authority sections (the OPT record is not a
 * real record and is skipped). For a negative answer (RFC 2308 §5) an SOA in
 * the authority section counts as min(its TTL, its MINIMUM); with no SOA the
 * `negativeDefaultTtl` applies.
 */
export function minTtl(packet: Uint8Array, options: TtlOptions = {}): number {
  const negative = isNegativeAnswer(packet);
  let min = Infinity;
  let sawSoa = false;
  let bad = false;
  const end = walkRecords(packet, (section, _start, fixed, rdlength) => {
    if (section === SECTION.ADDITIONAL) return false;
    const type = u16(packet, fixed);
    if (type === QTYPE.OPT) return;
    let ttl = readTtl(packet, fixed + 4);
    if (negative && section === SECTION.AUTHORITY && type === QTYPE.SOA) {
      const minimum = soaMinimum(packet, fixed, rdlength);
      if (minimum < 0) {
        bad = true;
        return false;
      }
      sawSoa = true;
      ttl = Math.min(ttl, minimum);
    }
    if (ttl < min) min = ttl;
  });
  if (end < 0 || bad) return -1;
  if (negative && !sawSoa) min = Math.min(min, options.negativeDefaultTtl ?? 60);
  return min === Infinity ? 0 : min;
}

const TTL_AGE = 0;
const TTL_CAP = 1;
const TTL_SET = 2;

function rewriteTtls(packet: Uint8Array, mode: number, value: number): boolean {
  const v = Math.max(0, Math.min(0x7fffffff, Math.floor(value)));
  return (
    walkRecords(packet, (_section, _start, fixed) => {
      if (u16(packet, fixed) === QTYPE.OPT) return; // its TTL field holds the extended RCODE and flags
      const ttl = readTtl(packet, fixed + 4);
      const next = mode === TTL_AGE ? Math.max(0, ttl - v) : mode === TTL_CAP ? Math.min(ttl, v) : v;
      writeTtl(packet, fixed + 4, next);
    }) >= 0
  );
}

/** Offsets of the TTL field of every record but OPT (whose TTL field holds flags), in order; null when the packet is malformed. */
export function ttlOffsets(packet: Uint8Array): number[] | null {
  const offsets: number[] = [];
  const end = walkRecords(packet, (_section, _start, fixed) => {
    if (u16(packet, fixed) !== QTYPE.OPT) offsets.push(fixed + 4);
  });
  return end < 0 ? null : offsets;
}

/**
 * Lowers every TTL (not the OPT record's) by `seconds`, never below 0, in
 * place. Returns false when the packet is malformed; records before the fault
 * have been changed (the cache only holds answers it has already read whole).
 */
export function ageTtls(packet: Uint8Array, seconds: number): boolean {
  return rewriteTtls(packet, TTL_AGE, seconds);
}

/** Lowers every TTL above `max` to `max`, in place (answers in a scheduled category must expire when the schedule changes). */
export function capTtls(packet: Uint8Array, max: number): boolean {
  return rewriteTtls(packet, TTL_CAP, max);
}

/** Sets every TTL to `ttl`, in place (stale answers are served with 30 s, RFC 8767 §4). */
export function setTtls(packet: Uint8Array, ttl: number): boolean {
  return rewriteTtls(packet, TTL_SET, ttl);
}

// ---------------------------------------------------------------------------
// EDNS

/**
 * Offset of the first OPT record (its owner byte) in the additional section;
 * -1 when there is none, -2 when the packet is malformed.
 */
export function findOpt(packet: Uint8Array): number {
  let found = -1;
  const end = walkRecords(packet, (section, start, fixed) => {
    if (section === SECTION.ADDITIONAL && u16(packet, fixed) === QTYPE.OPT) {
      found = start;
      return false;
    }
  });
  if (end < 0) return -2;
  if (found >= 0 && packet[found] !== 0) return -2; // the OPT owner must be the root (RFC 6891 §6.1.2)
  return found;
}

/** The RCODE with the OPT record's upper 8 bits (RFC 6891 §6.1.3), or -1 when malformed. */
export function fullRcode(packet: Uint8Array): number {
  if (packet.length < HEADER_LENGTH) return -1;
  const opt = findOpt(packet);
  if (opt === -2) return -1;
  return ((opt >= 0 ? packet[opt + 5] : 0) << 4) | (packet[3] & 0x0f);
}

/**
 * The SCOPE PREFIX-LENGTH of the answer's client-subnet option (RFC 7871
 * §6): -1 when there is no such option, -2 when the packet is malformed. A
 * scope above 0 means the answer is meant only for that subnet.
 */
export function clientSubnetScope(packet: Uint8Array): number {
  const opt = findOpt(packet);
  if (opt < 0) return opt;
  const rdata = opt + 11;
  const end = rdata + u16(packet, opt + 9);
  for (let o = rdata; o < end; ) {
    if (o + 4 > end) return -2;
    const code = u16(packet, o);
    const length = u16(packet, o + 2);
    if (o + 4 + length > end) return -2;
    if (code === EDNS_OPTION.CLIENT_SUBNET) return length >= 4 ? packet[o + 7] : -2;
    o += 4 + length;
  }
  return -1;
}

const utf8 = new TextEncoder();

/** An Extended DNS Error option (RFC 8914: code 15, INFO-CODE, then UTF-8 EXTRA-TEXT), ready to go inside an OPT record. */
export function edeOption(code: number, text = ''): Uint8Array {
  const extra = utf8.encode(text);
  const length = Math.min(2 + extra.length, 0xffff);
  const out = new Uint8Array(4 + length);
  put16(out, 0, EDNS_OPTION.EXTENDED_ERROR);
  put16(out, 2, length);
  put16(out, 4, code);
  out.set(extra.subarray(0, length - 2), 6);
  return out;
}

/** Writes an OPT record's fixed part (root owner, type, UDP size, extended RCODE, version 0, DO) at `at`; returns the offset of its RDATA. */
function writeOptHeader(out: Uint8Array, at: number, udpSize: number, extendedRcode: number, dnssecOk: boolean, rdlength: number): number {
  out[at] = 0;
  put16(out, at + 1, QTYPE.OPT);
  put16(out, at + 3, udpSize);
  out[at + 5] = extendedRcode & 0xff;
  out[at + 6] = 0; // version
  out[at + 7] = dnssecOk ? 0x80 : 0;
  out[at + 8] = 0;
  put16(out, at + 9, rdlength);
  return at + 11;
}

// ---------------------------------------------------------------------------
// Relaying an answer to the client

/** How an answer is sent to the client. */
export interface ClientAnswerOptions {
  /** `udp` limits the size (512 without EDNS, else the client's size up to `maxUdpSize`); the others (`stream` = any of them) only to 65535. */
  transport: 'udp' | 'tcp' | 'dot' | 'doh' | 'stream';
  /** Our EDNS UDP size: advertised in the OPT record we send and the largest UDP answer we send (default 1232). */
  maxUdpSize?: number;
  /** An Extended DNS Error to add (for an EDNS client only), e.g. Stale Answer when serving stale. */
  ede?: { code: number; text?: string } | null;
  /**
   * Rewrite `answer` in place when the result fits in it (no allocation).
   * Only for a buffer nobody else holds, such as a copy from the cache; an
   * upstream answer shared by several waiting clients must not be changed.
   */
  inPlace?: boolean;
}

/**
 * Hop-by-hop EDNS options that belong to our conversation with the upstream,
 * not to the client's with us: cookies (RFC 7873), TCP keepalive (RFC 7828),
 * padding (RFC 7830).
 */
const isHopByHop = (code: number) => code === EDNS_OPTION.COOKIE || code === EDNS_OPTION.TCP_KEEPALIVE || code === EDNS_OPTION.PADDING;

/**
 * Turns an upstream or cached answer into the answer for this client, copying
 * bytes rather than rebuilding records. `answer` is left unchanged unless
 * `options.inPlace` is set, when the result may be `answer` itself rewritten.
 * Returns `null` when the answer is malformed or is not for this question;
 * the caller then answers SERVFAIL.
 *
 * - the client's id, opcode, RD and CD; RA set; AD only when the client set DO
 *   or AD (RFC 6840 §5.8); AA and RCODE from the answer;
 * - the client's question bytes, so the letter case it sent comes back
 *   (RFC 4343, 0x20 randomisation); pointers to the question follow;
 * - an OPT record exactly when the client sent one (RFC 6891 §7), with our
 *   size, the client's DO, the upstream's extended RCODE and end-to-end
 *   options (client subnet only if the client sent one); without EDNS an
 *   extended RCODE cannot be said, so it becomes SERVFAIL;
 * - over UDP, when too large: additional records are dropped first (no TC,
 *   RFC 2181 §9); when the answer or authority section does not fit, TC is set
 *   and only the question (and OPT) is sent, so the client retries over TCP
 *   and never sees a partial RRset (RFC 7766 §5);
 * - records after the upstream's OPT (there should be none) are dropped.
 */
export function prepareForClient(answer: Uint8Array, clientPacket: Uint8Array, query: Query, options: ClientAnswerOptions): Uint8Array | null {
  const qEnd = query.questionEnd;
  if (answer.length < qEnd || clientPacket.length < qEnd || u16(answer, 4) !== 1) return null;
  // Same question: name bytes case-insensitively (length octets are ≤ 63, untouched by lowerByte), type and class exactly.
  for (let i = HEADER_LENGTH; i < qEnd - 4; i++) if (lowerByte(answer[i]) !== lowerByte(clientPacket[i])) return null;
  for (let i = qEnd - 4; i < qEnd; i++) if (answer[i] !== clientPacket[i]) return null;

  const ancount = u16(answer, 6);
  const nscount = u16(answer, 8);
  const arcount = u16(answer, 10);
  let offset = qEnd;
  for (let i = 0; i < ancount + nscount; i++) {
    offset = skipRecord(answer, offset);
    if (offset < 0) return null;
  }
  const nsEnd = offset;
  let arKept = 0;
  let optStart = -1;
  let optEnd = -1;
  for (let i = 0; i < arcount; i++) {
    const fixed = skipName(answer, offset);
    if (fixed < 0 || fixed + 10 > answer.length) return null;
    const end = fixed + 10 + u16(answer, fixed + 8);
    if (end > answer.length) return null;
    if (u16(answer, fixed) === QTYPE.OPT) {
      if (fixed !== offset + 1) return null; // owner not the root
      optStart = offset;
      optEnd = end;
      break; // whatever follows the OPT record is dropped
    }
    arKept++;
    offset = end;
  }
  const keptEnd = optStart >= 0 ? optStart : offset;

  const edns = query.edns;
  const extendedRcode = optStart >= 0 ? answer[optStart + 5] : 0;
  let rcode = answer[3] & 0x0f;
  if (!edns && extendedRcode !== 0) rcode = RCODE.SERVFAIL;
  const maxUdp = Math.max(512, Math.min(0xffff, options.maxUdpSize ?? DEFAULT_UDP_SIZE));

  // The OPT record we send: 11 bytes, the upstream's end-to-end options, and our EDE.
  let upstreamOptions = 0;
  if (edns && optStart >= 0) {
    for (let o = optStart + 11; o < optEnd; ) {
      if (o + 4 > optEnd) return null;
      const code = u16(answer, o);
      const length = u16(answer, o + 2);
      if (o + 4 + length > optEnd) return null;
      if (!isHopByHop(code) && (code !== EDNS_OPTION.CLIENT_SUBNET || edns.hasClientSubnet)) upstreamOptions += 4 + length;
      o += 4 + length;
    }
  }
  const ede = edns && options.ede ? rememberedEde(options.ede.code, options.ede.text ?? '') : null;
  const optLength = () => (edns ? 11 + upstreamOptions + (ede ? ede.length : 0) : 0);

  const limit = options.transport === 'udp' ? (edns ? Math.min(edns.udpSize, maxUdp) : 512) : 0xffff;
  let bodyEnd = keptEnd;
  let an = ancount;
  let ns = nscount;
  let ar = arKept;
  let truncated = (answer[2] & 0x02) !== 0;
  if (bodyEnd + optLength() > limit) {
    if (nsEnd + optLength() <= limit) {
      // Additional data may be left out without TC (RFC 2181 §9): keep the records that fit.
      let end = nsEnd;
      ar = 0;
      for (let i = 0; i < arKept; i++) {
        const next = skipRecord(answer, end);
        if (next + optLength() > limit) break;
        end = next;
        ar++;
      }
      bodyEnd = end;
    } else {
      truncated = true;
      bodyEnd = qEnd;
      an = ns = ar = 0;
      if (bodyEnd + optLength() > limit) upstreamOptions = 0; // never seen in practice: huge upstream options
    }
  }

  const total = bodyEnd + optLength();
  // Read what is needed from the answer's header before it may be overwritten in place.
  const flags1 = 0x80 | (clientPacket[2] & 0x79) | (answer[2] & 0x04) | (truncated ? 0x02 : 0);
  const adAllowed = (edns?.dnssecOk ?? false) || (clientPacket[3] & 0x20) !== 0;
  const flags2 = 0x80 | (adAllowed ? answer[3] & 0x20 : 0) | (clientPacket[3] & 0x10) | rcode;

  let out: Uint8Array;
  if (options.inPlace && total <= answer.length) {
    out = answer; // everything we keep is a prefix of the answer, so it can be rewritten in place
  } else {
    out = new Uint8Array(total);
    out.set(answer.subarray(0, bodyEnd));
  }
  if (edns) {
    // The new OPT starts at or before the old one, so copying its options forward never overwrites unread bytes.
    let o = writeOptHeader(out, bodyEnd, maxUdp, extendedRcode, edns.dnssecOk, optLength() - 11);
    if (upstreamOptions > 0) {
      for (let from = optStart + 11; from < optEnd; ) {
        const code = u16(answer, from);
        const length = 4 + u16(answer, from + 2);
        if (!isHopByHop(code) && (code !== EDNS_OPTION.CLIENT_SUBNET || edns.hasClientSubnet)) {
          if (out === answer) out.copyWithin(o, from, from + length);
          else out.set(answer.subarray(from, from + length), o);
          o += length;
        }
        from += length;
      }
    }
    if (ede) out.set(ede, o);
  }
  put16(out, 0, query.id);
  out[2] = flags1;
  out[3] = flags2;
  for (let i = HEADER_LENGTH; i < qEnd; i++) out[i] = clientPacket[i]; // a loop: a Buffer's subarray would make an object
  put16(out, 4, 1);
  put16(out, 6, an);
  put16(out, 8, ns);
  put16(out, 10, ar + (edns ? 1 : 0));
  return out === answer ? answer.subarray(0, total) : out;
}

// ---------------------------------------------------------------------------
// The query we send upstream

/** Options for the query sent upstream. */
export interface UpstreamQueryOptions {
  /** The UDP size we advertise upstream (default 1232). */
  udpSize?: number;
  /**
   * Forward the client's own client-subnet option. Only for clients that are
   * trusted forwarders (RFC 7871 §7.1.2); otherwise the option never leaves.
   */
  forwardClientSubnet?: boolean;
  /** Send this client subnet instead (RFC 7871 §6; the address is masked to the prefix). */
  clientSubnet?: { address: string; sourcePrefix: number } | null;
  /** Ask about another name and/or type than the client did (safe search resolves the safe host's addresses). */
  question?: { name: string; qtype?: number };
}

/** The client-subnet option (code, length and data) for an address and prefix. Throws on a bad address: it comes from configuration. */
export function clientSubnetOption(address: string, sourcePrefix: number): Uint8Array {
  const v4 = parseIpv4(address);
  const bytes = v4 ?? parseIpv6(address);
  if (!bytes) throw new Error(`client subnet: "${address}" is not an IP address`);
  const bits = bytes.length * 8;
  if (!Number.isInteger(sourcePrefix) || sourcePrefix < 0 || sourcePrefix > bits) throw new Error(`client subnet: prefix ${sourcePrefix} is not 0-${bits}`);
  const kept = Math.ceil(sourcePrefix / 8);
  const out = new Uint8Array(8 + kept);
  put16(out, 0, EDNS_OPTION.CLIENT_SUBNET);
  put16(out, 2, 4 + kept);
  put16(out, 4, v4 ? 1 : 2);
  out[6] = sourcePrefix;
  out[7] = 0; // scope: always 0 in queries
  out.set(bytes.subarray(0, kept), 8);
  if (sourcePrefix % 8) out[8 + kept - 1] &= 0xff << (8 - (sourcePrefix % 8)); // bits past the prefix must be zero
  return out;
}

/** The client's own client-subnet option bytes (code, length, data) from its OPT record, or null. */
function clientSubnetBytes(clientPacket: Uint8Array, query: Query): Uint8Array | null {
  const edns = query.edns;
  if (!edns?.hasClientSubnet) return null;
  const rdata = edns.offset + 11;
  const end = Math.min(clientPacket.length, rdata + u16(clientPacket, edns.offset + 9));
  for (let o = rdata; o + 4 <= end; ) {
    const length = u16(clientPacket, o + 2);
    if (o + 4 + length > end) return null;
    if (u16(clientPacket, o) === EDNS_OPTION.CLIENT_SUBNET) return clientPacket.subarray(o, o + 4 + length);
    o += 4 + length;
  }
  return null;
}

/**
 * The query we send upstream for a client's query: the same question, or
 * `options.question` (lower-cased, so cached answers are in one case), `id`, RD set, AD set
 * (RFC 6840 §5.7: ask for the AD bit), the client's CD and opcode, and our own
 * OPT record (our UDP size, the client's DO bit). No client-subnet option
 * unless `options` asks for one; no other client options are passed on.
 */
export function buildUpstreamQuery(clientPacket: Uint8Array, query: Query, id: number, options: UpstreamQueryOptions = {}): Uint8Array {
  const ecs = options.clientSubnet
    ? clientSubnetOption(options.clientSubnet.address, options.clientSubnet.sourcePrefix)
    : options.forwardClientSubnet
      ? clientSubnetBytes(clientPacket, query)
      : null;
  let question = clientPacket.subarray(HEADER_LENGTH, query.questionEnd);
  if (options.question) {
    const name = nameToWire(options.question.name);
    if (!name) throw new Error(`"${options.question.name}" is not a valid domain name`);
    question = new Uint8Array(name.length + 4);
    question.set(name);
    put16(question, name.length, options.question.qtype ?? query.qtype);
    put16(question, name.length + 2, query.qclass);
  }
  const qEnd = HEADER_LENGTH + question.length;
  const out = new Uint8Array(qEnd + 11 + (ecs ? ecs.length : 0));
  out.set(question, HEADER_LENGTH);
  for (let i = HEADER_LENGTH; i < qEnd - 4; i++) out[i] = lowerByte(out[i]);
  put16(out, 0, id);
  out[2] = (clientPacket[2] & 0x78) | 0x01;
  out[3] = 0x20 | (clientPacket[3] & 0x10);
  put16(out, 4, 1);
  put16(out, 6, 0);
  put16(out, 8, 0);
  put16(out, 10, 1);
  const rdata = writeOptHeader(out, qEnd, options.udpSize ?? DEFAULT_UDP_SIZE, 0, query.edns?.dnssecOk ?? false, ecs ? ecs.length : 0);
  if (ecs) out.set(ecs, rdata);
  return out;
}

// ---------------------------------------------------------------------------
// Names and addresses in an answer, for the policy to re-check

/** What an answer points at: names lower-case without the trailing dot, addresses in canonical text (RFC 5952 for IPv6). */
export interface AnswerTargets {
  names: string[];
  addresses: string[];
}

const SVCB_IPV4HINT = 4;
const SVCB_IPV6HINT = 6;

/**
 * The CNAME and DNAME targets and the A and AAAA addresses in the answer
 * section, so a name or address that lands in a blocked category blocks the
 * answer too (CNAME cloaking). SVCB/HTTPS target names and address hints
 * count as well: they too tell the client where to connect. `null` when the
 * answer is malformed.
 */
export function answerTargets(packet: Uint8Array): AnswerTargets | null {
  const names: string[] = [];
  const addresses: string[] = [];
  let bad = false;
  const end = walkRecords(packet, (section, _start, fixed, rdlength) => {
    if (section !== SECTION.ANSWER) return false;
    const type = u16(packet, fixed);
    const rdata = fixed + 10;
    if (type === QTYPE.CNAME || type === 39 /* DNAME */) {
      const name = readName(packet, rdata);
      if (name === null) return !(bad = true);
      names.push(name);
    } else if (type === QTYPE.A) {
      if (rdlength !== 4) return !(bad = true);
      addresses.push(formatIpv4(packet, rdata));
    } else if (type === QTYPE.AAAA) {
      if (rdlength !== 16) return !(bad = true);
      addresses.push(formatIpv6(packet, rdata));
    } else if (type === QTYPE.SVCB || type === QTYPE.HTTPS) {
      if (!svcbTargets(packet, rdata, rdata + rdlength, names, addresses)) return !(bad = true);
    }
  });
  return end < 0 || bad ? null : { names, addresses };
}

/** Adds an SVCB/HTTPS record's target name (RFC 9460 §2.2; "." means the owner) and ipv4hint/ipv6hint addresses. */
function svcbTargets(packet: Uint8Array, rdata: number, end: number, names: string[], addresses: string[]): boolean {
  if (rdata + 3 > end) return false;
  const afterTarget = skipName(packet, rdata + 2);
  if (afterTarget < 0 || afterTarget > end) return false;
  const target = readName(packet, rdata + 2);
  if (target === null) return false;
  if (target !== '') names.push(target);
  for (let o = afterTarget; o < end; ) {
    if (o + 4 > end) return false;
    const key = u16(packet, o);
    const length = u16(packet, o + 2);
    if (o + 4 + length > end) return false;
    if (key === SVCB_IPV4HINT && length % 4 === 0) for (let a = o + 4; a < o + 4 + length; a += 4) addresses.push(formatIpv4(packet, a));
    if (key === SVCB_IPV6HINT && length % 16 === 0) for (let a = o + 4; a < o + 4 + length; a += 16) addresses.push(formatIpv6(packet, a));
    o += 4 + length;
  }
  return true;
}

/** Dotted-quad text of the 4 bytes at `offset`. */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/**
 * Canonical text of the 16 bytes at `offset` (RFC 5952): lower-case hex
 * without leading zeros, the longest run of two or more zero groups (the
 * first on a tie) as `::`, and `::ffff:a.b.c.d` for IPv4-mapped addresses.
 */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  let mapped = true;
  for (let i = 0; i < 10; i++) if (bytes[offset + i] !== 0) mapped = false;
  if (mapped && bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff) return `::ffff:${formatIpv4(bytes, offset + 12)}`;
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (u16(bytes, offset + i * 2) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && u16(bytes, offset + j * 2) === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::';
      i += bestLength - 1;
      continue;
    }
    if (text.length > 0 && !text.endsWith(':')) text += ':';
    text += u16(bytes, offset + i * 2).toString(16);
  }
  return text;
}

/** The 16 bytes of an IPv6 address, ignoring a zone id (`fe80::1%eth0`, as sockets report link-local sources), or null. */
export function parseIpv6(text: string): Uint8Array | null {
  const zone = text.indexOf('%');
  return parseIpv6Literal(zone >= 0 ? text.slice(0, zone) : text);
}

// ---------------------------------------------------------------------------
// Answers we make up

/** Where a record's owner name comes from: a name to write, or the offset of a name already in the message (`QUESTION_NAME` for the question). */
export type Owner = string | number;

/** The fields of an SOA record (RFC 1035 §3.3.13). */
export interface SoaFields {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  /** Negative-caching TTL (RFC 2308 §4). */
  minimum: number;
}

/**
 * The SOA we put in the authority section of answers we make up (blocked
 * NXDOMAIN/NODATA): a short MINIMUM, so a block lifted by an exemption or a
 * schedule is not remembered by clients for long (RFC 2308 §5).
 */
export const SYNTHETIC_SOA: SoaFields = {
  mname: 'filter.schoolgate.invalid',
  rname: 'hostmaster.schoolgate.invalid',
  serial: 1,
  refresh: 1800,
  retry: 900,
  expire: 604800,
  minimum: 10,
};

/**
 * Builds an answer we make up, in one growing buffer: start from the client's
 * query (its id, question in its letter case, opcode, RD and CD; QR and RA
 * set; AD clear, since nothing made up is validated), add records in section
 * order, and `finish()`. An OPT record is added exactly when the client sent
 * one (with its DO bit and, if set, an Extended DNS Error). Misuse (records out
 * of section order, a bad name or address) throws: those are our own bugs or
 * configuration, never client input.
 */
export class ResponseBuilder {
  #buf: Uint8Array;
  #length: number;
  #section = 1;
  #counts = [1, 0, 0, 0];
  #rcode = 0;
  #edeCode = -1;
  #edeText = '';
  #dnssecOk: boolean;
  #hasEdns: boolean;
  #udpSize: number;
  #finished = false;
  /** Whether `#buf` is the shared scratch buffer (returned by `finish`). */
  #scratch: boolean;

  /** Starts an answer to `query` (parsed from `queryPacket`). */
  constructor(queryPacket: Uint8Array, query: Query, options: { authoritative?: boolean; udpSize?: number } = {}) {
    const qEnd = query.questionEnd;
    // Answers are built in one scratch buffer and copied out at their size: one small allocation per answer.
    this.#scratch = !scratchInUse;
    if (this.#scratch) scratchInUse = true;
    this.#buf = this.#scratch ? SCRATCH : new Uint8Array(qEnd + 256);
    for (let i = 0; i < qEnd; i++) this.#buf[i] = queryPacket[i];
    this.#length = qEnd;
    this.#buf[2] = 0x80 | (queryPacket[2] & 0x79) | (options.authoritative ? 0x04 : 0);
    this.#buf[3] = 0x80 | (queryPacket[3] & 0x10);
    this.#hasEdns = query.edns !== null;
    this.#dnssecOk = query.edns?.dnssecOk ?? false;
    this.#udpSize = options.udpSize ?? DEFAULT_UDP_SIZE;
  }

  /** Sets the RCODE; values above 15 need the client's EDNS (they become SERVFAIL without it). */
  setRcode(rcode: number): this {
    this.#rcode = rcode;
    return this;
  }

  /** Adds an Extended DNS Error (RFC 8914) to the OPT record, if the client sent one. */
  setExtendedError(code: number, text = ''): this {
    this.#edeCode = code;
    this.#edeText = text;
    return this;
  }

  /** Adds an A record. */
  addA(section: Section, owner: Owner, ttl: number, address: string): this {
    const bytes = remembered(addressBytes, address, parseIpv4);
    if (!bytes) this.#fail(`"${address}" is not an IPv4 address`);
    return this.addRecord(section, owner, QTYPE.A, ttl, bytes);
  }

  /** Adds an AAAA record. */
  addAaaa(section: Section, owner: Owner, ttl: number, address: string): this {
    const bytes = remembered(addressBytes, address, parseIpv6);
    if (!bytes || bytes.length !== 16) this.#fail(`"${address}" is not an IPv6 address`);
    return this.addRecord(section, owner, QTYPE.AAAA, ttl, bytes);
  }

  /** Adds a CNAME record; returns the offset of the target name, to use as the `Owner` of the records that follow it. */
  addCname(section: Section, owner: Owner, ttl: number, target: string): number {
    const rdlength = this.#startRecord(section, owner, QTYPE.CNAME, ttl);
    const at = this.#length;
    this.#writeName(target);
    this.#endRecord(rdlength);
    return at;
  }

  /** Adds an SOA record; the fields default to `SYNTHETIC_SOA`. */
  addSoa(section: Section, owner: Owner, ttl: number, fields: Partial<SoaFields> = {}): this {
    const rdlength = this.#startRecord(section, owner, QTYPE.SOA, ttl);
    this.#writeName(fields.mname ?? SYNTHETIC_SOA.mname);
    this.#writeName(fields.rname ?? SYNTHETIC_SOA.rname);
    this.#ensure(20);
    this.#putU32(fields.serial ?? SYNTHETIC_SOA.serial);
    this.#putU32(fields.refresh ?? SYNTHETIC_SOA.refresh);
    this.#putU32(fields.retry ?? SYNTHETIC_SOA.retry);
    this.#putU32(fields.expire ?? SYNTHETIC_SOA.expire);
    this.#putU32(fields.minimum ?? SYNTHETIC_SOA.minimum);
    this.#endRecord(rdlength);
    return this;
  }

  /** Adds a TXT record; each text is UTF-8, split into character-strings of at most 255 bytes. */
  addTxt(section: Section, owner: Owner, ttl: number, texts: string[]): this {
    const rdlength = this.#startRecord(section, owner, 16, ttl);
    for (const text of texts.length ? texts : ['']) {
      const bytes = utf8.encode(text);
      let from = 0;
      do {
        const chunk = bytes.subarray(from, from + 255);
        this.#ensure(1 + chunk.length);
        this.#buf[this.#length++] = chunk.length;
        this.#buf.set(chunk, this.#length);
        this.#length += chunk.length;
        from += 255;
      } while (from < bytes.length);
    }
    this.#endRecord(rdlength);
    return this;
  }

  /** Adds a record of any type with ready-made RDATA (class IN). */
  addRecord(section: Section, owner: Owner, type: number, ttl: number, rdata: Uint8Array): this {
    const rdlength = this.#startRecord(section, owner, type, ttl);
    this.#putBytes(rdata);
    this.#endRecord(rdlength);
    return this;
  }

  /** The finished message (the builder cannot be used again). */
  finish(): Uint8Array {
    if (this.#finished) throw new Error('ResponseBuilder.finish() called twice');
    let rcode = this.#rcode;
    if (this.#hasEdns) {
      const ede = this.#edeCode >= 0 ? rememberedEde(this.#edeCode, this.#edeText) : null;
      const options = ede ? ede.length : 0;
      this.#ensure(11 + options);
      this.#length = writeOptHeader(this.#buf, this.#length, this.#udpSize, rcode >> 4, this.#dnssecOk, options);
      if (ede) this.#putBytes(ede);
      this.#counts[3]++;
    } else if (rcode > 15) {
      rcode = RCODE.SERVFAIL;
    }
    this.#buf[3] = (this.#buf[3] & 0xf0) | (rcode & 0x0f);
    for (let i = 0; i < 4; i++) put16(this.#buf, 4 + i * 2, this.#counts[i]);
    this.#finished = true;
    if (!this.#scratch) return this.#buf.subarray(0, this.#length);
    scratchInUse = false;
    return this.#buf.slice(0, this.#length);
  }

  /**
   * Refuses a record (our bug or bad configuration, never client input). The
   * builder stays usable, on a buffer of its own: the shared one is let go,
   * so a builder abandoned after this cannot hold it.
   */
  #fail(message: string): never {
    if (this.#scratch) {
      this.#buf = this.#buf.slice(0, this.#length + 256);
      this.#scratch = false;
      scratchInUse = false;
    }
    throw new Error(message);
  }

  #putBytes(bytes: Uint8Array) {
    this.#ensure(bytes.length);
    const buf = this.#buf;
    let at = this.#length;
    for (let i = 0; i < bytes.length; i++) buf[at++] = bytes[i];
    this.#length = at;
  }

  #putU32(value: number) {
    writeTtl(this.#buf, this.#length, value >>> 0);
    this.#length += 4;
  }

  #ensure(extra: number) {
    if (this.#finished) throw new Error('ResponseBuilder used after finish()');
    if (this.#length + extra > 0xffff) this.#fail('answer would exceed 65535 bytes');
    if (this.#length + extra <= this.#buf.length) return;
    const next = new Uint8Array(Math.min(0xffff, Math.max(this.#buf.length * 2, this.#length + extra)));
    next.set(this.#buf.subarray(0, this.#length));
    this.#buf = next;
  }

  /** Writes owner, type, class IN and TTL; returns the offset of RDLENGTH. */
  #startRecord(section: Section, owner: Owner, type: number, ttl: number): number {
    if (section < this.#section) this.#fail('records must be added in section order: answer, authority, additional');
    this.#section = section;
    this.#counts[section]++;
    if (typeof owner === 'number') {
      if (owner < HEADER_LENGTH || owner >= this.#length || owner > 0x3fff) this.#fail(`no name at offset ${owner}`);
      this.#ensure(2);
      put16(this.#buf, this.#length, 0xc000 | owner);
      this.#length += 2;
    } else {
      this.#writeName(owner);
    }
    this.#ensure(10);
    put16(this.#buf, this.#length, type);
    put16(this.#buf, this.#length + 2, 1);
    writeTtl(this.#buf, this.#length + 4, Math.max(0, Math.min(0x7fffffff, Math.floor(ttl))));
    this.#length += 10;
    return this.#length - 2;
  }

  #endRecord(rdlengthAt: number) {
    put16(this.#buf, rdlengthAt, this.#length - rdlengthAt - 2);
  }

  /** Writes a name uncompressed; `\.`, `\\` and `\DDD` escapes are read as in master files. */
  #writeName(name: string) {
    const bytes = remembered(nameBytes, name, nameToWire);
    if (!bytes) this.#fail(`"${name}" is not a valid domain name`);
    this.#putBytes(bytes);
  }
}

/** The buffer answers are built in (one per thread; a builder made while another is unfinished gets its own). */
const SCRATCH = new Uint8Array(0xffff);
let scratchInUse = false;

/**
 * The wire forms of the few names, addresses and EDE texts made-up answers
 * use over and over (the block answer's address, the SOA's names, the block
 * reasons): made once instead of per answer. Bounded: cleared when full.
 * The arrays are shared, so they are only ever copied from.
 */
const REMEMBERED_MAX = 1024;
const nameBytes = new Map<string, Uint8Array | null>();
const addressBytes = new Map<string, Uint8Array | null>();
const edeBytes = new Map<string, Uint8Array>();

function remembered(table: Map<string, Uint8Array | null>, text: string, make: (text: string) => Uint8Array | null): Uint8Array | null {
  let bytes = table.get(text);
  if (bytes === undefined) {
    if (table.size >= REMEMBERED_MAX) table.clear();
    bytes = make(text);
    table.set(text, bytes);
  }
  return bytes;
}

function rememberedEde(code: number, text: string): Uint8Array {
  const key = `${code} ${text}`;
  let bytes = edeBytes.get(key);
  if (bytes === undefined) {
    if (edeBytes.size >= REMEMBERED_MAX) edeBytes.clear();
    bytes = edeOption(code, text);
    edeBytes.set(key, bytes);
  }
  return bytes;
}

/** The wire form of a text name (labels, root byte), or null when a label is empty or too long or the name exceeds 255 bytes. */
export function nameToWire(name: string): Uint8Array | null {
  if (name.endsWith('.') && !name.endsWith('\\.')) name = name.slice(0, -1);
  const out: number[] = [];
  let label: number[] = [];
  const flush = () => {
    if (label.length === 0 || label.length > 63) return false;
    out.push(label.length, ...label);
    label = [];
    return true;
  };
  if (name !== '') {
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c === 0x2e) {
        if (!flush()) return null;
      } else if (c === 0x5c) {
        const digits = name.slice(i + 1, i + 4);
        if (/^\d{3}$/.test(digits) && Number(digits) <= 255) {
          label.push(Number(digits));
          i += 3;
        } else if (i + 1 < name.length) {
          label.push(name.charCodeAt(++i) & 0xff);
        } else return null;
      } else if (c > 0x7f) {
        return null; // internationalised names must already be in A-label (punycode) form
      } else {
        label.push(c);
      }
    }
    if (!flush()) return null;
  }
  out.push(0);
  return out.length > 255 ? null : Uint8Array.from(out);
}
