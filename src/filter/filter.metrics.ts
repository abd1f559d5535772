/**
 * Prometheus metrics of the DNS engine, read from the workers' summed
 * counters when scraped. Labels stay low-cardinality: decision kind,
 * transport, latency bucket — never a client, name or token.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EngineStats } from './engine.ts';
import { LATENCY_BUCKETS_MS } from './pipeline.ts';

/** A counter whose value is copied from a running total when scraped. */
function totalCounter(registry: Registry, name: string, help: string, read: (s: EngineStats) => number | undefined, stats: () => EngineStats | null) {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const s = stats();
      this.reset();
      if (s) this.inc(read(s) ?? 0);
    },
  });
}

export function registerFilterMetrics(registry: Registry, stats: () => EngineStats | null): void {
  new Counter({
    name: 'schoolgate_dns_queries_total',
    help: 'DNS answers by decision kind',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      const s = stats();
      this.reset();
      for (const [kind, n] of Object.entries(s?.queries ?? {})) this.inc({ kind }, n);
    },
  });
  new Counter({
    name: 'schoolgate_dns_transport_queries_total',
    help: 'DNS answers by transport (udp, tcp, doh, dot)',
    labelNames: ['transport'] as const,
    registers: [registry],
    collect() {
      const s = stats();
      this.reset();
      for (const [transport, n] of Object.entries(s?.transports ?? {})) this.inc({ transport }, n);
    },
  });
  // The workers keep the histogram's bucket counts; this metric only reports them.
  registry.registerMetric({
    name: 'schoolgate_dns_answer_seconds',
    help: 'Time from a query arriving to its answer',
    async get() {
      const s = stats();
      const counts = s?.latency ?? new Array(LATENCY_BUCKETS_MS.length + 1).fill(0);
      let cumulative = 0;
      const values = counts.map((n, i) => {
        cumulative += n;
        const le = i < LATENCY_BUCKETS_MS.length ? LATENCY_BUCKETS_MS[i] / 1000 : '+Inf';
        return { labels: { le }, value: cumulative, metricName: 'schoolgate_dns_answer_seconds_bucket' };
      });
      values.push({ labels: {} as { le: number }, value: (s?.latencySumMs ?? 0) / 1000, metricName: 'schoolgate_dns_answer_seconds_sum' });
      values.push({ labels: {} as { le: number }, value: cumulative, metricName: 'schoolgate_dns_answer_seconds_count' });
      return { name: 'schoolgate_dns_answer_seconds', help: 'Time from a query arriving to its answer', type: 'histogram', values, aggregator: 'sum' };
    },
  } as unknown as Histogram);
  totalCounter(registry, 'schoolgate_dns_cache_hits_total', 'Answers served from the shared cache', (s) => s.cacheHits, stats);
  totalCounter(registry, 'schoolgate_dns_cache_misses_total', 'Queries that went upstream', (s) => s.cacheMisses, stats);
  totalCounter(registry, 'schoolgate_dns_stale_answers_total', 'Expired answers served while upstreams failed (RFC 8767)', (s) => s.staleServed, stats);
  totalCounter(registry, 'schoolgate_dns_upstream_errors_total', 'Upstream exchanges that failed on every server', (s) => s.upstreamErrors, stats);
  totalCounter(registry, 'schoolgate_dns_malformed_total', 'Malformed packets (dropped or answered FORMERR)', (s) => (s.malformedDropped ?? 0) + (s.malformedAnswered ?? 0), stats);
  totalCounter(registry, 'schoolgate_dns_refused_total', 'Queries refused: not from a school network and without a valid token', (s) => s.refused, stats);
  totalCounter(registry, 'schoolgate_dns_rate_limited_total', 'Queries refused by the per-client rate limit', (s) => s.rateLimited, stats);
  totalCounter(registry, 'schoolgate_dns_events_shed_total', 'Events dropped because recording could not keep up (answers were not)', (s) => s.eventsShed, stats);
  new Gauge({
    name: 'schoolgate_dns_cache_bytes',
    help: 'Bytes of answers in the shared caches',
    registers: [registry],
    collect() {
      this.set(stats()?.cacheBytes ?? 0);
    },
  });
}
