export {
  type AuthConfig,
  type JwksConfig,
  type OAuthClient,
  AuthConfigError,
  DEFAULT_JWT_ISSUER,
  DEFAULT_TOKEN_TTL_SECONDS,
  DEV_JWT_SECRET,
  GENERATE_SECRET_HINT,
  MIN_JWT_SECRET_BYTES,
  authConfigFromEnv,
  checkProductionAuth,
  parseOAuthClients,
} from './auth-config';
export { Claims } from './jwt-claims';
export { TokenVerifier, type TokenVerifierOptions } from './token-verifier';
export { OAuthError, type OAuthErrorCode } from './oauth-error';
export { TokenIssuer, type IssueTokenInput, type IssuedToken, type TokenIssuerOptions } from './token-issuer';
export { parseBasicAuth, type BasicCredentials } from './basic-auth';
export { Roles, Public, CurrentActor, ROLES_KEY, IS_PUBLIC_KEY, type AuthenticatedRequest } from './decorators';
export { AuthGuard } from './auth.guard';
export { AuthModule, AUTH_CONFIG } from './auth.module';
