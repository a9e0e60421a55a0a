import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { SignJWT } from 'jose';
import { ParleyError } from '@parley/contracts';
import type { AuthConfig, OAuthClient } from './auth-config';
import { Claims, ISSUED_ALG, secretKey } from './jwt-claims';
import { OAuthError } from './oauth-error';

export interface IssueTokenInput {
  userId: string;
  organizationId: string;
  roles: string[];
  /** Other organizations it may act for (see OAuthClient.actsFor). */
  actsFor?: string[];
  /** Defaults to TOKEN_TTL_SECONDS. */
  ttlSeconds?: number;
}

/** The OAuth2 access token response (RFC 6749 5.1). */
export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  /** Present when the client asked for a scope: the roles actually granted, space separated. */
  scope?: string;
}

export interface TokenIssuerOptions {
  /** The clock, so tests can mint tokens that are already expired. */
  now?: () => Date;
}

/** SHA-256 first so both sides have the same length: timingSafeEqual then leaks neither content nor length. */
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
const constantTimeEqual = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

const badRequest = (message: string) => new ParleyError('BAD_REQUEST', message);

/**
 * Mints Parley's own HS256 access tokens: for the OAuth2 client-credentials endpoint and for
 * development/test tooling. Claims must stay in step with scripts/token.mjs.
 */
export class TokenIssuer {
  private readonly key: Uint8Array;
  private readonly now: () => Date;

  constructor(
    private readonly config: AuthConfig,
    options: TokenIssuerOptions = {},
  ) {
    this.key = secretKey(config.jwtSecret);
    this.now = options.now ?? (() => new Date());
  }

  async issue(input: IssueTokenInput): Promise<IssuedToken> {
    const { userId, organizationId, roles } = input;
    const ttl = input.ttlSeconds ?? this.config.tokenTtlSeconds;
    if (typeof userId !== 'string' || userId === '') throw badRequest('Cannot issue a token without a user id');
    if (typeof organizationId !== 'string' || organizationId === '') throw badRequest('Cannot issue a token without an organization id');
    if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string' && r !== '')) throw badRequest('Token roles must be an array of role names');
    if (!Number.isSafeInteger(ttl) || ttl <= 0) throw badRequest(`Token lifetime must be a positive whole number of seconds, got ${ttl}`);

    const iat = Math.floor(this.now().getTime() / 1000);
    const actsFor = input.actsFor ?? [];
    const jwt = new SignJWT({ [Claims.organizationId]: organizationId, [Claims.roles]: [...roles], ...(actsFor.length ? { [Claims.actsFor]: [...actsFor] } : {}) })
      .setProtectedHeader({ alg: ISSUED_ALG, typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(this.config.issuer)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .setJti(randomUUID());
    // The verifier checks the audience only when one is configured, so put it in only then.
    if (this.config.audience) jwt.setAudience(this.config.audience);
    return { access_token: await jwt.sign(this.key), token_type: 'Bearer', expires_in: ttl };
  }

  /**
   * The client-credentials grant (RFC 6749 4.4): a token whose subject is the client id, with the
   * organization and roles configured for that client in OAUTH_CLIENTS. `scope` (space separated
   * role names) narrows the roles. Refusals are OAuthErrors (RFC 6749 §5.2): an unknown client or a
   * wrong secret is invalid_client, a role the client lacks (or no role at all) invalid_scope.
   */
  async clientCredentials(clientId: string, clientSecret: string, scope?: string): Promise<IssuedToken> {
    const client = this.authenticate(clientId, clientSecret);
    if (!client) throw new OAuthError('invalid_client', 'unknown client or wrong client secret');

    const requested = (scope ?? '').split(' ').filter((s) => s.length > 0);
    if (requested.length === 0) {
      return this.issue({ userId: client.id, organizationId: client.organizationId, roles: client.roles, actsFor: client.actsFor });
    }
    const notAllowed = requested.filter((r) => !(client.roles as string[]).includes(r));
    if (notAllowed.length > 0) {
      // Never more than the scope's first few names back: the description echoes input.
      const named = notAllowed.slice(0, 5).map((r) => (r.length > 64 ? `${r.slice(0, 64)}...` : r));
      throw new OAuthError('invalid_scope', `client '${client.id}' may not request ${named.join(' ')}${notAllowed.length > 5 ? ' ...' : ''}; allowed: ${client.roles.join(' ')}`);
    }
    const roles = [...new Set(requested)];
    return { ...(await this.issue({ userId: client.id, organizationId: client.organizationId, roles, actsFor: client.actsFor })), scope: roles.join(' ') };
  }

  /**
   * Compares against every configured client, and against a dummy when none has the id, so the
   * time taken says nothing about which ids exist or how much of a secret was right.
   */
  private authenticate(clientId: string, clientSecret: string): OAuthClient | undefined {
    if (typeof clientId !== 'string' || typeof clientSecret !== 'string') return undefined;
    let found: OAuthClient | undefined;
    for (const c of this.config.clients) {
      if (constantTimeEqual(c.id, clientId) && !found) found = c;
    }
    const secretOk = constantTimeEqual(found ? found.secret : `no-such-client:${randomUUID()}`, clientSecret);
    return found && secretOk ? found : undefined;
  }
}
