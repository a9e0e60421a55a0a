import { type Kit, int } from '@parley/service-kit';
import { DEFAULT_PRESENCE_QUOTAS } from './domain/decider';

/** The presence service's own settings (the platform's come with the kit). */
export const presenceSettings = {
  tickMs: int('PRESENCE_TICK_MS', 250, 'how often the scheduler looks for endpoints with a deadline due (reminder, SICK, expiry)'),
  conferenceTimeoutMs: int('CONFERENCE_TIMEOUT_MS', 15_000, 'upper bound on a request to the conference service (an expiring endpoint leaves its conferences)'),
  cacheSize: int('PRESENCE_CACHE_SIZE', 100_000, 'endpoints whose state is kept in memory between commands'),
  quotas: {
    endpointsPerUser: int('QUOTA_USER_ENDPOINTS', DEFAULT_PRESENCE_QUOTAS.endpointsPerUser, 'endpoints one user may have registered at once'),
  },
};

export type PresenceKit = Kit<typeof presenceSettings>;
