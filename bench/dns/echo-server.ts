/**
 * The ceiling for any DNS server written for Node on this machine: one UDP
 * socket, no parsing, no lookup. Each query comes back as itself with QR and
 * RA set and rcode NXDOMAIN, so dnsperf pairs it with its query (same id and
 * question) and the start-up probe sees a "blocked" answer.
 *
 * Usage: node bench/dns/echo-server.ts PORT
 */
import dgram from 'node:dgram';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) throw new Error('usage: echo-server.ts PORT');

const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
socket.on('message', (message, from) => {
  if (message.length < 12 || (message[2] & 0x80) !== 0) return; // ignore anything that is already a reply
  message[2] |= 0x80; // QR
  message[3] = 0x80 | 3; // RA, NXDOMAIN
  socket.send(message, from.port, from.address);
});
socket.bind(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
