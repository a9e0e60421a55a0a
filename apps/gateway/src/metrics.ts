import { Injectable } from '@nestjs/common';
import { ConferenceEventsHub } from './conference-events.hub';
import { EndpointSessions } from './endpoint-sessions';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The gateway's Prometheus metrics (one registry per app instance, so tests can run several). */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'parley_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly httpErrors = new Counter({
    name: 'parley_http_errors_total',
    help: 'HTTP responses with a 4xx or 5xx status',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly longPollWaiting: Gauge;
  readonly endpointSessions: Gauge;

  constructor(hub: ConferenceEventsHub, sessions: EndpointSessions) {
    this.endpointSessions = new Gauge({
      name: 'parley_endpoint_sessions',
      help: 'Endpoint delivery sessions open on this gateway (WebSockets and lingering long polls)',
      registers: [this.registry],
      collect() {
        this.set(sessions.count);
      },
    });
    this.longPollWaiting = new Gauge({
      name: 'parley_longpoll_waiting',
      help: 'Long-poll requests waiting for an event',
      registers: [this.registry],
      collect() {
        this.set(hub.waiting);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'parley_gateway_' });
  }
}
