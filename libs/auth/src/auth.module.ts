import { type DynamicModule, Logger, Module } from '@nestjs/common';
import type { AuthConfig } from './auth-config';
import { AuthGuard } from './auth.guard';
import { TokenIssuer } from './token-issuer';
import { TokenVerifier } from './token-verifier';

/** Injection token of the AuthConfig given to AuthModule.forRoot. */
export const AUTH_CONFIG = Symbol('AUTH_CONFIG');

/**
 * Provides TokenVerifier, TokenIssuer and AuthGuard (global, so an APP_GUARD declared in the
 * gateway's root module can inject them). The guard is not registered as APP_GUARD here: the
 * app decides, and tests can mount the module without guarding everything.
 */
@Module({})
export class AuthModule {
  static forRoot(config: AuthConfig): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      providers: [
        {
          provide: AUTH_CONFIG,
          useFactory: (): AuthConfig => {
            if (config.usingDevelopmentSecret) {
              // The default secret is public (it is in the source), so anyone can mint tokens it accepts.
              new Logger('AuthModule').warn(
                config.jwks
                  ? 'JWT_SECRET is not set: tokens issued by this server (client credentials) use the public development secret'
                  : 'JWT_SECRET is not set: using the public development secret; anyone can mint accepted tokens. Set JWT_SECRET outside development.',
              );
            }
            return config;
          },
        },
        { provide: TokenVerifier, useFactory: (c: AuthConfig) => new TokenVerifier(c), inject: [AUTH_CONFIG] },
        { provide: TokenIssuer, useFactory: (c: AuthConfig) => new TokenIssuer(c), inject: [AUTH_CONFIG] },
        AuthGuard,
      ],
      exports: [AUTH_CONFIG, TokenVerifier, TokenIssuer, AuthGuard],
    };
  }
}
