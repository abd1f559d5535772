/**
 * Every answer becomes an event. Events wait in a bounded buffer and leave in
 * batches; when the buffer is full they are shed and counted, never the
 * queries (recording must not slow or break answering).
 *
 * A worker records tens of thousands of events a second, so they are not
 * kept as objects: a batch is columns (typed arrays) plus a table of the
 * distinct strings it uses. Recording one is a few array writes and Map
 * lookups, with nothing left for the garbage collector; the batch crosses to
 * the main thread as transferred buffers and one short array of strings
 * instead of a structured clone of thousands of objects. The main thread
 * turns a batch back into `FilterEvent`s (`unpackEvents`) or straight into
 * JSON lines (`eventsToNdjson`).
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
/** The `matched` ref that means "the queried name itself" (the usual case for a blocked name), so no string is stored for it. */
const SAME_AS_NAME = 0xffffffff;
/** Numbers per event in `EventBatch.numbers`: time, latencyMs, policyVersion. */
const NUMBERS = 3;
/** Small integers per event in `EventBatch.small`: qtype, rcode, cached. */
const SMALL = 3;

/**
 * A batch of events as columns. Event `i`'s name is `names[i]`; its other
 * string fields are `strings[refs[i * 12 + f]]` in `FilterEvent` order (ref 0
 * is null; a `matched` ref of 0xffffffff means the name itself); its numbers
 * are `numbers[i * 3 ..]` (time, latencyMs, policyVersion) and
 * `small[i * 3 ..]` (qtype, rcode, cached as 0/1).
 */
export interface EventBatch {
  count: number;
  names: string[];
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

/** The smallest batch the recorder allocates; it grows by doubling up to its capacity. */
const MIN_ROOM = 1024;

/** A bounded recorder of events: `record` never blocks or grows past `capacity` waiting events. */
export class EventRecorder {
  readonly capacity: number;
  /** Events dropped because the buffer was full. */
  shed = 0;
  #count = 0;
  #room: number;
  #names: string[] = [];
  #strings: (string | null)[] = [null];
  #index = new Map<string, number>();
  /** The last value and ref of each field: most events repeat the previous one's client, group, reason..., and a pointer comparison is cheaper than a Map lookup. */
  #lastValue: (string | null)[] = new Array(STRINGS).fill(null);
  #lastRef = new Uint32Array(STRINGS);
  #refs: Uint32Array;
  #numbers: Float64Array;
  #small: Uint16Array;

  constructor(capacity: number) {
    this.capacity = Math.max(0, Math.floor(capacity));
    this.#room = Math.min(this.capacity, MIN_ROOM);
    this.#refs = new Uint32Array(this.#room * STRINGS);
    this.#numbers = new Float64Array(this.#room * NUMBERS);
    this.#small = new Uint16Array(this.#room * SMALL);
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

  #grow(): void {
    const room = Math.min(this.capacity, this.#room * 2);
    const refs = new Uint32Array(room * STRINGS);
    refs.set(this.#refs);
    const numbers = new Float64Array(room * NUMBERS);
    numbers.set(this.#numbers);
    const small = new Uint16Array(room * SMALL);
    small.set(this.#small);
    this.#refs = refs;
    this.#numbers = numbers;
    this.#small = small;
    this.#room = room;
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
    if (i >= this.#room) {
      if (i >= this.capacity) {
        this.shed++;
        return;
      }
      this.#grow();
    }
    this.#count = i + 1;
    const refs = this.#refs;
    const r = i * STRINGS;
    this.#names.push(name);
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
    refs[r + MATCHED] = decision.matched === name ? SAME_AS_NAME : this.#ref(MATCHED, decision.matched);
    refs[r + UPSTREAM] = this.#ref(UPSTREAM, upstream);
    const n = i * NUMBERS;
    this.#numbers[n] = time;
    this.#numbers[n + 1] = latencyMs;
    this.#numbers[n + 2] = policyVersion;
    const s = i * SMALL;
    this.#small[s] = qtype;
    this.#small[s + 1] = rcode;
    this.#small[s + 2] = cached ? 1 : 0;
  }

  /**
   * Takes every waiting event as one batch (null when there are none). Its
   * buffers are the batch's own: post it with `transferList(batch)`.
   */
  drain(): EventBatch | null {
    const count = this.#count;
    if (count === 0) return null;
    const batch: EventBatch = {
      count,
      names: this.#names,
      strings: this.#strings,
      refs: this.#refs.slice(0, count * STRINGS),
      numbers: this.#numbers.slice(0, count * NUMBERS),
      small: this.#small.slice(0, count * SMALL),
    };
    this.#count = 0;
    this.#names = [];
    this.#strings = [null];
    this.#index = new Map();
    this.#lastValue.fill(null);
    return batch;
  }
}

/** The buffers of a batch, to transfer rather than copy when it is posted to another thread. */
export function transferList(batch: EventBatch): ArrayBuffer[] {
  return [batch.refs.buffer, batch.numbers.buffer, batch.small.buffer] as ArrayBuffer[];
}

/** Event `i` of a batch as an object. */
export function eventAt(batch: EventBatch, i: number): FilterEvent {
  const { names, strings, refs, numbers, small } = batch;
  const r = i * STRINGS;
  const n = i * NUMBERS;
  const s = i * SMALL;
  const matched = refs[r + MATCHED];
  return {
    time: numbers[n],
    client: strings[refs[r + CLIENT]]!,
    transport: strings[refs[r + TRANSPORT]] as Transport,
    networkId: strings[refs[r + NETWORK]],
    deviceId: strings[refs[r + DEVICE]],
    personId: strings[refs[r + PERSON]],
    groupId: strings[refs[r + GROUP]],
    name: names[i],
    qtype: small[s],
    kind: strings[refs[r + KIND]] as DecisionKind,
    rule: strings[refs[r + RULE]] as DecisionRule,
    category: strings[refs[r + CATEGORY]] as CategoryKey | null,
    reason: strings[refs[r + REASON]]!,
    matched: matched === SAME_AS_NAME ? names[i] : strings[matched],
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
const utf8 = new TextEncoder();
/** The most bytes a line takes besides its strings' JSON (keys, punctuation, six numbers of at most 24 characters, the booleans). */
const LINE_OVERHEAD = KEY_TEXT.join('').length + 2 + 6 * 24 + 5;

/** A name that JSON can hold between quotes as it is (printable ASCII without `"` or `\\`): every name the wire parser makes unless it escaped a byte. */
function plainAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
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

/** Writes the name's JSON: the name between quotes when it needs no escapes (`json` null), else `json`. */
function putName(out: Uint8Array, at: number, name: string, json: Uint8Array | null): number {
  if (json) return put(out, at, json);
  out[at] = 0x22;
  at = putAscii(out, at + 1, name);
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
 * from pieces made once per batch (a key with a value), without making the
 * objects or a string per line: filter serve's main thread does this for
 * every answer, and the garbage of a string per line would keep its young
 * heap large.
 */
export function eventsToNdjson(batch: EventBatch): Uint8Array {
  const { names, strings, refs, numbers, small } = batch;
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
  let out = new Uint8Array(Math.max(4096, batch.count * 400));
  let at = 0;
  for (let i = 0; i < batch.count; i++) {
    const r = i * STRINGS;
    const n = i * NUMBERS;
    const s = i * SMALL;
    const name = names[i];
    const nameJson = plainAscii(name) ? null : utf8.encode(JSON.stringify(name));
    const matched = refs[r + MATCHED];
    const latency = JSON.stringify(numbers[n + 1]);
    let need = LINE_OVERHEAD + 2 * (nameJson ? nameJson.length : name.length + 2) + latency.length;
    for (let f = 0; f < STRINGS; f++) if (f !== MATCHED || matched !== SAME_AS_NAME) need += piece(f, refs[r + f]).length;
    if (at + need > out.length) {
      const bigger = new Uint8Array(Math.max(out.length * 2, at + need));
      bigger.set(out.subarray(0, at));
      out = bigger;
    }
    at = put(out, at, time.of(numbers[n]));
    for (let f = CLIENT; f <= GROUP; f++) at = put(out, at, piece(f, refs[r + f]));
    at = putName(out, put(out, at, nameKey), name, nameJson);
    at = put(out, at, qtype.of(small[s]));
    for (let f = KIND; f <= REASON; f++) at = put(out, at, piece(f, refs[r + f]));
    at = matched === SAME_AS_NAME ? putName(out, put(out, at, matchedKey), name, nameJson) : put(out, at, piece(MATCHED, matched));
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
