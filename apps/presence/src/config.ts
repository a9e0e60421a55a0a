import { join } from 'node:path';
import { envInt } from '@parley/messaging';
import { DEFAULT_PRESENCE_QUOTAS, type PresenceQuotas } from './domain/decider';

/** The presence service's settings, from the environment (see the README's table). */
export interface PresenceConfig {
  /** One NATS URL, or several of a cluster separated by commas. */
  natsUrl: string;
  /** PostgreSQL connection string; when absent the service embeds PGlite under `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  logLevel: string;
  /** How often the relay looks for committed events it was not told about (other replicas). */
  relayPollMs: number;
  /** How often the scheduler looks for endpoints with a deadline due (reminder, SICK, expiry). */
  tickMs: number;
  /** Upper bound on a request to the conference service. */
  rpcTimeoutMs: number;
  /** Endpoints whose state is kept in memory between commands. */
  stateCacheSize: number;
  /** Copies JetStream keeps of PARLEY_EVENTS and PARLEY_DELIVERY (3 on a production cluster). */
  streamReplicas: number;
  /** What one user may hold (QUOTA_*). */
  quotas: PresenceQuotas;
}

/** Where the presence service reads the time; tests pass a clock they move themselves. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

export function presenceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PresenceConfig {
  const int = (name: string, dflt: number) => envInt(env, name, dflt);
  return {
    natsUrl: env.NATS_URL || 'nats://127.0.0.1:4222',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: join(env.DATA_DIR || '.data', 'presence'),
    logLevel: env.LOG_LEVEL || 'info',
    relayPollMs: int('RELAY_POLL_MS', 250),
    tickMs: int('PRESENCE_TICK_MS', 250),
    rpcTimeoutMs: int('RPC_TIMEOUT_MS', 15_000),
    stateCacheSize: int('PRESENCE_CACHE_SIZE', 100_000),
    streamReplicas: int('EVENTS_STREAM_REPLICAS', 1),
    quotas: { endpointsPerUser: int('QUOTA_USER_ENDPOINTS', DEFAULT_PRESENCE_QUOTAS.endpointsPerUser) },
  };
}
