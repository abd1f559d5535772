/**
 * DNS-over-HTTPS (RFC 8484) on the web server: GET with `?dns=` (base64url)
 * and POST with an `application/dns-message` body, at `/dns-query` (the
 * client is known by its address) and `/dns-query/{token}` (a device or
 * person token, or a ChromeOS identifier hash). The query is answered by a
 * DNS worker, never on the web server's thread. Tokens never reach a log.
 */
import { z } from 'zod';
import type { App } from '../http/server.ts';
import type { FilterEngine } from './engine.ts';
import { RCODE } from './wire.ts';
import { minTtl } from './message.ts';

const MAX_MESSAGE = 65_535;
const DNS_MESSAGE = 'application/dns-message';

/** Base64url without padding (RFC 8484 §4.1), strictly: anything else is a bad request. */
function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  return Buffer.from(text, 'base64url');
}

/** `engine()` is null while the DNS filter is not running (then DoH answers 503). */
export function dohRoutes(engine: () => FilterEngine | null) {
  return (app: App) => {
    app.addContentTypeParser(DNS_MESSAGE, { parseAs: 'buffer', bodyLimit: MAX_MESSAGE }, (_request, body, done) => done(null, body));

    const answer = async (request: { ip: string }, reply: any, packet: Uint8Array, token: string | null) => {
      if (packet.length < 12) return reply.status(400).send({ error: 'bad_request', message: 'The DNS message is shorter than a DNS header.' });
      const running = engine();
      if (!running) return reply.status(503).send({ error: 'unavailable', message: 'The DNS filter is not running.' });
      const result = await running.resolve(packet, { address: request.ip, token, transport: 'doh' });
      if (!result) return reply.status(400).send({ error: 'bad_request', message: 'The DNS message could not be read.' });
      // RFC 8484 §5.1: HTTP caching no longer than the answer's smallest TTL; errors not at all.
      const rcode = result[3] & 0x0f;
      const maxAge = rcode === RCODE.NOERROR || rcode === RCODE.NXDOMAIN ? minTtl(result) : 0;
      return reply
        .header('content-type', DNS_MESSAGE)
        .header('cache-control', maxAge > 0 ? `max-age=${maxAge}` : 'no-store')
        .send(Buffer.from(result.buffer, result.byteOffset, result.length));
    };

    for (const url of ['/dns-query', '/dns-query/:token'] as const) {
      const params = url.endsWith(':token') ? z.object({ token: z.string().min(1).max(128) }) : z.object({});
      const summary = (method: string) => `DNS-over-HTTPS query (${method}) ${url.endsWith(':token') ? 'for a device or person token' : 'from a school network'}`;
      app.get(
        url,
        {
          config: { access: 'open' },
          schema: {
            tags: ['dns'],
            summary: summary('GET'),
            params,
            querystring: z.object({ dns: z.string().min(1).max(Math.ceil((MAX_MESSAGE * 4) / 3)) }),
          },
        },
        async (request, reply) => {
          const packet = fromBase64Url(request.query.dns);
          if (!packet) return reply.status(400).send({ error: 'bad_request', message: 'The dns parameter is not base64url (RFC 8484 §4.1).' });
          return answer(request, reply, packet, (request.params as { token?: string }).token ?? null);
        },
      );
      app.post(
        url,
        {
          config: { access: 'open' },
          schema: {
            tags: ['dns'],
            summary: summary('POST'),
            params,
          },
        },
        async (request, reply) => {
          if (request.headers['content-type'] !== DNS_MESSAGE || !Buffer.isBuffer(request.body)) {
            return reply.status(415).send({ error: 'unsupported_media_type', message: `Send the query as ${DNS_MESSAGE}.` });
          }
          return answer(request, reply, request.body, (request.params as { token?: string }).token ?? null);
        },
      );
    }
  };
}
