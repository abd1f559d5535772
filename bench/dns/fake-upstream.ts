/**
 * The upstream resolver every peer forwards allowed names to. It answers at
 * once, so the bench measures the filter and not the internet:
 *   A     -> one record, 192.0.2.1 (TEST-NET-1), TTL 300
 *   other -> NOERROR with an empty answer section, so "no data"
 * It listens on 127.0.0.1 only and replies only to loopback senders.
 *
 * Usage: node bench/dns/fake-upstream.ts PORT
 */
import dgram from 'node:dgram';
import { readQuestion, TYPE_A, UPSTREAM_ANSWER } from './dns.ts';

const ADDRESS = UPSTREAM_ANSWER.split('.').map(Number);
const TTL = 300;

function answer(query: Buffer): Buffer | undefined {
  if (query.length < 12 || (query[2] & 0x80) !== 0) return undefined; // not a query
  const question = readQuestion(query);
  if (!question) return undefined;
  const isA = question.type === TYPE_A;
  // Header + the question as asked (+ one A record that points back at the question name).
  const reply = Buffer.alloc(question.end + (isA ? 16 : 0));
  query.copy(reply, 0, 0, question.end);
  reply[2] = 0x80 | 0x04 | (query[2] & 0x01); // QR, AA, keep RD
  reply[3] = 0x80; // RA, NOERROR
  reply.writeUInt16BE(1, 4);
  reply.writeUInt16BE(isA ? 1 : 0, 6);
  reply.writeUInt32BE(0, 8); // no authority, no additional (drops the sender's EDNS record)
  if (isA) {
    let at = question.end;
    reply.writeUInt16BE(0xc00c, at); // name: pointer to offset 12
    reply.writeUInt16BE(TYPE_A, at + 2);
    reply.writeUInt16BE(1, at + 4); // IN
    reply.writeUInt32BE(TTL, at + 6);
    reply.writeUInt16BE(4, at + 10);
    at += 12;
    for (const octet of ADDRESS) reply[at++] = octet;
  }
  return reply;
}

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) throw new Error('usage: fake-upstream.ts PORT');
const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
let answered = 0;
socket.on('message', (message, from) => {
  if (!from.address.startsWith('127.')) return;
  const reply = answer(message);
  if (!reply) return;
  answered++;
  socket.send(reply, from.port, from.address);
});
socket.bind(port, '127.0.0.1', () => console.log(`fake upstream on 127.0.0.1:${port}, pid ${process.pid}`));
const stop = () => {
  console.log(`fake upstream answered ${answered} queries`);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
