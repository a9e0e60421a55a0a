import { defineService } from '@parley/service-kit';
import { InteractionController } from './interaction.controller';
import { InteractionService } from './interaction.service';
import { interactionViews } from './infra/interaction-views';
import { interactionSettings } from './settings';

/** The interaction service: the Interaction aggregate, its view (`interaction_views`), its NATS handlers. */
export const interactionService = defineService({
  name: 'interaction',
  settings: interactionSettings,
  eventStore: { projections: [interactionViews] },
  controllers: [InteractionController],
  providers: [InteractionService],
});
