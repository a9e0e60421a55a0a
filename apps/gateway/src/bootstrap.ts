import 'reflect-metadata';
import { RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { connect } from 'nats';
import { type AuthConfig, TokenVerifier, checkProductionAuth } from '@parley/auth';
import { CallerAssertions, NatsRpcClient, SettingError, callerIdentity, checkNatsCredentials, natsConnectOptions, reportSettings } from '@parley/messaging';
import { checkStorageSettings } from '@parley/storage';
import { type GatewayConfig, apiDocsPublic, gatewaySettings } from './config';
import { DEMO_DIR } from './demo.controller';
import { EndpointSessions } from './endpoint-sessions';
import { GatewayModule } from './gateway.module';
import { clientErrorHandler, registerBodyParsers } from './http-input';
import { API_PREFIX } from './http-params';
import { Metrics } from './metrics';
import { type MetricsListener, startMetricsListener } from './metrics-listener';
import { registerRateLimits } from './rate-limits';
import { registerSecurityHeaders } from './security-headers';
import { UserQuotas } from './user-quotas';
import { registerWebSocketChannel } from './ws-channel';

export interface RunningGateway {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  /** Prometheus' endpoint on the metrics listener, e.g. http://127.0.0.1:9464/metrics (never on `url`). */
  metricsUrl: string;
  app: NestFastifyApplication;
  close(): Promise<void>;
}

export { API_PREFIX };

/**
 * What the gateway refuses to start with, before it connects to anything: outside development
 * mode (PARLEY_MODE=production, the default), authentication anyone could forge (see
 * checkProductionAuth) or signed URLs (SIGNED_URL_KEYS), and storage settings that do not fit together. Throws an error that names the variable and how to make a value.
 */
export function checkGatewaySettings(config: GatewayConfig, auth: AuthConfig): void {
  if (config.mode !== 'development') {
    checkProductionAuth(auth);
    if (!config.signedUrlKeys) throw new SettingError('SIGNED_URL_KEYS is not set: in production the gateway signs download URLs with a key of its own (`npm run -s secrets` makes one; docs/security.md); PARLEY_MODE=development uses a public development key');
  }
  checkNatsCredentials(config);
  checkStorageSettings(config);
}

/**
 * Starts the HTTP gateway: Fastify with security headers, the /rtc-api routes, /health, the
 * demo page at /, the OpenAPI and AsyncAPI documents at /rtc-api/docs where they are public
 * (API_DOCS), and Prometheus' /metrics on a listener of its own (METRICS_HOST:METRICS_PORT).
 */
export async function startGateway(config: GatewayConfig, auth: AuthConfig): Promise<RunningGateway> {
  checkGatewaySettings(config, auth);
  // The callers it authenticated, signed for the services (caller-assertion.ts).
  const assertions = new CallerAssertions(callerIdentity('gateway', config));
  const nc = await connect(natsConnectOptions(config, 'parley-gateway'));
  let app: NestFastifyApplication | undefined;
  let metricsListener: MetricsListener | undefined;
  try {
    const adapter = new FastifyAdapter({ bodyLimit: config.bodyLimitBytes, trustProxy: config.trustProxy, clientErrorHandler });
    // The gateway parses JSON and form bodies (the OAuth token endpoint) itself: see http-input.ts.
    app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot({ config, auth, nc, assertions }), adapter, { bufferLogs: true, bodyParser: false });
    app.useLogger(app.get(Logger));
    app.setGlobalPrefix(API_PREFIX, { exclude: ['health', '/', 'demo.json', { path: 'demo/token', method: RequestMethod.POST }] });
    app.useStaticAssets({ root: DEMO_DIR, prefix: '/demo/', decorateReply: false });
    app.enableShutdownHooks();

    const metrics = app.get(Metrics);
    const fastify = app.getHttpAdapter().getInstance();
    registerSecurityHeaders(fastify);
    await registerBodyParsers(fastify, config.bodyLimitBytes);
    await registerRateLimits(fastify, config.rateLimits, (limit) => metrics.rateLimited.inc({ limit }));
    fastify.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      metrics.httpDuration.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
      if (reply.statusCode >= 400) metrics.httpErrors.inc({ route, status: String(reply.statusCode) });
    });

    await registerWebSocketChannel(fastify, API_PREFIX, {
      verifier: app.get(TokenVerifier),
      rpc: new NatsRpcClient(nc, assertions, { timeoutMs: config.rpcTimeoutMs }),
      sessions: app.get(EndpointSessions),
      rpcTimeoutMs: config.rpcTimeoutMs,
      sockets: app.get(UserQuotas).sockets,
    });

    // The map of every route: served only where API_DOCS (or development mode) makes it public.
    if (apiDocsPublic(config)) {
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
      SwaggerModule.setup(`${API_PREFIX}/docs`, app, document, { jsonDocumentUrl: `${API_PREFIX}/docs/openapi.json`, yamlDocumentUrl: `${API_PREFIX}/docs/openapi.yaml` });
    }

    metricsListener = await startMetricsListener(metrics.registry, config.metricsHost, config.metricsPort);
    await app.listen(config.port, config.host);
    const address = fastify.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
    const logger = app.get(Logger);
    logger.log({ msg: `gateway listening on http://${host}:${port} (metrics: ${metricsListener.url})`, settings: reportSettings(gatewaySettings, config) });
    if (config.mode === 'development') {
      logger.log('PARLEY_MODE=development: the development defaults are allowed (the public JWT secret, the demo sign-in, public API docs); never expose this gateway');
    }
    const running = { app, metrics: metricsListener };
    let closed = false;
    return {
      url: `http://${host}:${port}`,
      metricsUrl: metricsListener.url,
      app,
      async close() {
        if (closed) return;
        closed = true;
        await running.metrics.close();
        await running.app.close();
        await nc.drain();
      },
    };
  } catch (e) {
    await metricsListener?.close().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await nc.close().catch(() => undefined);
    throw e;
  }
}
