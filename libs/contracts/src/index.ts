export * from './subjects';
export * from './errors';
export * from './limits';
export * from './actor';
export * from './access';
export * from './validation';
export * from './media';
export * from './conference';
export * from './presence';
export * from './interaction';
export * from './chat-session';
export * from './snapshot';
export * from './published-events';

import { conferenceUpcasters } from './conference/upcasters';
/** Every upcaster of every published event type: the one list stores and consumers read with. */
export const eventUpcasters = [...conferenceUpcasters];
export * from './services';
