import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { NatsConnection } from 'nats';
import { Public } from '@parley/auth';
import { Metrics } from './metrics';
import { type ServiceStatus, ServicesHealth } from './services-health';
import { NATS_CONNECTION } from './tokens';

/**
 * Liveness/readiness and Prometheus metrics, outside /rtc-api and without a token.
 * /health is 503 only when this gateway has lost NATS (it can do nothing then); a service that
 * does not answer, or a relay that dead-lettered events, makes it "degraded" and says which.
 */
@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly metrics: Metrics,
    private readonly services: ServicesHealth,
  ) {}

  @Get('health')
  @Public()
  async health(@Res({ passthrough: true }) reply: FastifyReply): Promise<{ status: string; nats: string; services?: Record<string, ServiceStatus>; warnings?: string[] }> {
    const up = !this.nc.isClosed() && !this.nc.isDraining();
    if (!up) {
      void reply.status(503);
      return { status: 'unavailable', nats: 'disconnected' };
    }
    const services = await this.services.check();
    const warnings: string[] = [];
    for (const [name, s] of Object.entries(services)) {
      if (s.status === 'unavailable') warnings.push(`${name} is not answering (${s.error})`);
      else if (s.status === 'down') warnings.push(`${name} is up but its database is not (${s.database?.error})`);
      else if (s.relay && s.relay.deadLetters > 0) {
        warnings.push(`${name}'s relay dead-lettered ${s.relay.deadLetters} event(s) it could never publish (latest ${s.relay.lastDeadLetter?.eventId}: ${s.relay.lastDeadLetter?.reason})`);
      }
    }
    return { status: warnings.length === 0 ? 'ok' : 'degraded', nats: 'connected', services, ...(warnings.length ? { warnings } : {}) };
  }

  @Get('metrics')
  @Public()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
