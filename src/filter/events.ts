/**
 * Every answer becomes an event. Events wait in a bounded buffer and leave in
 * batches; when the buffer is full they are shed and counted, never the
 * queries (recording must not slow or break answering).
 *
 * A worker records tens of thousands of events a second, so they are not
 * kept as objects: a batch is columns (typed arrays), the names as bytes, and
 * a table of the few distinct strings of its other fields, written into
 * shared memory that is used over and over (see `EventRecorder`). Recording
 * one is a few array writes and Map lookups; it allocates nothing and keeps
 * no string alive (a name held until its batch leaves would outlive the young
 * generation and cost the old one a collection). A batch crosses to the main
 * thread as a message with the batch's strings and references to the shared
 * pages, instead of a structured clone of thousands of objects. The main
 * thread turns it back into `FilterEvent`s (`unpackEvents`) or straight into
 * JSON lines (`eventsToNdjson`), then gives the page back.
 */
import type { CategoryKey } from './categories.ts';
import type { Decision, DecisionKind, DecisionRule } from './decision.ts';
import type { Transport } from './transport.ts';

/** One answered query, as the monitor stores it. */
export interface FilterEvent {
  /** Milliseconds since the epoch. */
  time: number;
  client: string;
  transport: Transport;
  networkId: string | null;
  deviceId: string | null;
  personId: string | null;
  groupId: string | null;
  name: string;
  qtype: number;
  kind: DecisionKind;
  rule: DecisionRule;
  category: CategoryKey | null;
  reason: string;
  matched: string | null;
  rcode: number;
  cached: boolean;
  /** Milliseconds from arrival to answer. */
  latencyMs: number;
  upstream: string | null;
  policyVersion: number;
}

/** The string fields of an event kept in `EventBatch.refs`, in `FilterEvent`'s key order (the name has its own column). */
const STRING_FIELDS = ['client', 'transport', 'networkId', 'deviceId', 'personId', 'groupId', 'kind', 'rule', 'category', 'reason', 'matched', 'upstream'] as const;
const STRINGS = STRING_FIELDS.length;
const [CLIENT, TRANSPORT, NETWORK, DEVICE, PERSON, GROUP, KIND, RULE, CATEGORY, REASON, MATCHED, UPSTREAM] = STRING_FIELDS.map((_, i) => i);
/** The `matched` ref that means "the queried name itself" (the usual case for a blocked name), so nothing is stored for it. */
const SAME_AS_NAME = 0xffffffff;
/** The `matched` ref that means "in `text`, after the name" (a parent domain of it, usually). */
const IN_TEXT = 0xfffffffe;
const utf8 = new TextEncoder();
/** Numbers per event in `EventBatch.numbers`: time, latencyMs, policyVersion. */
const NUMBERS = 3;
/** Small integers per event in `EventBatch.small`: qtype, rcode, cached. */
const SMALL = 3;

/**
 * A batch of events as columns. Event `i`'s name is the UTF-8 in `text` from
 * the end of the previous event's text to `textEnds[2i]`; its string fields
 * other than the name are `strings[refs[i * 12 + f]]` in `FilterEvent` order
 * (ref 0 is null; a `matched` ref of 0xffffffff means the name itself, and
 * 0xfffffffe the text from `textEnds[2i]` to `textEnds[2i + 1]`); its numbers
 * are `numbers[i * 3 ..]` (time, latencyMs, policyVersion) and
 * `small[i * 3 ..]` (qtype, rcode, cached as 0/1).
 */
export interface EventBatch {
  count: number;
  /** Which of the recorder's pages it is on (for `EventRecorder.release`). */
  page: number;
  text: Uint8Array;
  textEnds: Uint32Array;
  /** The distinct strings of the batch's other fields, each once. */
  strings: (string | null)[];
  refs: Uint32Array;
  numbers: Float64Array;
  small: Uint16Array;
}

/** Who asked, as the pipeline knows it. */
interface EventIdentity {
  networkId: string | null;
  deviceId: string | null;
  personId: string | null;
}

/** The smallest page the recorder allocates; a page grows by doubling up to the capacity. */
const MIN_ROOM = 1024;

/** The columns of one page, on shared memory so that the main thread reads them where the worker wrote them. */
interface Page {
  room: number;
  refs: Uint32Array;
  numbers: Float64Array;
  small: Uint16Array;
  text: Uint8Array;
  textEnds: Uint32Array;
}

function sharedArray<T>(make: new (buffer: SharedArrayBuffer) => T, bytesPer: number, length: number): T {
  return new make(new SharedArrayBuffer(Math.max(8, length * bytesPer)));
}

function newPage(room: number, textBytes: number): Page {
  return {
    room,
    refs: sharedArray(Uint32Array, 4, room * STRINGS),
    numbers: sharedArray(Float64Array, 8, room * NUMBERS),
    small: sharedArray(Uint16Array, 2, room * SMALL),
    text: sharedArray(Uint8Array, 1, textBytes),
    textEnds: sharedArray(Uint32Array, 4, room * 2),
  };
}

/**
 * A bounded recorder of events: `record` never blocks or grows past
 * `capacity` waiting events. It writes into one of two pages of shared
 * memory while the other is with the reader: `take` hands over the page being
 * written (when the reader has given the other back with `release`) and
 * switches to the other. Once the pages have grown to the busiest batch they
 * are used over and over, so recording allocates nothing; and a reader that
 * falls behind makes events wait, then shed, in the worker.
 */
export class EventRecorder {
  readonly capacity: number;
  /** Events dropped because the buffer was full. */
  shed = 0;
  #pages: (Page | null)[] = [null, null];
  /** Whether each page is with the reader. */
  #out = [false, false];
  #current = 0;
  #page: Page;
  #count = 0;
  #textLength = 0;
  #strings: (string | null)[] = [null];
  #index = new Map<string, number>();
  /** The last value and ref of each field: most events repeat the previous one's client, group, reason..., and a pointer comparison is cheaper than a Map lookup. */
  #lastValue: (string | null)[] = new Array(STRINGS).fill(null);
  #lastRef = new Uint32Array(STRINGS);

  constructor(capacity: number) {
    this.capacity = Math.max(0, Math.floor(capacity));
    this.#page = newPage(Math.min(this.capacity, MIN_ROOM), Math.min(this.capacity, MIN_ROOM) * 32);
    this.#pages[0] = this.#page;
  }

  /** Events waiting. */
  get size(): number {
    return this.#count;
  }

  #ref(field: number, value: string | null): number {
    if (value === null) return 0;
    if (value === this.#lastValue[field]) return this.#lastRef[field];
    let ref = this.#index.get(value);
    if (ref === undefined) {
      ref = this.#strings.length;
      this.#strings.push(value);
      this.#index.set(value, ref);
    }
    this.#lastValue[field] = value;
    this.#lastRef[field] = ref;
    return ref;
  }

  /** Replaces the page being written with a bigger copy (only while a page grows to the busiest batch). */
  #grow(room: number, textBytes: number): void {
    const old = this.#page;
    const page = newPage(room, textBytes);
    page.refs.set(old.refs.subarray(0, this.#count * STRINGS));
    page.numbers.set(old.numbers.subarray(0, this.#count * NUMBERS));
    page.small.set(old.small.subarray(0, this.#count * SMALL));
    page.text.set(old.text.subarray(0, this.#textLength));
    page.textEnds.set(old.textEnds.subarray(0, this.#count * 2));
    this.#page = page;
    this.#pages[this.#current] = page;
  }

  /** Appends `value` to the text as UTF-8; returns where it ends. */
  #putText(value: string): number {
    let at = this.#textLength;
    if (at + value.length * 3 > this.#page.text.length) this.#grow(this.#page.room, Math.max(this.#page.text.length * 2, at + value.length * 3));
    const text = this.#page.text;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c > 0x7f) {
        // Not ASCII (names from the wire never are; a DoH or test caller's may be): the rest by the encoder.
        at += utf8.encodeInto(value.slice(i), text.subarray(at)).written;
        break;
      }
      text[at++] = c;
    }
    this.#textLength = at;
    return at;
  }

  /** Records one answer (the arguments are what the pipeline already holds, so nothing is allocated for it). */
  record(
    time: number,
    client: string,
    transport: Transport,
    identity: EventIdentity,
    groupId: string | null,
    name: string,
    qtype: number,
    decision: Decision,
    rcode: number,
    cached: boolean,
    latencyMs: number,
    upstream: string | null,
    policyVersion: number,
  ): void {
    const i = this.#count;
    if (i >= this.#page.room) {
      if (i >= this.capacity) {
        this.shed++;
        return;
      }
      this.#grow(Math.min(this.capacity, this.#page.room * 2), this.#page.text.length * 2);
    }
    const nameEnd = this.#putText(name);
    const matched = decision.matched;
    const textEnd = matched === null || matched === name ? nameEnd : this.#putText(matched);
    const page = this.#page;
    this.#count = i + 1;
    page.textEnds[2 * i] = nameEnd;
    page.textEnds[2 * i + 1] = textEnd;
    const refs = page.refs;
    const r = i * STRINGS;
    refs[r + CLIENT] = this.#ref(CLIENT, client);
    refs[r + TRANSPORT] = this.#ref(TRANSPORT, transport);
    refs[r + NETWORK] = this.#ref(NETWORK, identity.networkId);
    refs[r + DEVICE] = this.#ref(DEVICE, identity.deviceId);
    refs[r + PERSON] = this.#ref(PERSON, identity.personId);
    refs[r + GROUP] = this.#ref(GROUP, groupId);
    refs[r + KIND] = this.#ref(KIND, decision.kind);
    refs[r + RULE] = this.#ref(RULE, decision.rule);
    refs[r + CATEGORY] = this.#ref(CATEGORY, decision.category);
    refs[r + REASON] = this.#ref(REASON, decision.reason);
    refs[r + MATCHED] = matched === null ? 0 : matched === name ? SAME_AS_NAME : IN_TEXT;
    refs[r + UPSTREAM] = this.#ref(UPSTREAM, upstream);
    const n = i * NUMBERS;
    page.numbers[n] = time;
    page.numbers[n + 1] = latencyMs;
    page.numbers[n + 2] = policyVersion;
    const s = i * SMALL;
    page.small[s] = qtype;
    page.small[s + 1] = rcode;
    page.small[s + 2] = cached ? 1 : 0;
  }

  /**
   * Hands over the waiting events as a batch on the page they were written
   * to, and goes on writing on the other page. Null when nothing waits, or
   * when the other page is still with the reader (the events go on waiting).
   * The batch's arrays stay valid until `release(batch.page)`, after which
   * they are written over.
   */
  take(): EventBatch | null {
    const count = this.#count;
    const next = 1 - this.#current;
    if (count === 0 || this.#out[next]) return null;
    const page = this.#page;
    const batch: EventBatch = { count, page: this.#current, text: page.text, textEnds: page.textEnds, strings: this.#strings, refs: page.refs, numbers: page.numbers, small: page.small };
    this.#out[this.#current] = true;
    this.#current = next;
    this.#page = this.#pages[next] ??= newPage(page.room, page.text.length);
    this.#count = 0;
    this.#textLength = 0;
    this.#strings = [null];
    this.#index = new Map();
    this.#lastValue.fill(null);
    return batch;
  }

  /** The reader is done with the batch taken from `page`: it may be written again. */
  release(page: number): void {
    this.#out[page] = false;
  }
}

const decoder = new TextDecoder();

/** Event `i` of a batch as an object. */
export function eventAt(batch: EventBatch, i: number): FilterEvent {
  const { text, textEnds, strings, refs, numbers, small } = batch;
  const r = i * STRINGS;
  const n = i * NUMBERS;
  const s = i * SMALL;
  const matched = refs[r + MATCHED];
  const name = decoder.decode(text.subarray(i === 0 ? 0 : textEnds[2 * i - 1], textEnds[2 * i]));
  return {
    time: numbers[n],
    client: strings[refs[r + CLIENT]]!,
    transport: strings[refs[r + TRANSPORT]] as Transport,
    networkId: strings[refs[r + NETWORK]],
    deviceId: strings[refs[r + DEVICE]],
    personId: strings[refs[r + PERSON]],
    groupId: strings[refs[r + GROUP]],
    name,
    qtype: small[s],
    kind: strings[refs[r + KIND]] as DecisionKind,
    rule: strings[refs[r + RULE]] as DecisionRule,
    category: strings[refs[r + CATEGORY]] as CategoryKey | null,
    reason: strings[refs[r + REASON]]!,
    matched: matched === SAME_AS_NAME ? name : matched === IN_TEXT ? decoder.decode(text.subarray(textEnds[2 * i], textEnds[2 * i + 1])) : strings[matched],
    rcode: small[s + 1],
    cached: small[s + 2] === 1,
    latencyMs: numbers[n + 1],
    upstream: strings[refs[r + UPSTREAM]],
    policyVersion: numbers[n + 2],
  };
}

/** Every event of a batch as objects, in the order they were recorded. */
export function unpackEvents(batch: EventBatch): FilterEvent[] {
  const events = new Array<FilterEvent>(batch.count);
  for (let i = 0; i < batch.count; i++) events[i] = eventAt(batch, i);
  return events;
}

/** Where each string field's value goes in a line: after the key at this index of `KEY_TEXT`. */
const KEY_TEXT = [
  '{"time":', ',"client":', ',"transport":', ',"networkId":', ',"deviceId":', ',"personId":', ',"groupId":', ',"name":', ',"qtype":', ',"kind":',
  ',"rule":', ',"category":', ',"reason":', ',"matched":', ',"rcode":', ',"cached":', ',"latencyMs":', ',"upstream":', ',"policyVersion":',
];
const KEY_OF_FIELD = [1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 17];
/** The most bytes a line takes besides its strings' JSON (keys, punctuation, six numbers of at most 24 characters, the booleans). */
const LINE_OVERHEAD = KEY_TEXT.join('').length + 2 + 6 * 24 + 5;

/** Whether JSON can hold these bytes between quotes as they are (printable ASCII without `"` or `\\`): every name the wire parser makes unless it escaped a byte. */
function plainBytes(text: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text[i];
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** The JSON of text bytes that are not plain, as bytes (rare: a name with an escaped byte). */
function escapedJson(text: Uint8Array, from: number, to: number): Uint8Array {
  return utf8.encode(JSON.stringify(decoder.decode(text.subarray(from, to))));
}

/** Copies `bytes` to `at`; returns the offset after them. Short pieces by hand: a call to `set` costs more than a few byte moves. */
function put(out: Uint8Array, at: number, bytes: Uint8Array): number {
  const length = bytes.length;
  if (length > 32) {
    out.set(bytes, at);
    return at + length;
  }
  for (let i = 0; i < length; i++) out[at + i] = bytes[i];
  return at + length;
}

/** Copies ASCII `text` to `at`; returns the offset after it. */
function putAscii(out: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

/** Writes text bytes as JSON: between quotes when they need no escapes (`json` null), else `json`. */
function putText(out: Uint8Array, at: number, text: Uint8Array, from: number, to: number, json: Uint8Array | null): number {
  if (json) return put(out, at, json);
  out[at++] = 0x22;
  for (let i = from; i < to; i++) out[at++] = text[i];
  out[at] = 0x22;
  return at + 1;
}

/** A key with its number as JSON bytes, remembered for the last number: in a batch most events share their millisecond, type, rcode and policy version. */
class NumberText {
  #value = Number.NaN;
  #bytes = new Uint8Array(0);
  readonly #key: string;
  constructor(key: string) {
    this.#key = key;
  }
  of(value: number): Uint8Array {
    if (value !== this.#value) {
      this.#value = value;
      this.#bytes = utf8.encode(`${this.#key}${JSON.stringify(value)}`);
    }
    return this.#bytes;
  }
}

/**
 * The batch as newline-delimited JSON bytes (UTF-8), each line exactly
 * `JSON.stringify` of the event object. Written straight into one buffer
 * (`into` when given and big enough, so a caller can use one over and over)
 * from pieces made once per batch (a key with a value), without making the
 * objects or a string per line: filter serve's main thread does this for
 * every answer, and the garbage of a string per line would keep its young
 * heap large. Returns a view of the bytes written.
 */
export function eventsToNdjson(batch: EventBatch, into?: Uint8Array): Uint8Array {
  const { text, textEnds, strings, refs, numbers, small } = batch;
  // `,"key":value` for each (field, string) the batch uses, made when first needed.
  const pieces: (Uint8Array | undefined)[] = new Array(STRINGS * strings.length);
  const piece = (field: number, ref: number): Uint8Array =>
    (pieces[ref * STRINGS + field] ??= utf8.encode(`${KEY_TEXT[KEY_OF_FIELD[field]]}${JSON.stringify(strings[ref])}`));
  const time = new NumberText(KEY_TEXT[0]);
  const qtype = new NumberText(KEY_TEXT[8]);
  const rcode = new NumberText(KEY_TEXT[14]);
  const version = new NumberText(KEY_TEXT[18]);
  const nameKey = utf8.encode(KEY_TEXT[7]);
  const matchedKey = utf8.encode(KEY_TEXT[13]);
  const cachedText = [utf8.encode(`${KEY_TEXT[15]}false${KEY_TEXT[16]}`), utf8.encode(`${KEY_TEXT[15]}true${KEY_TEXT[16]}`)];
  let out = into && into.length >= batch.count * 200 ? into : new Uint8Array(Math.max(4096, batch.count * 400));
  let at = 0;
  for (let i = 0; i < batch.count; i++) {
    const r = i * STRINGS;
    const n = i * NUMBERS;
    const s = i * SMALL;
    const nameFrom = i === 0 ? 0 : textEnds[2 * i - 1];
    const nameTo = textEnds[2 * i];
    const textTo = textEnds[2 * i + 1];
    const nameJson = plainBytes(text, nameFrom, nameTo) ? null : escapedJson(text, nameFrom, nameTo);
    const matched = refs[r + MATCHED];
    const matchedJson = matched === IN_TEXT && !plainBytes(text, nameTo, textTo) ? escapedJson(text, nameTo, textTo) : null;
    const latency = JSON.stringify(numbers[n + 1]);
    // Text as JSON is at most its bytes and quotes, or its escaped form.
    let need = LINE_OVERHEAD + 2 * ((nameJson ? nameJson.length : nameTo - nameFrom) + 2) + (matchedJson ? matchedJson.length : textTo - nameTo) + latency.length;
    for (let f = 0; f < STRINGS; f++) if (f !== MATCHED || matched < IN_TEXT) need += piece(f, refs[r + f]).length;
    if (at + need > out.length) {
      const bigger = new Uint8Array(Math.max(out.length * 2, at + need));
      bigger.set(out.subarray(0, at));
      out = bigger;
    }
    at = put(out, at, time.of(numbers[n]));
    for (let f = CLIENT; f <= GROUP; f++) at = put(out, at, piece(f, refs[r + f]));
    at = putText(out, put(out, at, nameKey), text, nameFrom, nameTo, nameJson);
    at = put(out, at, qtype.of(small[s]));
    for (let f = KIND; f <= REASON; f++) at = put(out, at, piece(f, refs[r + f]));
    if (matched === SAME_AS_NAME) at = putText(out, put(out, at, matchedKey), text, nameFrom, nameTo, nameJson);
    else if (matched === IN_TEXT) at = putText(out, put(out, at, matchedKey), text, nameTo, textTo, matchedJson);
    else at = put(out, at, piece(MATCHED, matched));
    at = put(out, at, rcode.of(small[s + 1]));
    at = put(out, at, cachedText[small[s + 2]]);
    at = putAscii(out, at, latency);
    at = put(out, at, piece(UPSTREAM, refs[r + UPSTREAM]));
    at = put(out, at, version.of(numbers[n + 2]));
    out[at++] = 0x7d; // }
    out[at++] = 0x0a; // newline
  }
  return out.subarray(0, at);
}
