import { join } from 'node:path';
import { envInt } from '@parley/messaging';
import { type ConferenceQuotas, DEFAULT_CONFERENCE_QUOTAS } from './domain/decider';

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
  /** Upper bound on the join's question to the presence service (who registered the endpoint). */
  presenceTimeoutMs: number;
  /** What one conference and one user may hold (QUOTA_*). */
  quotas: ConferenceQuotas;
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
    presenceTimeoutMs: int('PRESENCE_TIMEOUT_MS', 5000),
    quotas: {
      participants: int('QUOTA_CONFERENCE_PARTICIPANTS', DEFAULT_CONFERENCE_QUOTAS.participants),
      publicationsPerParticipant: int('QUOTA_PARTICIPANT_PUBLICATIONS', DEFAULT_CONFERENCE_QUOTAS.publicationsPerParticipant),
      viewsPerParticipant: int('QUOTA_PARTICIPANT_VIEWS', DEFAULT_CONFERENCE_QUOTAS.viewsPerParticipant),
      transports: int('QUOTA_CONFERENCE_TRANSPORTS', DEFAULT_CONFERENCE_QUOTAS.transports),
      activeConferencesPerUser: int('QUOTA_USER_ACTIVE_CONFERENCES', DEFAULT_CONFERENCE_QUOTAS.activeConferencesPerUser),
    },
    relayPollMs: int('RELAY_POLL_MS', 250),
    stateCacheSize: int('CONFERENCE_CACHE_SIZE', 10_000),
    eventsStreamReplicas: int('EVENTS_STREAM_REPLICAS', 1),
  };
}
