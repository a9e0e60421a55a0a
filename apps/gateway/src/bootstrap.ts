import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { connect } from 'nats';
import { type AuthConfig, TokenVerifier } from '@parley/auth';
import { NatsRpcClient, natsServers, reportSettings } from '@parley/messaging';
import { type GatewayConfig, gatewaySettings } from './config';
import { DEMO_DIR } from './demo.controller';
import { EndpointSessions } from './endpoint-sessions';
import { GatewayModule } from './gateway.module';
import { clientErrorHandler, registerBodyParsers } from './http-input';
import { Metrics } from './metrics';
import { registerRateLimits } from './rate-limits';
import { UserQuotas } from './user-quotas';
import { registerWebSocketChannel } from './ws-channel';

export interface RunningGateway {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  app: NestFastifyApplication;
  close(): Promise<void>;
}

export const API_PREFIX = 'rtc-api';

/** Starts the HTTP gateway: Fastify, the /rtc-api routes, OpenAPI at /rtc-api/docs, /health, /metrics and the demo page at /. */
export async function startGateway(config: GatewayConfig, auth: AuthConfig): Promise<RunningGateway> {
  const nc = await connect({ servers: natsServers(config.natsUrl), name: 'parley-gateway' });
  const adapter = new FastifyAdapter({ bodyLimit: config.bodyLimitBytes, trustProxy: config.trustProxy, clientErrorHandler });
  // The gateway parses JSON and form bodies (the OAuth token endpoint) itself: see http-input.ts.
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot({ config, auth, nc }), adapter, { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health', 'metrics', '/', 'demo.json', { path: 'demo/token', method: RequestMethod.POST }] });
  app.useStaticAssets({ root: DEMO_DIR, prefix: '/demo/', decorateReply: false });
  app.enableShutdownHooks();

  const metrics = app.get(Metrics);
  const fastify = app.getHttpAdapter().getInstance();
  registerBodyParsers(fastify, config.bodyLimitBytes);
  await registerRateLimits(fastify, config.rateLimits, (limit) => metrics.rateLimited.inc({ limit }));
  fastify.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    if (reply.statusCode >= 400) metrics.httpErrors.inc({ route, status: String(reply.statusCode) });
  });

  await registerWebSocketChannel(fastify, API_PREFIX, {
    verifier: app.get(TokenVerifier),
    rpc: new NatsRpcClient(nc, config.rpcTimeoutMs),
    sessions: app.get(EndpointSessions),
    rpcTimeoutMs: config.rpcTimeoutMs,
    sockets: app.get(UserQuotas).sockets,
  });

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Parley RTC API')
      .setDescription('Self-hostable customer-engagement video: conferences, media, presence. Compatible with the Auvious RTC API paths.')
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .addOAuth2({ type: 'oauth2', flows: { clientCredentials: { tokenUrl: `/${API_PREFIX}/oauth/token`, scopes: {} } } })
      .build(),
  );
  SwaggerModule.setup(`${API_PREFIX}/docs`, app, document, { jsonDocumentUrl: `${API_PREFIX}/docs/openapi.json` });

  await app.listen(config.port, config.host);
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  app.get(Logger).log({ msg: `gateway listening on http://${host}:${port}`, settings: reportSettings(gatewaySettings, config) });
  let closed = false;
  return {
    url: `http://${host}:${port}`,
    app,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await nc.drain();
    },
  };
}
