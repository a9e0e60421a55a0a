import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { NatsConnection } from 'nats';
import { Public } from '@parley/auth';
import { type ServiceStatus, ServicesHealth } from './services-health';
import { NATS_CONNECTION } from './tokens';

/**
 * Liveness/readiness, outside /rtc-api and without a token (Prometheus' metrics are on a
 * listener of their own: metrics-listener.ts).
 * /health asks every service of PARLEY_SERVICES and answers 503 when a part is down (NATS, a
 * service that does not answer, a service's database), naming each in `down`; a relay that
 * dead-lettered events or keeps failing makes it "degraded" (200) and says which.
 */
@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly services: ServicesHealth,
  ) {}

  @Get('health')
  @Public()
  async health(@Res({ passthrough: true }) reply: FastifyReply): Promise<{ status: string; nats: string; services?: Record<string, ServiceStatus>; down?: string[]; warnings?: string[] }> {
    const up = !this.nc.isClosed() && !this.nc.isDraining();
    if (!up) {
      void reply.status(503);
      return { status: 'unavailable', nats: 'disconnected', down: ['nats'] };
    }
    const services = await this.services.check();
    const down: string[] = [];
    const warnings: string[] = [];
    for (const [name, s] of Object.entries(services)) {
      if (s.status === 'unavailable') {
        down.push(name);
        warnings.push(`${name} is not answering (${s.error})`);
        continue;
      }
      if (s.database?.status === 'down') {
        down.push(`${name}.database`);
        warnings.push(`${name}'s database is down (${s.database.error})`);
      }
      if (s.relay && s.relay.deadLetters > 0) {
        warnings.push(`${name}'s relay dead-lettered ${s.relay.deadLetters} event(s) it could never publish (latest ${s.relay.lastDeadLetter?.eventId}: ${s.relay.lastDeadLetter?.reason})`);
      }
      if (s.relay?.error) warnings.push(`${name}'s relay is failing (${s.relay.error}); ${s.relay.lag ?? '?'} event(s) wait to be published`);
    }
    if (down.length > 0) void reply.status(503);
    const status = down.length > 0 ? 'unavailable' : warnings.length > 0 ? 'degraded' : 'ok';
    return { status, nats: 'connected', services, ...(down.length ? { down } : {}), ...(warnings.length ? { warnings } : {}) };
  }
}
