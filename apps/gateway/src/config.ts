import { type Setting, type SettingsOf, SettingError, int, optional, readSettings, text } from '@parley/messaging';
import { platformSettings } from '@parley/service-kit';
import { type SigningKey, parseSigningKeys, storageSettings } from '@parley/storage';

/**
 * Which proxies' X-Forwarded-For to believe (TRUST_PROXY): unset, none (the client address is
 * the connection's, so nobody can pick their own rate-limit key); `true`, any; a number, that
 * many hops; otherwise a comma-separated list of proxy addresses or CIDRs.
 */
const trustProxy: Setting<boolean | number | string[]> = {
  env: 'TRUST_PROXY',
  doc: "the proxies whose X-Forwarded-For is believed: true, a number of hops, or comma-separated addresses/CIDRs; unset: none",
  defaultText: '',
  read(raw) {
    const value = raw?.trim();
    if (!value || value === 'false') return false;
    if (value === 'true') return true;
    if (/^\d+$/.test(value)) return Number(value);
    return value
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  },
};

/**
 * Who may read the OpenAPI and AsyncAPI documents and Swagger UI (API_DOCS): `public`, anyone;
 * `off`, nobody (404). Unset: public in development mode, off in production, where they would
 * hand an attacker the map of every route.
 */
const apiDocs: Setting<'public' | 'off' | undefined> = {
  env: 'API_DOCS',
  doc: 'public: /rtc-api/docs (Swagger UI, openapi.json, asyncapi.json) answers anyone; off: 404; unset: public in development mode, off in production',
  defaultText: '',
  read(raw) {
    const value = raw?.trim();
    if (!value) return undefined;
    if (value === 'public' || value === 'off') return value;
    throw new SettingError(`API_DOCS must be one of public, off, got "${raw}"`);
  },
};

/**
 * The keys of the signed download URLs (SIGNED_URL_KEYS): `<key id>:<secret, base64>`, comma-
 * separated, the signing key first (the others still verify the URLs they signed: a rotation).
 * Unset: none, which production refuses (checkGatewaySettings) and development replaces with a
 * public development key.
 */
const signedUrlKeys: Setting<SigningKey[] | undefined> = {
  env: 'SIGNED_URL_KEYS',
  doc: 'the keys of signed download URLs, <key id>:<secret, base64 of at least 32 bytes>, comma-separated, the signing key first (npm run -s secrets makes one); required in production',
  secret: true,
  defaultText: '',
  read(raw) {
    if (raw === undefined || raw.trim() === '') return undefined;
    try {
      return parseSigningKeys(raw);
    } catch (e) {
      throw new SettingError((e as Error).message);
    }
  },
};

/** Origins, comma-separated (SIGNED_URL_ORIGINS): each `scheme://host[:port]`. */
const origins: Setting<string[]> = {
  env: 'SIGNED_URL_ORIGINS',
  doc: "the origins whose pages may ask for signed URLs (their Referer), comma-separated; unset: the gateway's own (PUBLIC_URL, or the request's)",
  defaultText: '',
  read(raw) {
    const list = (raw ?? '').split(',').map((x) => x.trim()).filter(Boolean);
    return list.map((o) => {
      let url: URL;
      try {
        url = new URL(o);
      } catch {
        throw new SettingError(`SIGNED_URL_ORIGINS: ${JSON.stringify(o)} is not an origin (scheme://host[:port])`);
      }
      if (url.origin !== o.replace(/\/$/, '')) throw new SettingError(`SIGNED_URL_ORIGINS: ${JSON.stringify(o)} is not an origin (scheme://host[:port], no path)`);
      return url.origin;
    });
  },
};

/** The gateway's settings, declared like every service's (the same naming scheme, read and reported the same way). */
export const gatewaySettings = {
  mode: platformSettings.mode,
  host: text('HOST', '0.0.0.0', 'the HTTP bind address'),
  port: int('PORT', 8080, 'the HTTP port (0: any free one)', { min: 0, max: 65535 }),
  /** Prometheus scrapes a listener of its own, never the public port. */
  metricsHost: text('METRICS_HOST', '127.0.0.1', 'the bind address of the metrics listener (GET /metrics); 0.0.0.0 only on a network the public cannot reach'),
  metricsPort: int('METRICS_PORT', 9464, 'the port of the metrics listener (GET /metrics; 0: any free one)', { min: 0, max: 65535 }),
  apiDocs,
  natsUrl: platformSettings.natsUrl,
  natsUser: platformSettings.natsUser,
  natsPassword: platformSettings.natsPassword,
  identityKey: platformSettings.identityKey,
  trustedKeys: platformSettings.trustedKeys,
  logLevel: platformSettings.logLevel,
  logFormat: platformSettings.logFormat,
  dataDir: platformSettings.dataDir,
  /** Where uploads are streamed to and downloads read from (the snapshot service reads the same). */
  ...storageSettings,
  uploadTimeoutMs: int('UPLOAD_TIMEOUT_MS', 600_000, 'the longest an upload may take to arrive; a slower one is cut off and nothing is kept (the snapshot service\'s BLOB_SWEEP_AGE_MS must stay well above it)', { min: 1000 }),
  signedUrlKeys,
  signedUrlTtlSeconds: int('SIGNED_URL_TTL_SECONDS', 3600, 'how long a signed download URL works', { min: 1, max: 7 * 24 * 3600 }),
  signedUrlOrigins: origins,
  publicUrl: optional('PUBLIC_URL', "the gateway's public origin (e.g. https://video.example.com): signed URLs are built on it; unset: the request's own scheme and Host"),
  bodyLimitBytes: int('BODY_LIMIT_BYTES', 256 * 1024, 'the largest request body; larger is 413'),
  longPollTimeoutMs: int('LONG_POLL_TIMEOUT_MS', 5000, 'how long a long poll waits for an event before it answers []'),
  rpcTimeoutMs: int('RPC_TIMEOUT_MS', 15000, 'upper bound on a request to a service over NATS'),
  trustProxy,
  /** Requests per window: one client cannot starve the others, nor guess secrets at speed. */
  rateLimits: {
    windowMs: int('RATE_LIMIT_WINDOW_MS', 60_000, 'the window the rate limits count in, in ms'),
    perToken: int('RATE_LIMIT_PER_TOKEN', 1200, 'requests per window with one bearer token'),
    perAddress: int('RATE_LIMIT_PER_ADDRESS', 6000, 'requests per window from one client address'),
    tokenPerClient: int('RATE_LIMIT_TOKEN_PER_CLIENT', 30, 'POST /oauth/token requests per window naming one client id'),
    tokenPerAddress: int('RATE_LIMIT_TOKEN_PER_ADDRESS', 60, 'POST /oauth/token requests per window from one address'),
  },
  /** What one user may hold on one gateway at once. */
  quotas: {
    parkedPolls: int('QUOTA_USER_PARKED_POLLS', 20, 'long polls one user may have waiting'),
    pollSessions: int('QUOTA_USER_POLL_SESSIONS', 20, 'endpoint long-poll sessions one user may hold'),
    sockets: int('QUOTA_USER_SOCKETS', 20, 'WebSocket push channels one user may hold'),
    uploads: int('QUOTA_USER_UPLOADS', 4, 'uploads (snapshots, file transfers, assets) one user may stream at once'),
  },
};

export type GatewayConfig = SettingsOf<typeof gatewaySettings>;

/** Whether /rtc-api/docs is served: API_DOCS when set, else only in development mode. */
export const apiDocsPublic = (config: Pick<GatewayConfig, 'mode' | 'apiDocs'>): boolean => (config.apiDocs ?? (config.mode === 'development' ? 'public' : 'off')) === 'public';
export type RateLimits = GatewayConfig['rateLimits'];
export type GatewayQuotaSettings = GatewayConfig['quotas'];

export function gatewayConfigFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return readSettings(gatewaySettings, env);
}
