/**
 * Downloading a list from its URL into a file, for the sync to check.
 *
 * A download asks only for what changed (conditional GET with the ETag and
 * Last-Modified of the copy in service), gives up on a server that does not
 * answer or stops sending, and stops reading at a size limit, so a URL that
 * never answers or a 2 GB file cannot stall or fill the machine. Credentials
 * travel as request headers and never appear in a result, a reason or a log:
 * URLs are shown through `displayUrl`, which drops user info and query.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** What to fetch and where to put it. */
export interface DownloadRequest {
  url: string;
  /** Request headers, credentials included; never shown anywhere. */
  headers?: Record<string, string>;
  /** The copy in service's validators, for a conditional GET. */
  etag?: string | null;
  lastModified?: string | null;
  /** The file the body is written to (removed again when the download fails). */
  into: string;
  /** Largest body read, in bytes. */
  maxBytes: number;
  /** Time allowed for the server to start answering. */
  timeoutMs?: number;
  /** Time allowed without a byte while the body arrives. */
  idleMs?: number;
}

export type DownloadResult =
  | { status: 'downloaded'; file: string; bytes: number; etag: string | null; lastModified: string | null }
  | { status: 'not-modified' }
  | { status: 'failed'; reason: string };

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_IDLE_MS = 60_000;

/** A URL as it may be shown: no user name or password, no query (feeds put keys there). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(not a URL)';
  }
}

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(bytes < 1048576 ? 2 : 0)} MiB`;

/** Why a fetch failed, in words an admin can act on (the error's cause holds the socket error). */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (error as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'the server refused the connection';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the server’s name does not resolve';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'the connection was cut';
  if (code && /CERT|SSL|TLS/.test(code)) return `the server’s certificate was not accepted (${code})`;
  return cause?.message ?? (error as Error).message;
}

const MAX_REDIRECTS = 5;

/**
 * Fetches with redirects followed by hand, so that a redirect to another
 * origin never carries the caller's headers (credentials in custom headers
 * included, which fetch itself would pass on).
 */
async function fetchFollowing(url: string, headers: Headers, signal: AbortSignal): Promise<Response> {
  let current = new URL(url);
  let sent = headers;
  for (let hop = 0; ; hop++) {
    const response = await fetch(current, { headers: sent, signal, redirect: 'manual' });
    const location = response.headers.get('location');
    if (response.status < 300 || response.status > 399 || response.status === 304 || !location) return response;
    await response.body?.cancel();
    if (hop === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, current);
    if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new Error(`redirected to a ${next.protocol} URL`);
    if (next.origin !== current.origin) {
      sent = new Headers();
      for (const name of ['if-none-match', 'if-modified-since']) if (headers.has(name)) sent.set(name, headers.get(name)!);
    }
    current = next;
  }
}

/** Fetches `request.url` into `request.into`; never throws. */
export async function downloadList(request: DownloadRequest): Promise<DownloadResult> {
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const idleMs = request.idleMs ?? DEFAULT_IDLE_MS;
  const controller = new AbortController();
  let why = '';
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number, reason: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      why = reason;
      controller.abort();
    }, ms);
  };
  const headers = new Headers(request.headers);
  if (request.etag) headers.set('if-none-match', request.etag);
  if (request.lastModified) headers.set('if-modified-since', request.lastModified);
  arm(timeoutMs, `no answer within ${timeoutMs / 1000} s`);
  try {
    let response: Response;
    try {
      response = await fetchFollowing(request.url, headers, controller.signal);
    } catch (error) {
      return { status: 'failed', reason: why || networkReason(error) };
    }
    if (response.status === 304) {
      await response.body?.cancel();
      return { status: 'not-modified' };
    }
    if (!response.ok) {
      await response.body?.cancel();
      const hint = response.status === 401 || response.status === 403 ? ' (check the credentials)' : response.status === 404 ? ' (check the URL)' : '';
      return { status: 'failed', reason: `the server answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}${hint}` };
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > request.maxBytes) {
      await response.body?.cancel();
      return { status: 'failed', reason: `the file is ${mib(declared)}; the most read is ${mib(request.maxBytes)}` };
    }
    if (!response.body) return { status: 'failed', reason: 'the server sent no body' };
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes > request.maxBytes) {
          done(new Error(`the file is larger than ${mib(request.maxBytes)}, the most read`));
          return;
        }
        arm(idleMs, `the server stopped sending for ${idleMs / 1000} s after ${bytes} bytes`);
        done(null, chunk);
      },
    });
    arm(idleMs, `the server sent no data for ${idleMs / 1000} s`);
    try {
      await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), counter, createWriteStream(request.into));
    } catch (error) {
      await rm(request.into, { force: true });
      const message = (error as Error).message;
      return { status: 'failed', reason: why || (message === 'terminated' ? `the download was cut off after ${bytes} bytes (truncated)` : message || networkReason(error)) };
    }
    return { status: 'downloaded', file: request.into, bytes, etag: response.headers.get('etag'), lastModified: response.headers.get('last-modified') };
  } finally {
    clearTimeout(timer);
  }
}
