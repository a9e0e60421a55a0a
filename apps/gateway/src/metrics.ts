import { Injectable } from '@nestjs/common';
import { ConferenceEventsHub } from './conference-events.hub';
import { EndpointSessions } from './endpoint-sessions';
import { type ServiceStatus, ServicesHealth } from './services-health';
import { UserQuotas } from './user-quotas';
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
  readonly rateLimited = new Counter({
    name: 'parley_rate_limited_total',
    help: 'Requests refused with 429 by a rate limit, by limit',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });
  readonly longPollWaiting: Gauge;
  readonly endpointSessions: Gauge;

  constructor(hub: ConferenceEventsHub, sessions: EndpointSessions, quotas: UserQuotas, services: ServicesHealth) {
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
    new Gauge({
      name: 'parley_user_quota_held',
      help: 'Places of the per-user quotas held on this gateway, by quota',
      labelNames: ['quota'] as const,
      registers: [this.registry],
      collect() {
        for (const q of [quotas.parkedPolls, quotas.pollSessions, quotas.sockets]) this.set({ quota: q.name }, q.total);
      },
    });
    // What the services say of themselves, asked once per scrape (one request per service).
    let scrape: ReturnType<ServicesHealth['check']> | undefined;
    const health = () => (scrape ??= services.check().finally(() => setTimeout(() => (scrape = undefined), 1000)));
    const perService = (name: string, help: string, value: (s: ServiceStatus) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['service'] as const,
        registers: [this.registry],
        async collect() {
          for (const [service, s] of Object.entries(await health())) {
            const v = value(s);
            if (v !== undefined) this.set({ service }, v);
          }
        },
      });
    perService('parley_service_up', 'Whether each service answers its health request (1) or not (0)', (s) => (s.status === 'ok' ? 1 : 0));
    perService('parley_relay_dead_letters', "Events each service's relay dead-lettered because they could never be published (relay_dead_letters)", (s) =>
      s.status === 'ok' ? s.relay?.deadLetters : undefined,
    );
    collectDefaultMetrics({ register: this.registry, prefix: 'parley_gateway_' });
  }
}
