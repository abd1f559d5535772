/**
 * Writes the filter's events to the store in batches, off the DNS path (the
 * workers hand batches to the main thread). The queue is bounded: when the
 * store cannot keep up, events are shed and counted, and answering goes on.
 * Retention deletes events older than the configured number of days.
 */
import type { Logger } from 'pino';
import type { FilterEvent } from '../filter/events.ts';
import type { Store } from '../store/store.ts';
import type { FilterEventsTable } from './monitor.tables.ts';

export interface EventWriter {
  /** Queues events of a school; never throws, never waits. */
  enqueue(schoolId: string, events: readonly FilterEvent[]): void;
  /** Writes everything queued (tests and shutdown). */
  flush(): Promise<void>;
  /** Deletes events older than `days` days; returns how many. */
  prune(days: number, now?: Date): Promise<number>;
  readonly counters: { written: number; shed: number; failedBatches: number };
  close(): Promise<void>;
}

const BATCH = 500;

function toRow(schoolId: string, e: FilterEvent): FilterEventsTable {
  return {
    school_id: schoolId,
    time: new Date(e.time).toISOString(),
    client: e.client,
    transport: e.transport,
    network_id: e.networkId,
    device_id: e.deviceId,
    person_id: e.personId,
    group_id: e.groupId,
    name: e.name,
    qtype: e.qtype,
    kind: e.kind,
    rule: e.rule,
    category: e.category,
    reason: e.reason,
    matched: e.matched,
    rcode: e.rcode,
    cached: e.cached ? 1 : 0,
    latency_us: Math.round(e.latencyMs * 1000),
    upstream: e.upstream,
    policy_version: e.policyVersion,
  };
}

export function createEventWriter(deps: { store: Store; logger: Logger; maxQueued?: number; intervalMs?: number }): EventWriter {
  const maxQueued = deps.maxQueued ?? 100_000;
  const db = deps.store.db;
  let queue: FilterEventsTable[] = [];
  let writing: Promise<void> | null = null;
  const counters = { written: 0, shed: 0, failedBatches: 0 };

  async function writeAll(): Promise<void> {
    while (queue.length > 0) {
      const rows = queue.splice(0, BATCH);
      try {
        await db.insertInto('filter_events').values(rows).execute();
        counters.written += rows.length;
      } catch (error) {
        // The rows are lost, counted and logged once per batch; the next batch tries again.
        counters.failedBatches++;
        counters.shed += rows.length;
        deps.logger.warn({ err: error, rows: rows.length }, 'could not write filter events');
      }
    }
  }

  function flush(): Promise<void> {
    writing ??= writeAll().finally(() => {
      writing = null;
    });
    return writing;
  }

  const timer = setInterval(() => void flush(), deps.intervalMs ?? 1000);
  timer.unref();

  return {
    enqueue(schoolId, events) {
      const room = maxQueued - queue.length;
      if (room < events.length) counters.shed += events.length - Math.max(0, room);
      for (let i = 0; i < Math.min(room, events.length); i++) queue.push(toRow(schoolId, events[i]));
    },
    async flush() {
      await flush();
      if (queue.length) await flush();
    },
    async prune(days, now = new Date()) {
      const before = new Date(now.getTime() - days * 86_400_000).toISOString();
      const result = await db.deleteFrom('filter_events').where('time', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows ?? 0);
    },
    counters,
    async close() {
      clearInterval(timer);
      await this.flush();
    },
  };
}
