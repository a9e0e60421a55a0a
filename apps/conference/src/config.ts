import { join } from 'node:path';
import { envInt } from '@parley/messaging';

/** The conference service's settings, from the environment (see the README's table). */
export interface ConferenceConfig {
  /** One NATS URL, or several of a cluster separated by commas. */
  natsUrl: string;
  /** PostgreSQL connection string; when absent the service embeds PGlite under `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  logLevel: string;
  /** Upper bound on the publish/view/ICE/bitrate calls to the media service. */
  mediaTimeoutMs: number;
  /** How often the relay looks for committed events it was not told about (other replicas). */
  relayPollMs: number;
  /** Conferences whose state is kept in memory between commands. */
  stateCacheSize: number;
  /** Copies JetStream keeps of PARLEY_EVENTS (3 on a production cluster). */
  eventsStreamReplicas: number;
}

export function conferenceConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ConferenceConfig {
  const int = (name: string, dflt: number) => envInt(env, name, dflt);
  return {
    natsUrl: env.NATS_URL || 'nats://127.0.0.1:4222',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: join(env.DATA_DIR || '.data', 'conference'),
    logLevel: env.LOG_LEVEL || 'info',
    mediaTimeoutMs: int('MEDIA_TIMEOUT_MS', 10_000),
    relayPollMs: int('RELAY_POLL_MS', 250),
    stateCacheSize: int('CONFERENCE_CACHE_SIZE', 10_000),
    eventsStreamReplicas: int('EVENTS_STREAM_REPLICAS', 1),
  };
}
