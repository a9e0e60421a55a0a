import { envInt } from '@parley/messaging';
/** The gateway's settings, from the environment (see the README's table). */
export interface GatewayConfig {
  host: string;
  port: number;
  natsUrl: string;
  logLevel: string;
  /** Largest accepted request body; larger ones are 413. */
  bodyLimitBytes: number;
  /** How long GET /conferences/{id}/events waits for a new event before answering []. */
  longPollTimeoutMs: number;
  /** Upper bound on a request to a service over NATS. */
  rpcTimeoutMs: number;
}

export function gatewayConfigFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const int = (name: string, dflt: number, min = 1) => envInt(env, name, dflt, min);
  return {
    host: env.HOST || '0.0.0.0',
    port: int('PORT', 8080, 0),
    natsUrl: env.NATS_URL || 'nats://127.0.0.1:4222',
    logLevel: env.LOG_LEVEL || 'info',
    bodyLimitBytes: int('BODY_LIMIT_BYTES', 1024 * 1024),
    longPollTimeoutMs: int('LONG_POLL_TIMEOUT_MS', 5000),
    rpcTimeoutMs: int('RPC_TIMEOUT_MS', 15000),
  };
}
