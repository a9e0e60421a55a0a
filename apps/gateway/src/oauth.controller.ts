import { Body, Controller, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiProperty, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ParleyError } from '@parley/contracts';
import { TokenIssuer, parseBasicAuth } from '@parley/auth';
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

/** OAuth2 client-credentials grant (RFC 6749 §4.4) for the clients configured in OAUTH_CLIENTS. */
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
  @ApiBadRequestResponse({ description: 'RFC 6749 §5.2: { error: "invalid_request" | "unsupported_grant_type", error_description }.' })
  @ApiUnauthorizedResponse({ description: 'RFC 6749 §5.2: { error: "invalid_client", error_description }.' })
  @ApiTooManyRequestsResponse({ description: 'Too many token requests for this client id or from this address: { error: "temporarily_unavailable", error_description }, with Retry-After.' })
  async token(@Body() body: unknown, @Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<TokenResponse | { error: string; error_description: string }> {
    // RFC 6749 §5.1/5.2: no caching of tokens, errors as { error, error_description }.
    void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const fail = (status: number, error: string, description: string) => {
      void reply.status(status);
      if (status === 401) void reply.header('www-authenticate', 'Basic realm="parley"');
      return { error, error_description: description };
    };
    if (b.grant_type !== 'client_credentials') return fail(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    const basic = parseBasicAuth(authorization);
    const id = basic?.id ?? (typeof b.client_id === 'string' ? b.client_id : undefined);
    const secret = basic?.secret ?? (typeof b.client_secret === 'string' ? b.client_secret : undefined);
    if (!id || !secret) return fail(401, 'invalid_client', 'client_id and client_secret are required (in the body or with HTTP Basic authentication)');
    try {
      return await this.issuer.clientCredentials(id, secret, typeof b.scope === 'string' ? b.scope : undefined);
    } catch (e) {
      if (e instanceof ParleyError && e.code === 'UNAUTHORIZED') return fail(401, 'invalid_client', e.message);
      throw e;
    }
  }
}
