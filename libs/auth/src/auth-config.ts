import { ID_PATTERN, type Role, Roles, isRole } from '@parley/contracts';

/** The well-known development secret; anyone can read it here, so a deployment must replace it. */
export const DEV_JWT_SECRET = 'parley-dev-secret-change-me';
export const DEFAULT_JWT_ISSUER = 'parley';
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

/** A client allowed to use the OAuth2 client-credentials grant (RFC 6749 4.4). */
export interface OAuthClient {
  id: string;
  secret: string;
  organizationId: string;
  roles: Role[];
  /** Other organizations it may act for (a SERVICE integration serving several); none unless configured. */
  actsFor: string[];
}

/** Verification against a remote JWKS (an external identity provider) instead of the HS256 secret. */
export interface JwksConfig {
  url: string;
  /** Checked only when JWT_ISSUER is set explicitly: the external IdP's issuer is not ours. */
  issuer?: string;
  audience?: string;
}

export interface AuthConfig {
  /** HS256 secret for the tokens Parley issues itself (and verifies, unless `jwks` is set). */
  jwtSecret: string;
  /** True when JWT_SECRET was not set and the public development secret is in use: log it loudly. */
  usingDevelopmentSecret: boolean;
  issuer: string;
  audience?: string;
  jwks?: JwksConfig;
  tokenTtlSeconds: number;
  clients: OAuthClient[];
}

/** Thrown at start-up, so the message names the variable and shows the expected shape. */
export class AuthConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** An unset variable and an empty one mean the same thing: docker-compose often passes `VAR=`. */
const read = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v ? v : undefined;
};

export const parsePositiveInt = (name: string, raw: string): number => {
  if (!/^\d+$/.test(raw) || Number(raw) <= 0 || !Number.isSafeInteger(Number(raw))) {
    throw new AuthConfigError(`${name} must be a positive whole number of seconds, got "${raw}"`);
  }
  return Number(raw);
};

/**
 * Parses OAUTH_CLIENTS: `id:secret:organizationId:ROLE1|ROLE2` entries separated by commas.
 * The id is the first field and organization and roles the last two, so a secret may itself
 * contain ':' (generated secrets sometimes do). Secrets are not echoed in error messages.
 * `organizationId` may be `home+other+…`: the client's own organization, then the others it may
 * act for (as a SERVICE: docs/access.md); without that, a client stays in its organization.
 */
export const parseOAuthClients = (raw: string | undefined): OAuthClient[] => {
  if (!raw) return [];
  const clients: OAuthClient[] = [];
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  entries.forEach((entry, index) => {
    const where = `OAUTH_CLIENTS entry ${index + 1}`;
    const fields = entry.split(':');
    if (fields.length < 4) {
      throw new AuthConfigError(`${where} must look like id:secret:organizationId:ROLE1|ROLE2 (e.g. integration:s3cret:org1:SERVICE); it has ${fields.length} field(s)`);
    }
    const id = fields[0].trim();
    const rolesField = fields[fields.length - 1].trim();
    const organizationId = fields[fields.length - 2].trim();
    const secret = fields.slice(1, -2).join(':');
    if (!id) throw new AuthConfigError(`${where} has an empty client id`);
    const what = `${where} (client "${id}")`;
    if (!secret) throw new AuthConfigError(`${what} has an empty secret`);
    if (!organizationId) throw new AuthConfigError(`${what} has an empty organizationId`);
    const [home, ...actsFor] = organizationId.split('+').map((o) => o.trim());
    const badOrganization = [home, ...actsFor].find((o) => !ID_PATTERN.test(o));
    if (badOrganization !== undefined) throw new AuthConfigError(`${what} names organization "${badOrganization}"; organization ids are 1 to 128 letters, digits, "-" or "_" (several joined by "+")`);
    const roles = rolesField
      .split('|')
      .map((r) => r.trim())
      .filter((r) => r.length > 0);
    if (roles.length === 0) throw new AuthConfigError(`${what} has no roles; expected one or more of ${Roles.join('|')}`);
    const unknown = roles.filter((r) => !isRole(r));
    if (unknown.length > 0) {
      throw new AuthConfigError(`${what} has unknown role(s) ${unknown.join(', ')}; expected one or more of ${Roles.join('|')}`);
    }
    if (clients.some((c) => c.id === id)) throw new AuthConfigError(`${what} is configured twice`);
    clients.push({ id, secret, organizationId: home, roles: roles as Role[], actsFor: [...new Set(actsFor)].filter((o) => o !== home) });
  });
  return clients;
};

/** The fewest bytes of JWT_SECRET production accepts: HS256's key is as strong as its secret (RFC 7518 §3.2 asks for 256 bits). */
export const MIN_JWT_SECRET_BYTES = 32;

/** How to make a secret, as every refusal says it. */
export const GENERATE_SECRET_HINT = 'generate one with `openssl rand -base64 48`';

/**
 * What production (PARLEY_MODE=production, the default) asks of authentication before the
 * gateway starts: tokens nobody else can mint. Either a JWT_SECRET of at least 32 bytes that is
 * not the public development secret, or an identity provider's JWKS_URL together with the
 * JWT_AUDIENCE and JWT_ISSUER its tokens must carry (then the verifier checks both). A JWT_SECRET
 * that is set is checked even beside a JWKS_URL, and the client-credentials grant (OAUTH_CLIENTS)
 * needs one, since its tokens are signed with it. Throws AuthConfigError naming the variable and
 * how to make a value; development mode (PARLEY_MODE=development) skips this check.
 */
export const checkProductionAuth = (config: AuthConfig): void => {
  const refuse = (what: string, fix: string) =>
    new AuthConfigError(`${what}: PARLEY_MODE=production (the default) refuses to start with it. ${fix} (On a development machine, PARLEY_MODE=development allows the development defaults.)`);
  const ownSecret = !config.usingDevelopmentSecret;
  if (ownSecret) {
    const bytes = Buffer.byteLength(config.jwtSecret, 'utf8');
    if (bytes < MIN_JWT_SECRET_BYTES) {
      throw refuse(`JWT_SECRET is ${bytes} bytes long, fewer than ${MIN_JWT_SECRET_BYTES}`, `Set JWT_SECRET to at least ${MIN_JWT_SECRET_BYTES} random bytes: ${GENERATE_SECRET_HINT}.`);
    }
  }
  if (config.jwks) {
    const missing = [config.jwks.audience ? undefined : 'JWT_AUDIENCE', config.jwks.issuer ? undefined : 'JWT_ISSUER'].filter((x): x is string => x !== undefined);
    if (missing.length > 0) {
      throw refuse(
        `JWKS_URL is set without ${missing.join(' and ')}`,
        'Set JWT_AUDIENCE (the audience your identity provider puts in tokens for this API) and JWT_ISSUER (its issuer), so that a token it issued for another application is refused.',
      );
    }
  } else if (!ownSecret) {
    throw refuse(
      'JWT_SECRET is not set (or is the public development secret, which anyone can read in the source)',
      `Set JWT_SECRET to at least ${MIN_JWT_SECRET_BYTES} random bytes (${GENERATE_SECRET_HINT}), or JWKS_URL with JWT_AUDIENCE and JWT_ISSUER to accept an identity provider's tokens.`,
    );
  }
  if (!ownSecret && config.clients.length > 0) {
    throw refuse('OAUTH_CLIENTS is set without a JWT_SECRET of its own', `The client-credentials grant signs its tokens with JWT_SECRET: set it to at least ${MIN_JWT_SECRET_BYTES} random bytes (${GENERATE_SECRET_HINT}).`);
  }
};

/** Reads and validates the auth settings; throws AuthConfigError with a clear message when malformed. */
export const authConfigFromEnv = (env: Env = process.env): AuthConfig => {
  const secret = read(env, 'JWT_SECRET');
  const issuerFromEnv = read(env, 'JWT_ISSUER');
  const audience = read(env, 'JWT_AUDIENCE');
  const jwksUrl = read(env, 'JWKS_URL');
  const ttlRaw = read(env, 'TOKEN_TTL_SECONDS');

  let jwks: JwksConfig | undefined;
  if (jwksUrl) {
    let url: URL;
    try {
      url = new URL(jwksUrl);
    } catch {
      throw new AuthConfigError(`JWKS_URL must be an absolute http(s) URL, got "${jwksUrl}"`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new AuthConfigError(`JWKS_URL must use http or https, got "${url.protocol}"`);
    }
    jwks = { url: url.href, ...(issuerFromEnv ? { issuer: issuerFromEnv } : {}), ...(audience ? { audience } : {}) };
  }

  return {
    jwtSecret: secret ?? DEV_JWT_SECRET,
    usingDevelopmentSecret: secret === undefined || secret === DEV_JWT_SECRET,
    issuer: issuerFromEnv ?? DEFAULT_JWT_ISSUER,
    ...(audience ? { audience } : {}),
    ...(jwks ? { jwks } : {}),
    tokenTtlSeconds: ttlRaw ? parsePositiveInt('TOKEN_TTL_SECONDS', ttlRaw) : DEFAULT_TOKEN_TTL_SECONDS,
    clients: parseOAuthClients(read(env, 'OAUTH_CLIENTS')),
  };
};
