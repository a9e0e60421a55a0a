import { defineService } from '@parley/service-kit';
import { ChatSessionController } from './chat-session.controller';
import { ChatSessionService } from './chat-session.service';
import { chatSessionViews } from './infra/chat-session-views';
import { InteractionController } from './interaction.controller';
import { InteractionService } from './interaction.service';
import { interactionConferences } from './infra/interaction-conferences';
import { interactionPairs, interactionViews } from './infra/interaction-views';
import { ratingViews } from './infra/rating-views';
import { RatingService } from './rating.service';
import { TalkdeskService } from './talkdesk.service';
import { interactionSettings } from './settings';

/** The interaction service: interactions, ratings and telemedicine chat sessions, their views (`interaction_views`, `rating_views`, `chat_session_views`, and `interaction_conferences` from the conference service's events), its NATS handlers. */
export const interactionService = defineService({
  name: 'interaction',
  settings: interactionSettings,
  // interaction_counts: what interaction_pairs' hours count now.
  eventStore: { projections: [interactionViews, interactionPairs, ratingViews, chatSessionViews, interactionConferences], retired: ['interaction_counts'] },
  controllers: [InteractionController, ChatSessionController],
  providers: [InteractionService, RatingService, TalkdeskService, ChatSessionService],
});
