/**
 * A local HTTP server for downloader tests: each path answers with the
 * handler given for it, and every request is recorded (method, path,
 * headers), so a test can check credentials and conditional GETs. Loopback only.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server saw. */
export interface SeenRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
}

export type ListHandler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

export interface ListServer {
  url(path: string): string;
  seen: SeenRequest[];
  /** Sets (or replaces) what a path answers. */
  on(path: string, handler: ListHandler): void;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1 with a random port. */
export async function startListServer(routes: Record<string, ListHandler> = {}): Promise<ListServer> {
  const handlers = new Map(Object.entries(routes));
  const seen: SeenRequest[] = [];
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    seen.push({ path, headers: request.headers });
    const handler = handlers.get(path);
    if (handler) handler(request, response);
    else response.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not found</body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    seen,
    on: (path, handler) => void handlers.set(path, handler),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A handler that serves `body` with an ETag and answers 304 to a matching If-None-Match. */
export function servesWithEtag(body: string | Buffer, etag: string, type = 'text/plain'): ListHandler {
  return (request, response) => {
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304, { etag }).end();
      return;
    }
    response.writeHead(200, { 'content-type': type, etag, 'content-length': Buffer.byteLength(body) }).end(body);
  };
}
