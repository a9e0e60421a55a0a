import type { Kit } from '@parley/service-kit';
import { int } from '@parley/service-kit';
import { DEFAULT_CONFERENCE_QUOTAS } from './domain/decider';

/** The conference service's own settings (the platform's come with the kit). */
export const conferenceSettings = {
  mediaTimeoutMs: int('MEDIA_TIMEOUT_MS', 10_000, 'upper bound on the publish/view/ICE/bitrate calls to the media service'),
  presenceTimeoutMs: int('PRESENCE_TIMEOUT_MS', 5000, "upper bound on the join's question to the presence service (who registered the endpoint)"),
  cacheSize: int('CONFERENCE_CACHE_SIZE', 10_000, 'conferences whose state is kept in memory between commands'),
  quotas: {
    participants: int('QUOTA_CONFERENCE_PARTICIPANTS', DEFAULT_CONFERENCE_QUOTAS.participants, 'participants one conference may have at once'),
    publicationsPerParticipant: int('QUOTA_PARTICIPANT_PUBLICATIONS', DEFAULT_CONFERENCE_QUOTAS.publicationsPerParticipant, 'streams one participant may publish at once'),
    viewsPerParticipant: int('QUOTA_PARTICIPANT_VIEWS', DEFAULT_CONFERENCE_QUOTAS.viewsPerParticipant, 'streams one participant may view at once'),
    transports: int('QUOTA_CONFERENCE_TRANSPORTS', DEFAULT_CONFERENCE_QUOTAS.transports, 'publications plus views one conference may hold'),
    activeConferencesPerUser: int('QUOTA_USER_ACTIVE_CONFERENCES', DEFAULT_CONFERENCE_QUOTAS.activeConferencesPerUser, 'unended conferences one user may have created'),
  },
};

export type ConferenceKit = Kit<typeof conferenceSettings>;
