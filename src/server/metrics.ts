import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus series the server exports on /metrics (one registry per app). */
export function createMetrics(queueDepth: () => number, inFlight: () => number) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bge_gguf_' });
  return {
    registry,
    requests: new Counter({ name: 'bge_gguf_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    latency: new Histogram({
      name: 'bge_gguf_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    texts: new Counter({ name: 'bge_gguf_texts_total', help: 'Texts (or token-id inputs) embedded', registers: [registry] }),
    tokens: new Counter({ name: 'bge_gguf_tokens_total', help: 'Tokens embedded (after truncation, special tokens included)', registers: [registry] }),
    queueDepth: new Gauge({ name: 'bge_gguf_queue_depth', help: 'Requests waiting for the model', registers: [registry], collect() { this.set(queueDepth()); } }),
    inFlight: new Gauge({ name: 'bge_gguf_in_flight', help: 'Requests the model is working on', registers: [registry], collect() { this.set(inFlight()); } }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
