import { type Setting, type SettingsOf, int, readSettings, text } from '@parley/messaging';
import { platformSettings } from '@parley/service-kit';

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

/** The gateway's settings, declared like every service's (the same naming scheme, read and reported the same way). */
export const gatewaySettings = {
  host: text('HOST', '0.0.0.0', 'the HTTP bind address'),
  port: int('PORT', 8080, 'the HTTP port (0: any free one)', { min: 0, max: 65535 }),
  natsUrl: platformSettings.natsUrl,
  logLevel: platformSettings.logLevel,
  logFormat: platformSettings.logFormat,
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
  },
};

export type GatewayConfig = SettingsOf<typeof gatewaySettings>;
export type RateLimits = GatewayConfig['rateLimits'];
export type GatewayQuotaSettings = GatewayConfig['quotas'];

export function gatewayConfigFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return readSettings(gatewaySettings, env);
}
