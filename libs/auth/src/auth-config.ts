import { type Role, Roles, isRole } from '@parley/contracts';

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
    clients.push({ id, secret, organizationId, roles: roles as Role[] });
  });
  return clients;
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
