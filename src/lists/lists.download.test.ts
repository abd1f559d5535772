/**
 * The downloader against a real local HTTP server: conditional GET, the
 * answers it refuses (HTTP errors, too large, truncated, silent servers), and
 * credentials that never show in what it returns.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { servesWithEtag, startListServer } from '../../test/support/list-server.ts';
import { tempDirs } from '../../test/support/temp.ts';
import { displayUrl, downloadList } from './lists.download.ts';

const tempDir = tempDirs('download');

describe('downloading a list', async () => {
  const server = await startListServer({
    '/list.txt': servesWithEtag('a.example\nb.example\n', '"v1"'),
    '/big': (_q, r) => r.writeHead(200, { 'content-length': String(10 << 20) }).end(),
    '/chunked-big': (_q, r) => {
      r.writeHead(200, { 'content-type': 'text/plain' });
      r.write(Buffer.alloc(600_000, 'a'));
      r.end(Buffer.alloc(600_000, 'a'));
    },
    '/truncated': (request, r) => {
      r.writeHead(200, { 'content-length': '1000' });
      r.write('c.example\n');
      setTimeout(() => request.socket.destroy(), 20);
    },
    '/silent': () => {}, // never answers
    '/stalls': (_q, r) => {
      r.writeHead(200, { 'content-type': 'text/plain' });
      r.write('d.example\n'); // then nothing more
    },
    '/private': (request, r) => {
      if (request.headers.authorization !== `Basic ${Buffer.from('school:s3cret').toString('base64')}`) r.writeHead(401, { 'www-authenticate': 'Basic' }).end();
      else r.writeHead(200).end('e.example\n');
    },
  });
  after(() => server.close());
  const into = () => path.join(tempDir(), 'list.download');

  it('downloads a list, then asks with its ETag and is told nothing changed', async () => {
    const file = into();
    const first = await downloadList({ url: server.url('/list.txt'), into: file, maxBytes: 1 << 20 });
    assert.equal(first.status, 'downloaded');
    assert.equal(readFileSync(file, 'utf8'), 'a.example\nb.example\n');
    assert.equal(first.status === 'downloaded' && first.etag, '"v1"');
    const second = await downloadList({ url: server.url('/list.txt'), into: into(), maxBytes: 1 << 20, etag: '"v1"' });
    assert.deepEqual(second, { status: 'not-modified' });
    assert.equal(server.seen.at(-1)!.headers['if-none-match'], '"v1"');
  });

  it('says which HTTP status came back, with a hint for credentials and missing files', async () => {
    const missing = await downloadList({ url: server.url('/gone'), into: into(), maxBytes: 1 << 20 });
    assert.deepEqual(missing, { status: 'failed', reason: 'the server answered HTTP 404 Not Found (check the URL)' });
    const refused = await downloadList({ url: server.url('/private'), into: into(), maxBytes: 1 << 20 });
    assert.match(refused.status === 'failed' ? refused.reason : '', /HTTP 401 Unauthorized \(check the credentials\)/);
    const file = into();
    const allowed = await downloadList({ url: server.url('/private'), into: file, maxBytes: 1 << 20, headers: { authorization: `Basic ${Buffer.from('school:s3cret').toString('base64')}` } });
    assert.equal(allowed.status, 'downloaded');
    assert.equal(readFileSync(file, 'utf8'), 'e.example\n');
  });

  it('refuses a file over the size limit, whether it says its length or not, and leaves no file', async () => {
    const declared = await downloadList({ url: server.url('/big'), into: into(), maxBytes: 1 << 20 });
    assert.deepEqual(declared, { status: 'failed', reason: 'the file is 10 MiB; the most read is 1 MiB' });
    const file = into();
    const streamed = await downloadList({ url: server.url('/chunked-big'), into: file, maxBytes: 1 << 20 });
    assert.deepEqual(streamed, { status: 'failed', reason: 'the file is larger than 1 MiB, the most read' });
    assert.equal(existsSync(file), false);
  });

  it('reports a truncated download, a server that never answers and one that stops sending', async () => {
    const truncated = await downloadList({ url: server.url('/truncated'), into: into(), maxBytes: 1 << 20 });
    assert.match(truncated.status === 'failed' ? truncated.reason : '', /cut off after 10 bytes \(truncated\)/);
    const silent = await downloadList({ url: server.url('/silent'), into: into(), maxBytes: 1 << 20, timeoutMs: 300 });
    assert.deepEqual(silent, { status: 'failed', reason: 'no answer within 0.3 s' });
    const stalls = await downloadList({ url: server.url('/stalls'), into: into(), maxBytes: 1 << 20, idleMs: 300 });
    assert.deepEqual(stalls, { status: 'failed', reason: 'the server stopped sending for 0.3 s after 10 bytes' });
  });

  it('follows redirects, but never takes credentials to another origin', async () => {
    const other = await startListServer({ '/moved.txt': (_q, r) => r.end('f.example\n') });
    try {
      server.on('/old', (_q, r) => r.writeHead(302, { location: '/list.txt' }).end());
      server.on('/elsewhere', (_q, r) => r.writeHead(301, { location: other.url('/moved.txt') }).end());
      const same = await downloadList({ url: server.url('/old'), into: into(), maxBytes: 1 << 20, headers: { 'x-api-key': 'k1' } });
      assert.equal(same.status, 'downloaded');
      assert.equal(server.seen.at(-1)!.headers['x-api-key'], 'k1', 'same origin: the key goes along');
      const file = into();
      const moved = await downloadList({ url: server.url('/elsewhere'), into: file, maxBytes: 1 << 20, headers: { 'x-api-key': 'k1', authorization: 'Bearer t' } });
      assert.equal(moved.status, 'downloaded');
      assert.equal(readFileSync(file, 'utf8'), 'f.example\n');
      assert.equal(other.seen[0].headers['x-api-key'], undefined);
      assert.equal(other.seen[0].headers.authorization, undefined);
      server.on('/loop', (_q, r) => r.writeHead(302, { location: '/loop' }).end());
      assert.deepEqual(await downloadList({ url: server.url('/loop'), into: into(), maxBytes: 1 << 20 }), { status: 'failed', reason: 'more than 5 redirects' });
    } finally {
      await other.close();
    }
  });

  it('reports a refused connection', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const refused = await downloadList({ url: `http://127.0.0.1:${port}/x`, into: into(), maxBytes: 1 << 20 });
    assert.deepEqual(refused, { status: 'failed', reason: 'the server refused the connection' });
  });

  it('never shows user info or the query of a URL', () => {
    assert.equal(displayUrl('https://user:pw@feeds.example.org/list.txt?key=abc'), 'https://feeds.example.org/list.txt?…');
    assert.equal(displayUrl('not a url'), '(not a URL)');
  });
});
