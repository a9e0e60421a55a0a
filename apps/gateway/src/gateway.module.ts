import { type DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { logTransport } from '@parley/service-kit';
import type { NatsConnection } from 'nats';
import { type AuthConfig, AuthGuard, AuthModule } from '@parley/auth';
import { type CallerAssertions, NatsRpcClient, parleyValidationPipe } from '@parley/messaging';
import { AssetsController } from './assets.controller';
import { AsyncApiController } from './asyncapi.controller';
import { ConferenceEventsHub } from './conference-events.hub';
import { ChatSessionsController } from './chat-sessions.controller';
import { ConferencesController } from './conferences.controller';
import { type GatewayConfig, apiDocsPublic } from './config';
import { DemoController } from './demo.controller';
import { DevSignInController } from './dev-sign-in.controller';
import { EndpointSessions } from './endpoint-sessions';
import { FileTransfersController } from './file-transfers.controller';
import { GatewayFiles } from './files';
import { HealthController } from './health.controller';
import { HttpErrorFilter } from './http-error.filter';
import { IceServersController } from './ice-servers.controller';
import { InteractionsController } from './interactions.controller';
import { RatingsController } from './ratings.controller';
import { SnapshotsController } from './snapshots.controller';
import { TalkdeskController } from './talkdesk.controller';
import { redactRequest, redactResponse } from './log-redaction';
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
  /** Signs the callers it sends to the services. */
  assertions: CallerAssertions;
}

/**
 * Whether the demo page may hand out tokens (POST /demo/token): only in development mode
 * (PARLEY_MODE=development), and only while the public development secret signs them.
 */
export const devSignIn = (auth: AuthConfig, mode: GatewayConfig['mode']): boolean => mode === 'development' && auth.usingDevelopmentSecret && !auth.jwks;

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
            // Never log a credential: tokens and secrets in the query (browsers pass the socket's
            // token there), the body, the Authorization header, cookies (docs/security.md). pino
            // applies these serializers to every `req` and `res` it logs, the request logger's
            // bindings included; pino's `redact` paths (under `req.` and `res.`) would only redo
            // their work, and cost more than the rest of the request's logging (they copy the
            // request's bindings at each request, whatever the level).
            serializers: { req: redactRequest, res: redactResponse },
            autoLogging: { ignore: (req) => req.url === '/health' },
          },
        }),
      ],
      controllers: [
        ConferencesController,
        InteractionsController,
        RatingsController,
        TalkdeskController,
        ChatSessionsController,
        SnapshotsController,
        FileTransfersController,
        AssetsController,
        UsersController,
        IceServersController,
        OAuthController,
        HealthController,
        DemoController,
        // The API's documents only where they are public (API_DOCS; development mode by default).
        ...(apiDocsPublic(deps.config) ? [AsyncApiController] : []),
        // Only in development mode with the public development secret: otherwise the route does not exist.
        ...(devSignIn(deps.auth, deps.config.mode) ? [DevSignInController] : []),
      ],
      providers: [
        ConferenceEventsHub,
        EndpointSessions,
        GatewayFiles,
        LongPollSessions,
        Metrics,
        ServicesHealth,
        UserQuotas,
        { provide: GATEWAY_CONFIG, useValue: deps.config },
        { provide: DEV_SIGN_IN, useValue: devSignIn(deps.auth, deps.config.mode) },
        { provide: NATS_CONNECTION, useValue: deps.nc },
        { provide: RPC_CLIENT, useValue: new NatsRpcClient(deps.nc, deps.assertions, { timeoutMs: deps.config.rpcTimeoutMs, forwardTransactionIds: true }) },
        { provide: APP_GUARD, useExisting: AuthGuard },
        { provide: APP_PIPE, useValue: parleyValidationPipe() },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
      ],
    };
  }
}
