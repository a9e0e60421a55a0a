import { defineService } from '@parley/service-kit';
import { ConferenceController } from './conference.controller';
import { ConferenceService } from './conference.service';
import { MIGRATE_LEGACY_STREAMS, conferenceViews } from './infra/conference-views';
import { conferenceSettings } from './settings';

/** The conference service: the Conference aggregate, its view (`conference_views`), its NATS handlers. */
export const conferenceService = defineService({
  name: 'conference',
  settings: conferenceSettings,
  eventStore: { projections: [conferenceViews], migrations: [MIGRATE_LEGACY_STREAMS] },
  controllers: [ConferenceController],
  providers: [ConferenceService],
});
