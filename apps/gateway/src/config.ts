import { platformSettings, readSettings } from '@parley/service-kit';
import { envInt } from '@parley/messaging';

/** Requests per window (RATE_LIMIT_*): one client cannot starve the others, nor guess secrets at speed. */
export interface RateLimits {
  /** The window the counts below are per, in ms. */
  windowMs: number;
  /** Requests per window with one bearer token. */
  perToken: number;
  /** Requests per window from one client address (behind a proxy: X-Forwarded-For). */
  perAddress: number;
  /** Token requests (POST /oauth/token) per window naming one client id. */
  tokenPerClient: number;
  /** Token requests per window from one address. */
  tokenPerAddress: number;
}

/** What one user may hold on one gateway at once (QUOTA_USER_*). */
export interface GatewayQuotaSettings {
  /** Long polls waiting (GET /conferences/{id}/events, GET /users/endpoints/{id}/events). */
  parkedPolls: number;
  /** Endpoint long-poll sessions (one per endpoint that polls instead of holding a socket). */
  pollSessions: number;
  /** WebSocket push channels (/rtc-api/ws). */
  sockets: number;
}

/** The gateway's settings, from the environment (see the README's table). */
export interface GatewayConfig {
  host: string;
  port: number;
  natsUrl: string;
  logLevel: string;
  /** JSON lines, or readable lines for a terminal (LOG_FORMAT, as every service reads it). */
  logFormat: 'json' | 'pretty';
  /** Largest accepted request body; larger ones are 413. */
  bodyLimitBytes: number;
  /** How long GET /conferences/{id}/events waits for a new event before answering []. */
  longPollTimeoutMs: number;
  /** Upper bound on a request to a service over NATS. */
  rpcTimeoutMs: number;
  /**
   * Which proxies' X-Forwarded-For to believe (TRUST_PROXY): unset, none (the client address is
   * the connection's, so nobody can pick their own rate-limit key); `true`, any; a number, that
   * many hops; otherwise a comma-separated list of proxy addresses or CIDRs.
   */
  trustProxy: boolean | number | string[];
  rateLimits: RateLimits;
  quotas: GatewayQuotaSettings;
}

export function gatewayConfigFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const int = (name: string, dflt: number, min = 1) => envInt(env, name, dflt, min);
  return {
    host: env.HOST || '0.0.0.0',
    port: int('PORT', 8080, 0),
    natsUrl: env.NATS_URL || 'nats://127.0.0.1:4222',
    logLevel: env.LOG_LEVEL || 'info',
    logFormat: readSettings({ logFormat: platformSettings.logFormat }, env).logFormat,
    bodyLimitBytes: int('BODY_LIMIT_BYTES', 256 * 1024),
    longPollTimeoutMs: int('LONG_POLL_TIMEOUT_MS', 5000),
    rpcTimeoutMs: int('RPC_TIMEOUT_MS', 15000),
    trustProxy: trustProxyFrom(env.TRUST_PROXY),
    rateLimits: {
      windowMs: int('RATE_LIMIT_WINDOW_MS', 60_000),
      perToken: int('RATE_LIMIT_PER_TOKEN', 1200),
      perAddress: int('RATE_LIMIT_PER_ADDRESS', 6000),
      tokenPerClient: int('RATE_LIMIT_TOKEN_PER_CLIENT', 30),
      tokenPerAddress: int('RATE_LIMIT_TOKEN_PER_ADDRESS', 60),
    },
    quotas: {
      parkedPolls: int('QUOTA_USER_PARKED_POLLS', 20),
      pollSessions: int('QUOTA_USER_POLL_SESSIONS', 20),
      sockets: int('QUOTA_USER_SOCKETS', 20),
    },
  };
}

function trustProxyFrom(v: string | undefined): boolean | number | string[] {
  const value = v?.trim();
  if (!value || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}
