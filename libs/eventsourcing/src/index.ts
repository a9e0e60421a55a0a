export * from './types';
export { deciderSpec } from './decider-spec';
export { UpcasterRegistry, type Upcaster, type UpcastableEvent } from './upcasters';
export { SqlEventStore, type EventStoreOptions } from './sql-event-store';
export type { SqlDriver } from './sql-driver';
export { PostgresEventStore, type PostgresEventStoreOptions } from './postgres-event-store';
export { PgliteEventStore, type PgliteEventStoreOptions } from './pglite-event-store';
export { loadPglite } from './load-pglite';
export { createSchema, createTables } from './schema';
export { loadCheckpoint, saveCheckpoint, positionOf } from './checkpoints';
export { eventSubject, streamEventSubject, EVENTS_STREAM, EVENT_SUBJECT_PREFIX } from './event-subjects';
export { EventRelay, type EventRelayOptions, type RelayLogger, type RelayStats, type RelayStore } from './relay';
export { type DeadLetter, type DeadLetterSummary, deadLetterSummary } from './dead-letters';
export {
  encodeRelayedEvent,
  decodeRelayedEvent,
  EVENT_TYPE_HEADER,
  STREAM_ID_HEADER,
  STREAM_VERSION_HEADER,
  type RelayedEvent,
} from './relayed-event';
export { KeyedMutex } from './keyed-mutex';
export { AggregateRepository, type AggregateRepositoryOptions, type ExecuteOptions, type ExecuteResult, StaleVersionError } from './aggregate-repository';
export { LoopSleeper } from './loop-sleeper';
export { QueryParams, jsonColumn } from './sql-helpers';
