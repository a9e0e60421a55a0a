import { defineService } from '@parley/service-kit';
import { endpointReactions } from './reactions.consumer';
import { presenceEndpoints, presenceParticipations } from './infra/presence-views';
import { PresenceController } from './presence.controller';
import { PresenceService } from './presence.service';
import { DeadlineScheduler } from './scheduler';
import { presenceSettings } from './settings';

/**
 * The presence service: the UserEndpoint aggregate (register, keepalive, expiry) and its view,
 * which endpoint is joined to which conference (from the conference's events), user sendEvent,
 * what follows from its own events, and the deadline scheduler.
 */
export const presenceService = defineService({
  name: 'presence',
  settings: presenceSettings,
  eventStore: { projections: [presenceEndpoints, presenceParticipations] },
  controllers: [PresenceController],
  providers: [PresenceService, DeadlineScheduler],
  consumers: (kit) => [endpointReactions(kit)],
  start: (_kit, app) => [app.get(DeadlineScheduler).start()],
});
