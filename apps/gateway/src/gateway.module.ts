import { type DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { logTransport } from '@parley/service-kit';
import type { NatsConnection } from 'nats';
import { type AuthConfig, AuthGuard, AuthModule } from '@parley/auth';
import { NatsRpcClient, parleyValidationPipe } from '@parley/messaging';
import { AsyncApiController } from './asyncapi.controller';
import { ConferenceEventsHub } from './conference-events.hub';
import { ConferencesController } from './conferences.controller';
import type { GatewayConfig } from './config';
import { DemoController } from './demo.controller';
import { DevSignInController } from './dev-sign-in.controller';
import { EndpointSessions } from './endpoint-sessions';
import { HealthController } from './health.controller';
import { HttpErrorFilter } from './http-error.filter';
import { IceServersController } from './ice-servers.controller';
import { LongPollSessions } from './long-poll-sessions';
import { Metrics } from './metrics';
import { OAuthController } from './oauth.controller';
import { ServicesHealth } from './services-health';
import { UserQuotas } from './user-quotas';
import { DEV_SIGN_IN, GATEWAY_CONFIG, NATS_CONNECTION, RPC_CLIENT } from './tokens';
import { UsersController } from './users.controller';

export interface GatewayModuleDeps {
  config: GatewayConfig;
  auth: AuthConfig;
  nc: NatsConnection;
}

/** Whether the demo page may hand out tokens (POST /demo/token): only while the public development secret signs them. */
export const devSignIn = (auth: AuthConfig): boolean => auth.usingDevelopmentSecret && !auth.jwks;

/** The only HTTP entry: authentication, validation, docs, and the long-poll feed. Holds no domain state. */
@Module({})
export class GatewayModule {
  static forRoot(deps: GatewayModuleDeps): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        AuthModule.forRoot(deps.auth),
        LoggerModule.forRoot({
          // Every route, in the path syntax of Nest 11's router (a bare '*' is the old syntax, warned about).
          forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
          pinoHttp: {
            level: deps.config.logLevel,
            name: 'gateway',
            transport: logTransport(deps.config.logFormat),
            // Never log bearer tokens or client secrets (browsers pass the socket's token in the query).
            redact: ['req.headers.authorization', 'req.headers.cookie', 'req.query.access_token'],
            serializers: { req: (req: { url?: string }) => ({ ...req, url: req.url?.replace(/([?&]access_token=)[^&]*/, '$1[Redacted]') }) },
            autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' },
          },
        }),
      ],
      controllers: [
        ConferencesController,
        UsersController,
        IceServersController,
        OAuthController,
        HealthController,
        DemoController,
        AsyncApiController,
        // Only with the public development secret: a real one (or an identity provider) removes the route.
        ...(devSignIn(deps.auth) ? [DevSignInController] : []),
      ],
      providers: [
        ConferenceEventsHub,
        EndpointSessions,
        LongPollSessions,
        Metrics,
        ServicesHealth,
        UserQuotas,
        { provide: GATEWAY_CONFIG, useValue: deps.config },
        { provide: DEV_SIGN_IN, useValue: devSignIn(deps.auth) },
        { provide: NATS_CONNECTION, useValue: deps.nc },
        { provide: RPC_CLIENT, useValue: new NatsRpcClient(deps.nc, deps.config.rpcTimeoutMs) },
        { provide: APP_GUARD, useExisting: AuthGuard },
        { provide: APP_PIPE, useValue: parleyValidationPipe() },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
      ],
    };
  }
}
