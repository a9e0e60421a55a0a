import { nanos, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from 'nats';
import { EVENTS_STREAM, EVENT_SUBJECT_PREFIX } from './event-subjects';

export interface EnsureEventsStreamOptions {
  /** Default PARLEY_EVENTS. */
  name?: string;
  /** Default 1; production runs R3. */
  replicas?: number;
  /** How long messages are kept, in ms; default 0 (for ever). */
  maxAgeMs?: number;
  /** The window in which a repeated Nats-Msg-Id is dropped, in ms; default 10 minutes. */
  duplicateWindowMs?: number;
}

/** JetStream's error code for "stream name already in use with a different configuration". */
const STREAM_NAME_IN_USE = 10058;

function apiErrorCode(err: unknown): number | undefined {
  return (err as { api_error?: { err_code?: number } })?.api_error?.err_code;
}

/**
 * Creates the events stream, or brings an existing one to this configuration. Safe to call
 * from every service at start-up: creating a stream that exists with the same configuration
 * succeeds, and a differing one is updated.
 *
 * The duplicate window is what makes relaying idempotent: the relay publishes with
 * Nats-Msg-Id = event id, so an event published again after a crash is dropped.
 */
export async function ensureEventsStream(jsm: JetStreamManager, options: EnsureEventsStreamOptions = {}): Promise<StreamInfo> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: options.name ?? EVENTS_STREAM,
    subjects: [`${EVENT_SUBJECT_PREFIX}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    num_replicas: options.replicas ?? 1,
    max_age: nanos(options.maxAgeMs ?? 0),
    duplicate_window: nanos(options.duplicateWindowMs ?? 10 * 60 * 1000),
  };
  try {
    return await jsm.streams.add(config);
  } catch (err) {
    if (apiErrorCode(err) !== STREAM_NAME_IN_USE) throw err;
    const { name, storage: _storage, ...update } = config; // the storage type of a stream cannot change
    return jsm.streams.update(name, update);
  }
}
