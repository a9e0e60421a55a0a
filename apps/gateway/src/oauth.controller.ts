import { Body, Controller, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiProperty, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { OAuthError, TokenIssuer, parseBasicAuth } from '@parley/auth';
import { PublicRoute } from './access';

class TokenResponse {
  @ApiProperty() access_token!: string;
  @ApiProperty({ example: 'Bearer' }) token_type!: string;
  @ApiProperty({ description: 'Seconds until the token expires.' }) expires_in!: number;
}

class TokenRequest {
  @ApiProperty({ example: 'client_credentials' }) grant_type!: string;
  @ApiProperty({ required: false, description: 'Or use HTTP Basic authentication.' }) client_id?: string;
  @ApiProperty({ required: false }) client_secret?: string;
  @ApiProperty({ required: false }) scope?: string;
}

/** The parameters of a token request, each a string when present (a JSON body could give anything). */
type TokenParams = Partial<Record<'grant_type' | 'client_id' | 'client_secret' | 'scope', string>>;

function paramsOf(body: unknown): TokenParams {
  const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const out: TokenParams = {};
  for (const name of ['grant_type', 'client_id', 'client_secret', 'scope'] as const) {
    const v = b[name];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new OAuthError('invalid_request', `${name} must be a string`);
    out[name] = v;
  }
  return out;
}

/**
 * The client's credentials (RFC 6749 §2.3.1): HTTP Basic, or client_id and client_secret in the
 * body, never both. An Authorization header that is not valid Basic is a failed authentication.
 */
function clientCredentialsOf(params: TokenParams, authorization: string | undefined): { id: string; secret: string } {
  if (authorization !== undefined && authorization.trim() !== '') {
    if (!/^\s*basic(\s|$)/i.test(authorization)) throw new OAuthError('invalid_client', 'the token endpoint authenticates clients with HTTP Basic or with client_id and client_secret in the body, not with another Authorization scheme');
    const basic = parseBasicAuth(authorization);
    if (!basic) throw new OAuthError('invalid_client', 'the Authorization header is not valid HTTP Basic credentials (base64 of client_id:client_secret)');
    if (params.client_secret !== undefined) throw new OAuthError('invalid_request', 'the client authenticated twice (HTTP Basic and client_secret in the body): use one method');
    if (params.client_id !== undefined && params.client_id !== basic.id) throw new OAuthError('invalid_request', 'client_id in the body is not the client of the Authorization header');
    return basic;
  }
  if (!params.client_id || !params.client_secret) throw new OAuthError('invalid_client', 'client authentication is missing: client_id and client_secret are required (in the body or with HTTP Basic authentication)');
  return { id: params.client_id, secret: params.client_secret };
}

/**
 * OAuth2 client-credentials grant (RFC 6749 §4.4) for the clients configured in OAUTH_CLIENTS.
 * Every refusal is RFC 6749 §5.2's `{ error, error_description }` with Cache-Control: no-store
 * (an OAuthError, answered by the error filter): a missing grant_type or a malformed request is
 * invalid_request, another grant unsupported_grant_type, a role the client may not have
 * invalid_scope (400 each), and a client that fails to authenticate invalid_client (401, with
 * WWW-Authenticate: Basic).
 */
@ApiTags('Authentication')
@Controller('oauth')
export class OAuthController {
  constructor(private readonly issuer: TokenIssuer) {}

  @Post('token')
  @PublicRoute()
  @HttpCode(200)
  @ApiOperation({ summary: 'Issues an access token for a configured client (client-credentials grant).' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: TokenRequest })
  @ApiOkResponse({ type: TokenResponse })
  @ApiBadRequestResponse({ description: 'RFC 6749 §5.2: { error: "invalid_request" | "unsupported_grant_type" | "invalid_scope", error_description }.' })
  @ApiUnauthorizedResponse({ description: 'RFC 6749 §5.2: { error: "invalid_client", error_description }, with WWW-Authenticate: Basic.' })
  @ApiTooManyRequestsResponse({ description: 'Too many token requests for this client id or from this address: { error: "temporarily_unavailable", error_description }, with Retry-After.' })
  async token(@Body() body: unknown, @Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<TokenResponse> {
    // RFC 6749 §5.1: a token is never cached (the errors say the same: sendOAuthError).
    void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const params = paramsOf(body);
    if (params.grant_type === undefined || params.grant_type === '') throw new OAuthError('invalid_request', 'grant_type is missing; this endpoint grants client_credentials');
    if (params.grant_type !== 'client_credentials') throw new OAuthError('unsupported_grant_type', 'grant_type must be client_credentials, the only grant this endpoint supports');
    const client = clientCredentialsOf(params, authorization);
    return this.issuer.clientCredentials(client.id, client.secret, params.scope);
  }
}
