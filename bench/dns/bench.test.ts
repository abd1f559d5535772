/**
 * Tests for the bench's own parts (not run by `npm test`, which covers src/ and
 * test/): node --test bench/dns/bench.test.ts
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ensureData } from './data.ts';
import { encodeQuery, isBlockedAnswer, parseReply, readQuestion, UPSTREAM_ANSWER } from './dns.ts';
import { parseDnsperfOutput } from './dnsperf.ts';
import { catalogFromLog } from './peers.ts';
import { checkAnswers } from './probe.ts';
import { targetRatios, type PeerSummary } from './report.ts';

/** A reply to `query` with the given rcode and A records, the answer names compressed as servers send them. */
function reply(query: Buffer, rcode: number, addresses: string[]): Buffer {
  const question = readQuestion(query)!;
  const records = addresses.map((a) => Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...a.split('.').map(Number)]));
  const packet = Buffer.concat([query.subarray(0, question.end), ...records]);
  packet[2] |= 0x80;
  packet[3] = 0x80 | rcode;
  packet.writeUInt16BE(addresses.length, 6);
  return packet;
}

describe('dns wire helpers', () => {
  it('reads back the question it wrote, lower-cased', () => {
    const query = encodeQuery(7, 'WWW.Example.co.uk');
    assert.deepEqual({ ...readQuestion(query), end: undefined }, { name: 'www.example.co.uk', type: 1, end: undefined });
    assert.equal(parseReply(query), undefined, 'a query is not a reply');
  });

  it('tells blocking answers from resolved ones', () => {
    const query = encodeQuery(9, 'ads.example.com');
    const nx = parseReply(reply(query, 3, []))!;
    assert.equal(nx.id, 9);
    assert.equal(isBlockedAnswer(nx), true);
    assert.equal(isBlockedAnswer(parseReply(reply(query, 0, ['0.0.0.0']))!), true);
    const resolved = parseReply(reply(query, 0, [UPSTREAM_ANSWER]))!;
    assert.deepEqual(resolved.addresses, [UPSTREAM_ANSWER]);
    assert.equal(isBlockedAnswer(resolved), false);
    assert.equal(isBlockedAnswer(parseReply(reply(query, 0, []))!), false, 'no data is not a block');
    assert.equal(isBlockedAnswer(parseReply(reply(query, 2, []))!), false, 'SERVFAIL is not a block');
  });
});

describe('dnsperf output', () => {
  const output = [
    '> NOERROR www.a.com A 0.000100',
    ...Array.from({ length: 97 }, (_, i) => `> NXDOMAIN b${i}.com A 0.000200`),
    '> NOERROR c.com A 0.003000',
    'Statistics:',
    '  Queries sent:         100',
    '  Queries completed:    99 (99.00%)',
    '  Queries lost:         1 (1.00%)',
    '  Response codes:       NOERROR 2 (2.02%), NXDOMAIN 97 (97.98%)',
    '  Run time (s):         1.000100',
    '  Queries per second:   98.990101',
    '  Average Latency (s):  0.000227 (min 0.000100, max 0.003000)',
  ].join('\n');

  it('reads the statistics and the latency percentiles, a lost query counting as the slowest', () => {
    const r = parseDnsperfOutput(output);
    assert.equal(r.sent, 100);
    assert.equal(r.lost, 1);
    assert.equal(r.qps, 99);
    assert.deepEqual(r.rcodes, { NOERROR: 2, NXDOMAIN: 97 });
    assert.equal(r.p50Ms, 0.2);
    assert.equal(r.p99Ms, 3);
    assert.equal(r.p999Ms, Infinity);
  });

  it('gives no percentiles without per-query lines', () => {
    assert.equal(parseDnsperfOutput(output.replace(/^>.*\n/gm, '')).p99Ms, undefined);
  });
});

describe("Schoolgate's catalog line", () => {
  it('is read from a plain or a JSON log line, the last one winning', () => {
    assert.deepEqual(catalogFromLog('x\ncatalog: 1000000 names, 12.1 bytes/name\n'), { names: 1_000_000, bytesPerName: 12.1 });
    assert.deepEqual(catalogFromLog('{"level":30,"msg":"catalog: 20,000 names, 15 bytes per name"}\ncatalog: 3 names, 9 bytes/name'), { names: 3, bytesPerName: 9 });
    assert.equal(catalogFromLog('listening on 127.0.0.1:5353'), null);
  });
});

describe('targets', () => {
  const peer = (id: PeerSummary['id'], fields: Partial<PeerSummary>): PeerSummary => ({ id, label: id, rounds: 1, errors: [], ...fields });
  const verdicts = (summaries: PeerSummary[]) => Object.fromEntries(targetRatios(summaries).map((r) => [r.what.split(',')[0] + ' ' + r.target, r.verdict]));

  it('marks each ratio met or missed, and says when a number is missing', () => {
    const v = verdicts([
      peer('echo', { qps: 100_000 }),
      peer('dnsmasq', { qps: 10_000, p99Ms: 2, rssLoadedKb: 100_000, startupMs: 1500 }),
      peer('unbound', { qps: 80_000, rssLoadedKb: 300_000, startupMs: 5000 }),
      peer('schoolgate', { qps: 75_000, p99Ms: 1, rssLoadedKb: 99_000, startupMs: 400, compileStartMs: 3000, catalog: null }),
    ]);
    assert.equal(v['closed-loop QPS ≥ 1'], 'missed');
    assert.equal(v['closed-loop QPS ≥ 7'], 'met');
    assert.equal(v['closed-loop QPS no target'], 'info');
    assert.equal(v['p99 latency at 5 ≤ 1'], 'met');
    assert.equal(v['RSS after load ≤ 1'], 'met');
    assert.equal(v['RSS after load ≤ 0.25'], 'missed');
    assert.equal(v['start-up from the compiled catalog < 0.33'], 'met');
    assert.equal(v["catalog bytes per name in memory (from Schoolgate's log) ≤ 16"], 'not measured');
  });

  it('counts lost queries at the fixed rate as a missed p99', () => {
    const ratios = targetRatios([peer('dnsmasq', { p99Ms: 2 }), peer('schoolgate', { p99Ms: Infinity })]);
    const p99 = ratios.find((r) => r.what.startsWith('p99'))!;
    assert.equal(p99.verdict, 'missed');
    assert.equal(p99.shown, 'queries lost');
  });
});

describe('generated data', () => {
  const settings = { names: 2000, allowed: 200, queries: 1000, seed: 7 };

  it('is the same for the same seed, and blocked and allowed names are what they claim', () => {
    const dirs = [fs.mkdtempSync(path.join(os.tmpdir(), 'bench-test-')), fs.mkdtempSync(path.join(os.tmpdir(), 'bench-test-'))];
    try {
      const [a, b] = dirs.map((d) => ensureData(d, settings));
      for (const file of ['blocklist.txt', 'dnsmasq-block.conf', 'unbound-block.conf', 'queries.txt']) {
        assert.ok(fs.readFileSync(path.join(a.dir, file)).equals(fs.readFileSync(path.join(b.dir, file))), `${file} differs`);
      }
      const listed = new Set(fs.readFileSync(a.blockList, 'utf8').trim().split('\n'));
      assert.equal(listed.size, settings.names);
      const covered = (name: string) => name.split('.').some((_, i, labels) => listed.has(labels.slice(i).join('.')));
      assert.ok(a.blockedSample.every(covered));
      assert.ok(!a.allowedSample.some(covered));
      assert.ok(covered(a.probeName));
      const queries = fs.readFileSync(a.queries, 'utf8').trim().split('\n').map((l) => l.replace(/ A$/, ''));
      assert.equal(queries.length, settings.queries);
      assert.ok(queries.every((q, i) => covered(q) === (i % 2 === 0)), 'even lines blocked, odd lines allowed');
      assert.equal(ensureData(a.dir, settings).generatedInS, 0, 'a second call reuses the files');
    } finally {
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('fake upstream', () => {
  it('answers an A query with the test address', async () => {
    const port = 15290;
    const child = spawn(process.execPath, [path.join(import.meta.dirname, 'fake-upstream.ts'), String(port)], { stdio: 'ignore' });
    try {
      let check = await checkAnswers(port, [], ['www.example.com'], 100);
      for (let i = 0; i < 50 && check.allowedRight === 0; i++) check = await checkAnswers(port, [], ['www.example.com'], 100);
      assert.equal(check.allowedRight, 1, check.wrong.join('; '));
    } finally {
      child.kill('SIGTERM');
    }
  });
});
