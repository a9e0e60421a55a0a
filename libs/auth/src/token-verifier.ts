import { type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { type Actor, ID_PATTERN, ParleyError, isRole, problemWithJsonStrings } from '@parley/contracts';
import type { AuthConfig } from './auth-config';
import { Claims, ISSUED_ALG, JWKS_ALGS, secretKey } from './jwt-claims';

export interface TokenVerifierOptions {
  /** Replaces the remote JWKS key source (e.g. a local JWKS built with createLocalJWKSet). */
  jwks?: JWTVerifyGetKey;
  /** Seconds of clock skew accepted on exp/nbf/iat, because the IdP's clock and ours differ slightly. Default 5. */
  clockToleranceSeconds?: number;
  /** The clock, so tests can check expiry exactly. */
  now?: () => Date;
  /** Milliseconds to wait for the JWKS endpoint before answering UNAVAILABLE. Default 5000. */
  jwksTimeoutMs?: number;
}

const unauthorized = (message: string, details?: Record<string, unknown>) => new ParleyError('UNAUTHORIZED', message, details);

/** Tokens remembered as verified (the oldest go first past this), how long at most, and the longest token remembered. */
export const VERIFIED_TOKENS = 10_000;
export const VERIFIED_TOKEN_TTL_MS = 60_000;
const VERIFIED_TOKEN_MAX_LENGTH = 8192;

/**
 * Turns a bearer token into the Actor it stands for, or fails with ParleyError('UNAUTHORIZED').
 *
 * HS256 tokens (issued by TokenIssuer or scripts/token.mjs) are checked against JWT_SECRET,
 * issuer and (when configured) audience. With JWKS_URL set, only RS256/ES256 tokens signed by a
 * key of that JWKS are accepted, and only with an `iss` and an `aud` claim (checked against
 * JWT_ISSUER and JWT_AUDIENCE, which production requires with a JWKS_URL): an HS256 token is then refused, so the well-known development
 * secret can never open a deployment that delegates to an external identity provider.
 *
 * A client sends the same token with every request, so a token that verified is remembered (the
 * whole token, signature included, is the key: another token never matches it) and answered
 * from memory until it expires, for at most VERIFIED_TOKEN_TTL_MS (a key removed from the JWKS
 * stops working as soon as jose's own key cache would notice); a token past its `exp` is checked
 * again, and refused. At most VERIFIED_TOKENS are remembered.
 */
export class TokenVerifier {
  private readonly getKey?: JWTVerifyGetKey;
  private readonly secret?: Uint8Array;
  private readonly baseOptions: JWTVerifyOptions;
  private readonly now: () => Date;
  private readonly clients: AuthConfig['clients'];
  private readonly verified = new Map<string, { actor: Actor; until: number }>();

  constructor(config: AuthConfig, options: TokenVerifierOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.clients = config.clients;
    const common: JWTVerifyOptions = { clockTolerance: options.clockToleranceSeconds ?? 5, requiredClaims: ['exp'] };
    if (config.jwks) {
      // createRemoteJWKSet caches the keys and refetches (rate limited) when an unknown kid shows up,
      // so key rotation at the IdP needs no restart.
      this.getKey = options.jwks ?? createRemoteJWKSet(new URL(config.jwks.url), { timeoutDuration: options.jwksTimeoutMs ?? 5000 });
      this.baseOptions = {
        ...common,
        // An identity provider issues tokens for many applications: one without an issuer and an
        // audience cannot say it was meant for this API, so both must be there (and, when
        // JWT_ISSUER/JWT_AUDIENCE are set, as production requires, equal to them).
        requiredClaims: ['exp', 'iss', 'aud'],
        algorithms: JWKS_ALGS,
        ...(config.jwks.issuer ? { issuer: config.jwks.issuer } : {}),
        ...(config.jwks.audience ? { audience: config.jwks.audience } : {}),
      };
    } else {
      this.secret = secretKey(config.jwtSecret);
      this.baseOptions = {
        ...common,
        algorithms: [ISSUED_ALG],
        issuer: config.issuer,
        ...(config.audience ? { audience: config.audience } : {}),
      };
    }
  }

  /** How many verified tokens are remembered now (at most VERIFIED_TOKENS). */
  get remembered(): number {
    return this.verified.size;
  }

  async verify(token: string): Promise<Actor> {
    if (typeof token !== 'string' || token.trim() === '') throw unauthorized('Missing access token');
    const now = this.now();
    const known = this.verified.get(token);
    if (known && now.getTime() < known.until) return known.actor;
    if (known) this.verified.delete(token);
    const options: JWTVerifyOptions = { ...this.baseOptions, currentDate: now };
    let payload: JWTPayload;
    try {
      payload = this.getKey ? (await jwtVerify(token, this.getKey, options)).payload : (await jwtVerify(token, this.secret as Uint8Array, options)).payload;
    } catch (e) {
      throw translate(e, this.getKey !== undefined);
    }
    // Every request with this token gets this same object: frozen, so none can change another's.
    const checked = this.actsForChecked(actorFrom(payload));
    const actor = Object.freeze({ ...checked, roles: Object.freeze([...checked.roles]), ...(checked.actsFor ? { actsFor: Object.freeze([...checked.actsFor]) } : {}) }) as Actor;
    const until = Math.min((payload.exp as number) * 1000, now.getTime() + VERIFIED_TOKEN_TTL_MS);
    if (token.length <= VERIFIED_TOKEN_MAX_LENGTH && until > now.getTime()) {
      if (this.verified.size >= VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, { actor, until });
    }
    return actor;
  }

  /**
   * Acting for other organizations is granted by OAUTH_CLIENTS, nowhere else: an identity
   * provider's token never carries it across (whatever its claims say), and a client's token
   * keeps only what its configuration grants now (an organization removed there stops at once).
   */
  private actsForChecked(actor: Actor): Actor {
    if (!actor.actsFor) return actor;
    const { actsFor, ...rest } = actor;
    if (this.getKey) return rest;
    const client = this.clients.find((c) => c.id === actor.userId);
    const granted = client ? actsFor.filter((o) => client.actsFor.includes(o)) : actsFor;
    return granted.length ? { ...rest, actsFor: granted } : rest;
  }
}

/** Maps jose's failures to messages a client developer can act on, without leaking key material. */
const translate = (e: unknown, usesJwks: boolean): ParleyError => {
  if (e instanceof errors.JWTExpired) return unauthorized('Access token expired; request a new one');
  if (e instanceof errors.JWTClaimValidationFailed) {
    const claim = e.claim;
    if (e.reason === 'missing') return unauthorized(`Access token lacks the "${claim}" claim`, { claim });
    if (claim === 'iss') return unauthorized('Access token was issued by an issuer this server does not accept', { claim });
    if (claim === 'aud') return unauthorized('Access token is not meant for this audience', { claim });
    if (claim === 'nbf') return unauthorized('Access token is not valid yet', { claim });
    return unauthorized(`Access token claim "${claim}" is invalid`, { claim });
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return unauthorized('Access token signature is invalid');
  if (e instanceof errors.JOSEAlgNotAllowed) return unauthorized('Access token is signed with an algorithm this server does not accept');
  if (e instanceof errors.JWKSNoMatchingKey) return unauthorized('Access token is signed with a key this server does not know');
  if (e instanceof errors.JWKSMultipleMatchingKeys) return unauthorized('Access token does not say which key signed it (several keys match; set "kid")');
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid || e instanceof errors.JOSENotSupported) {
    return unauthorized('Access token is malformed; expected a signed JWT');
  }
  // With a JWKS, what remains is the endpoint failing (timeout, non-200, bad JSON, refused
  // connection, a broken key): not the caller's fault, so it must not look like a bad token.
  // Duck-typed, not instanceof Error: node's socket errors can come from another realm (jest's vm).
  if (usesJwks && typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') {
    return new ParleyError('UNAVAILABLE', `Cannot verify the access token: the key set (JWKS) is unavailable (${(e as { message: string }).message})`);
  }
  return unauthorized('Access token could not be verified');
};

const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

const actorFrom = (payload: JWTPayload): Actor => {
  const userId = payload[Claims.userId];
  const organizationId = payload[Claims.organizationId];
  const roles = payload[Claims.roles];
  if (!nonEmptyString(userId)) throw unauthorized(`Access token lacks the "${Claims.userId}" (user id) claim`, { claim: Claims.userId });
  if (userId.length > 256 || problemWithJsonStrings(userId)) throw unauthorized(`Access token's "${Claims.userId}" claim must be at most 256 storable characters`, { claim: Claims.userId });
  if (!nonEmptyString(organizationId)) {
    throw unauthorized(`Access token lacks the "${Claims.organizationId}" claim`, { claim: Claims.organizationId });
  }
  // It names the organization's streams and NATS subjects: no '.', '*', '>', '/' or spaces.
  if (!ID_PATTERN.test(organizationId)) {
    throw unauthorized(`Access token's "${Claims.organizationId}" claim must be 1 to 128 letters, digits, "-" or "_"`, { claim: Claims.organizationId });
  }
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) {
    throw unauthorized(`Access token lacks the "${Claims.roles}" claim (an array of role names)`, { claim: Claims.roles });
  }
  const actsFor = payload[Claims.actsFor];
  if (actsFor !== undefined && !(Array.isArray(actsFor) && actsFor.every((o) => typeof o === 'string' && ID_PATTERN.test(o)))) {
    throw unauthorized(`Access token's "${Claims.actsFor}" claim must be a list of organization ids`, { claim: Claims.actsFor });
  }
  // Parley's roles only, each exactly: anything else an identity provider adds (offline_access)
  // is no role here, and "CUSTOMER,SERVICE" is one unknown string, never two roles.
  return { userId, organizationId, roles: [...new Set(roles.filter(isRole))], ...(actsFor?.length ? { actsFor: [...new Set(actsFor as string[])] } : {}) };
};
