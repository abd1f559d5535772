/**
 * Every answer becomes an event. Events wait in a bounded buffer and leave in
 * batches; when the buffer is full they are shed and counted, never the
 * queries (recording must not slow or break answering).
 */
import type { CategoryKey } from './categories.ts';
import type { DecisionKind, DecisionRule } from './decision.ts';
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

/** A bounded queue of events: `push` never blocks or grows past `capacity`. */
export class EventBuffer {
  readonly capacity: number;
  /** Events dropped because the buffer was full. */
  shed = 0;
  #items: FilterEvent[] = [];

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.length;
  }

  push(event: FilterEvent): void {
    if (this.#items.length >= this.capacity) {
      this.shed++;
      return;
    }
    this.#items.push(event);
  }

  /** Takes every waiting event. */
  drain(): FilterEvent[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }
}
