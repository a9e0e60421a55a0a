import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { NatsConnection } from 'nats';
import { Public } from '@parley/auth';
import { Metrics } from './metrics';
import { NATS_CONNECTION } from './tokens';

/** Liveness/readiness and Prometheus metrics, outside /rtc-api and without a token. */
@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly metrics: Metrics,
  ) {}

  @Get('health')
  @Public()
  health(@Res({ passthrough: true }) reply: FastifyReply): { status: string; nats: string } {
    const up = !this.nc.isClosed() && !this.nc.isDraining();
    if (!up) void reply.status(503);
    return { status: up ? 'ok' : 'unavailable', nats: up ? 'connected' : 'disconnected' };
  }

  @Get('metrics')
  @Public()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
