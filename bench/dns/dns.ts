/**
 * Just enough DNS wire format (RFC 1035 §4) for the bench's own small servers
 * and probes: build an A query, read the question, read a reply's rcode and A
 * addresses. The bench keeps its own copy on purpose: it measures Schoolgate's
 * filter from outside and must not share code with the thing it measures.
 */

/** Record type A. */
export const TYPE_A = 1;
/** Class IN. */
export const CLASS_IN = 1;
/** Response codes the bench looks at. */
export const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

/** The address the bench's fake upstream gives every allowed A query (TEST-NET-1). */
export const UPSTREAM_ANSWER = '192.0.2.1';

const HEADER = 12;

/** Builds a recursive query for one name (no trailing dot needed). */
export function encodeQuery(id: number, name: string, type = TYPE_A): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter((l) => l.length > 0);
  const nameLength = labels.reduce((n, l) => n + 1 + Buffer.byteLength(l), 1);
  const packet = Buffer.alloc(HEADER + nameLength + 4);
  packet.writeUInt16BE(id & 0xffff, 0);
  packet[2] = 0x01; // RD: ask for recursion, as a stub resolver would
  packet.writeUInt16BE(1, 4); // QDCOUNT
  let offset = HEADER;
  for (const label of labels) {
    packet[offset] = Buffer.byteLength(label);
    offset += 1 + packet.write(label, offset + 1, 'latin1');
  }
  packet[offset++] = 0;
  packet.writeUInt16BE(type, offset);
  packet.writeUInt16BE(CLASS_IN, offset + 2);
  return packet;
}

/** The first question of a message: its lower-cased name, type and where it ends. */
export interface Question {
  name: string;
  type: number;
  /** Offset just past the question's class field. */
  end: number;
}

/** Reads the question at offset 12; undefined when the packet is too short or uses compression there. */
export function readQuestion(packet: Buffer): Question | undefined {
  if (packet.length < HEADER + 5) return undefined;
  const labels: string[] = [];
  let offset = HEADER;
  for (;;) {
    if (offset >= packet.length) return undefined;
    const length = packet[offset];
    if (length === 0) break;
    if (length > 63) return undefined; // a pointer in a question is legal but never sent by our clients
    labels.push(packet.toString('latin1', offset + 1, offset + 1 + length).toLowerCase());
    offset += 1 + length;
  }
  offset += 1;
  if (offset + 4 > packet.length) return undefined;
  return { name: labels.join('.'), type: packet.readUInt16BE(offset), end: offset + 4 };
}

/** What the bench needs to know about a reply. */
export interface Reply {
  id: number;
  rcode: number;
  name: string;
  /** Every A record in the answer section, dotted quads. */
  addresses: string[];
}

/** Skips a possibly compressed name; returns the offset after it, or -1 when it runs off the end. */
function skipName(packet: Buffer, offset: number): number {
  while (offset < packet.length) {
    const length = packet[offset];
    if (length === 0) return offset + 1;
    if ((length & 0xc0) === 0xc0) return offset + 2; // a pointer ends the name
    offset += 1 + length;
  }
  return -1;
}

/** Reads a reply; undefined for anything that is not a well-formed response. */
export function parseReply(packet: Buffer): Reply | undefined {
  if (packet.length < HEADER || (packet[2] & 0x80) === 0) return undefined;
  const question = readQuestion(packet);
  if (!question) return undefined;
  const answers = packet.readUInt16BE(6);
  const addresses: string[] = [];
  let offset = question.end;
  for (let i = 0; i < answers; i++) {
    offset = skipName(packet, offset);
    if (offset < 0 || offset + 10 > packet.length) return undefined;
    const type = packet.readUInt16BE(offset);
    const length = packet.readUInt16BE(offset + 8);
    offset += 10;
    if (offset + length > packet.length) return undefined;
    if (type === TYPE_A && length === 4) addresses.push(`${packet[offset]}.${packet[offset + 1]}.${packet[offset + 2]}.${packet[offset + 3]}`);
    offset += length;
  }
  return { id: packet.readUInt16BE(0), rcode: packet[3] & 0x0f, name: question.name, addresses };
}

/**
 * Whether a reply is a blocking answer: NXDOMAIN (dnsmasq `address=/d/`, unbound
 * `always_nxdomain`) or NOERROR whose only A records are 0.0.0.0 (the "null IP"
 * answer Schoolgate may give).
 */
export function isBlockedAnswer(reply: Reply): boolean {
  if (reply.rcode === RCODE.NXDOMAIN) return true;
  return reply.rcode === RCODE.NOERROR && reply.addresses.length > 0 && reply.addresses.every((a) => a === '0.0.0.0');
}
