import { defineService } from '@parley/service-kit';
import { endpointReactions } from './reactions.consumer';
import { snapshotPushes } from './snapshot-pushes.consumer';
import { presenceChatSessions } from './infra/chat-session-audiences';
import { presenceEndpoints, presenceParticipations } from './infra/presence-views';
import { PresenceController } from './presence.controller';
import { PresenceService } from './presence.service';
import { DeadlineScheduler } from './scheduler';
import { presenceSettings } from './settings';

/**
 * The presence service: the UserEndpoint aggregate (register, keepalive, expiry) and its view,
 * which endpoint is joined to which conference (from the conference's events), user sendEvent,
 * what follows from its own events, the pushes of chat sessions' changes to their participants
 * (`presence_chat_sessions`, from the interaction service's events), the pushes of snapshots,
 * camera requests and file transfers to the endpoints they concern, and the deadline scheduler.
 */
export const presenceService = defineService({
  name: 'presence',
  settings: presenceSettings,
  eventStore: { projections: [presenceEndpoints, presenceParticipations, presenceChatSessions] },
  controllers: [PresenceController],
  providers: [PresenceService, DeadlineScheduler],
  consumers: (kit) => [endpointReactions(kit), ...snapshotPushes(kit)],
  start: (_kit, app) => [app.get(DeadlineScheduler).start()],
});
