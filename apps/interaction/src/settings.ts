import type { Kit } from '@parley/service-kit';
import { int } from '@parley/service-kit';

/** The interaction service's own settings (the platform's come with the kit). */
export const interactionSettings = {
  cacheSize: int('INTERACTION_CACHE_SIZE', 10_000, 'interactions whose state is kept in memory between commands'),
};

export type InteractionKit = Kit<typeof interactionSettings>;
