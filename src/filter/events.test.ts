import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import type { Decision } from './decision.ts';
import { type EventBatch, EventRecorder, eventsToNdjson, type FilterEvent, unpackEvents } from './events.ts';

const pupil = { networkId: 'net-1', deviceId: null, personId: null };
const staffDevice = { networkId: null, deviceId: 'dev-7', personId: 'person-3' };
const blocked: Decision = { kind: 'blocked', rule: 'category', reason: 'Blocked: gambling is blocked for Pupils — Année 7', category: 'gambling', matched: 'bet365.com', answer: 'block_page' };
const allowed: Decision = { kind: 'allowed', rule: 'default', reason: 'allowed', category: null, matched: null };

/** The events the tests record, as objects: what unpacking must give back. */
const EXPECTED: FilterEvent[] = [
  { time: 1_764_000_000_123, client: '10.0.0.5', transport: 'udp', networkId: 'net-1', deviceId: null, personId: null, groupId: 'pupils', name: 'www.bet365.com', qtype: 1, kind: 'blocked', rule: 'category', category: 'gambling', reason: blocked.reason, matched: 'bet365.com', rcode: 0, cached: false, latencyMs: 0.0421, upstream: null, policyVersion: 17 },
  { time: 1_764_000_000_124, client: '10.0.0.5', transport: 'udp', networkId: 'net-1', deviceId: null, personId: null, groupId: 'pupils', name: 'bet365.com', qtype: 28, kind: 'blocked', rule: 'category', category: 'gambling', reason: blocked.reason, matched: 'bet365.com', rcode: 0, cached: false, latencyMs: 0.05, upstream: null, policyVersion: 17 },
  { time: 1_764_000_000_125, client: '2001:db8::9', transport: 'doh', networkId: null, deviceId: 'dev-7', personId: 'person-3', groupId: null, name: 'bücher.example.org', qtype: 65, kind: 'allowed', rule: 'default', category: null, reason: 'allowed', matched: null, rcode: 3, cached: true, latencyMs: 12.5, upstream: '192.0.2.53:53', policyVersion: 18 },
  // A name that JSON must escape, and an upstream text with a quote: the lines must stay valid JSON.
  { time: 1_764_000_000_126, client: '10.0.0.5', transport: 'tcp', networkId: 'net-1', deviceId: null, personId: null, groupId: 'pupils', name: 'odd\\"name.example', qtype: 16, kind: 'allowed', rule: 'default', category: null, reason: 'allowed', matched: null, rcode: 0, cached: false, latencyMs: 1, upstream: 'tls://"dns".example', policyVersion: 18 },
];

function recordAll(recorder: EventRecorder): void {
  const e = EXPECTED;
  recorder.record(e[0].time, e[0].client, 'udp', pupil, 'pupils', e[0].name, 1, blocked, 0, false, 0.0421, null, 17);
  recorder.record(e[1].time, e[1].client, 'udp', pupil, 'pupils', e[1].name, 28, blocked, 0, false, 0.05, null, 17);
  recorder.record(e[2].time, e[2].client, 'doh', staffDevice, null, e[2].name, 65, allowed, 3, true, 12.5, '192.0.2.53:53', 18);
  recorder.record(e[3].time, e[3].client, 'tcp', pupil, 'pupils', e[3].name, 16, allowed, 0, false, 1, 'tls://"dns".example', 18);
}

/** Takes the waiting batch, hands it to `use`, and gives its page back. */
function withBatch<T>(recorder: EventRecorder, use: (batch: EventBatch) => T): T {
  const batch = recorder.take();
  assert.ok(batch, 'a batch was waiting');
  try {
    return use(batch);
  } finally {
    recorder.release(batch.page);
  }
}

describe('EventRecorder', () => {
  it('gives back every field of every event, in order', () => {
    const recorder = new EventRecorder(100);
    recordAll(recorder);
    assert.equal(recorder.size, 4);
    assert.deepEqual(withBatch(recorder, unpackEvents), EXPECTED);
    assert.equal(recorder.size, 0);
    assert.equal(recorder.take(), null, 'nothing waits after a take');
  });

  it('keeps each distinct string once per batch, and the names as bytes', () => {
    const recorder = new EventRecorder(100);
    for (let i = 0; i < 50; i++) recorder.record(1, '10.0.0.5', 'udp', pupil, 'pupils', `n${i}.example`, 1, allowed, 0, false, 1, null, 1);
    withBatch(recorder, (batch) => {
      assert.equal(new TextDecoder().decode(batch.text.subarray(0, batch.textEnds[2 * 49 + 1])), Array.from({ length: 50 }, (_, i) => `n${i}.example`).join(''));
      assert.deepEqual([...batch.strings].sort(), [null, '10.0.0.5', 'allowed', 'default', 'net-1', 'pupils', 'udp'].sort());
    });
  });

  it('writes JSON lines (UTF-8) exactly as JSON.stringify of each event', () => {
    const recorder = new EventRecorder(100);
    recordAll(recorder);
    const text = new TextDecoder().decode(withBatch(recorder, eventsToNdjson));
    assert.equal(text, EXPECTED.map((e) => `${JSON.stringify(e)}\n`).join(''));
    assert.deepEqual(text.trimEnd().split('\n').map((line) => JSON.parse(line)), EXPECTED);
  });

  it('keeps a list entry that is a parent of the name, in any script', () => {
    const recorder = new EventRecorder(10);
    const parent = { ...blocked, matched: 'bücher.example' };
    recorder.record(5, '10.0.0.5', 'udp', pupil, 'pupils', 'www.bücher.example', 1, parent, 0, false, 1, null, 1);
    recorder.record(6, '10.0.0.5', 'udp', pupil, 'pupils', 'a\\"b.bücher.example', 1, parent, 0, false, 1, null, 1);
    const [events, text] = withBatch(recorder, (batch) => [unpackEvents(batch), new TextDecoder().decode(eventsToNdjson(batch))] as const);
    assert.deepEqual(events.map((e) => [e.name, e.matched]), [
      ['www.bücher.example', 'bücher.example'],
      ['a\\"b.bücher.example', 'bücher.example'],
    ]);
    assert.equal(text, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  });

  it('writes lines longer than it first allows for', () => {
    const recorder = new EventRecorder(3000);
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.example`;
    for (let i = 0; i < 3000; i++) recorder.record(i, '10.0.0.5', 'udp', pupil, 'pupils', `${i}.${long}`, 1, { ...blocked, matched: long, reason: `${blocked.reason} ${i}` }, 0, false, 1 / 3, null, 1);
    const [events, lines] = withBatch(recorder, (batch) => [unpackEvents(batch), new TextDecoder().decode(eventsToNdjson(batch)).trimEnd().split('\n')] as const);
    assert.equal(lines.length, 3000);
    assert.deepEqual(lines.map((line) => JSON.parse(line)), events);
    assert.equal(events[2999].name, `2999.${long}`);
  });

  it('sheds and counts events past its capacity, and records again after a take', () => {
    const recorder = new EventRecorder(3);
    recordAll(recorder); // four events, room for three
    assert.equal(recorder.shed, 1);
    assert.deepEqual(withBatch(recorder, unpackEvents), EXPECTED.slice(0, 3));
    recordAll(recorder);
    assert.equal(recorder.shed, 2);
    assert.deepEqual(withBatch(recorder, unpackEvents), EXPECTED.slice(0, 3));
  });

  it('grows past its first allocation up to its capacity', () => {
    const recorder = new EventRecorder(5000);
    for (let i = 0; i < 6000; i++) recorder.record(i, '10.0.0.5', 'udp', pupil, 'pupils', `n${i}.example`, 1, allowed, 0, false, 1, null, 1);
    assert.equal(recorder.shed, 1000);
    const events = withBatch(recorder, unpackEvents);
    assert.equal(events.length, 5000);
    assert.deepEqual([events[0].time, events[4999].time, events[4999].name], [0, 4999, 'n4999.example']);
  });

  it('writes on the other page while a batch is out, and makes events wait (then shed) until it comes back', () => {
    const recorder = new EventRecorder(4);
    recordAll(recorder);
    const first = recorder.take()!;
    recordAll(recorder);
    assert.deepEqual(unpackEvents(first), EXPECTED, 'the batch out is untouched by the events written since');
    assert.equal(recorder.take(), null, 'one batch is out: the next waits');
    recordAll(recorder);
    assert.equal(recorder.shed, 4, 'and past the capacity events are shed');
    recorder.release(first.page);
    const second = recorder.take()!;
    assert.notEqual(second.page, first.page);
    assert.deepEqual(unpackEvents(second), EXPECTED);
    recordAll(recorder);
    recorder.release(second.page);
    const third = recorder.take()!;
    assert.equal(third.page, first.page);
    assert.equal(third.refs, first.refs, 'the page is used again, not made anew');
    assert.deepEqual(unpackEvents(third), EXPECTED);
  });

  it('is read by another thread where it was written', async () => {
    const recorder = new EventRecorder(100);
    recordAll(recorder);
    const batch = recorder.take()!;
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<EventBatch>((resolve) => port2.once('message', resolve));
    port1.postMessage(batch);
    const copy = await received;
    assert.deepEqual(unpackEvents(copy), EXPECTED);
    assert.ok(copy.refs.buffer instanceof SharedArrayBuffer, 'shared, not copied');
    port1.close();
  });
});
