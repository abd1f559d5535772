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

/**
 * The batch as newline-delimited JSON, each line exactly `JSON.stringify` of
 * the event object, without making the objects: each distinct string is
 * quoted once per batch.
 */
export function eventsToNdjson(batch: EventBatch): string {
  const { names, strings, refs, numbers, small } = batch;
  const json = strings.map((value) => JSON.stringify(value));
  let text = '';
  for (let i = 0; i < batch.count; i++) {
    const r = i * STRINGS;
    const n = i * NUMBERS;
    const s = i * SMALL;
    const name = JSON.stringify(names[i]);
    const matched = refs[r + MATCHED];
    text +=
      `{"time":${numbers[n]},"client":${json[refs[r + CLIENT]]},"transport":${json[refs[r + TRANSPORT]]},` +
      `"networkId":${json[refs[r + NETWORK]]},"deviceId":${json[refs[r + DEVICE]]},"personId":${json[refs[r + PERSON]]},` +
      `"groupId":${json[refs[r + GROUP]]},"name":${name},"qtype":${small[s]},"kind":${json[refs[r + KIND]]},` +
      `"rule":${json[refs[r + RULE]]},"category":${json[refs[r + CATEGORY]]},"reason":${json[refs[r + REASON]]},` +
      `"matched":${matched === SAME_AS_NAME ? name : json[matched]},"rcode":${small[s + 1]},"cached":${small[s + 2] === 1},` +
      `"latencyMs":${JSON.stringify(numbers[n + 1])},"upstream":${json[refs[r + UPSTREAM]]},"policyVersion":${numbers[n + 2]}}\n`;
  }
  return text;
}
