import { DiscardPolicy, type JetStreamManager, RetentionPolicy, StorageType, type StreamConfig, type StreamInfo, nanos } from 'nats';
import { DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECT_ROOT, DELIVERY_STREAM, EVENTS_STREAM, EVENTS_SUBJECT_ROOT } from '@parley/contracts';

/**
 * Every JetStream stream Parley uses, and its settings, in one place. A service provisions them
 * at start (provisionStreams): it creates what is missing, and a stream that exists configured
 * otherwise than this says is never changed: the service says what differs and refuses to start,
 * so that one service started with other settings cannot undo what an operator set up (a cluster's
 * three replicas, say).
 */
export type StreamSettings = Pick<StreamConfig, 'name' | 'subjects' | 'retention' | 'num_replicas' | 'max_age' | 'duplicate_window' | 'discard' | 'max_msgs_per_subject'>;

export interface StreamOptions {
  /** Copies JetStream keeps of each stream (JETSTREAM_REPLICAS; 3 on a production cluster). */
  replicas: number;
}

const HOUR_MS = 3600 * 1000;

export function parleyStreams({ replicas }: StreamOptions): StreamSettings[] {
  return [
    {
      // Every committed event, published by the relays with Nats-Msg-Id = event id: the duplicate
      // window is what drops a batch a relay publishes again after a crash. Kept for ever: new
      // consumers and rebuilt projections read it from the start.
      name: EVENTS_STREAM,
      subjects: [`${EVENTS_SUBJECT_ROOT}.>`],
      retention: RetentionPolicy.Limits,
      num_replicas: replicas,
      max_age: 0,
      duplicate_window: nanos(10 * 60 * 1000),
      discard: DiscardPolicy.Old,
      max_msgs_per_subject: -1,
    },
    {
      // Deliveries waiting for an endpoint (deliverToEndpoints): qos 1 until its client acknowledges
      // them, qos 0 sent while it had no session until its next session takes them. A work queue,
      // one consumer per endpoint, at most 1,000 per endpoint (the oldest go first) and 24 h: bounds,
      // not the rule (the presence service purges an endpoint's queue when it is unregistered or expires).
      name: DELIVERY_STREAM,
      subjects: ['parley.deliverq.>'],
      retention: RetentionPolicy.Workqueue,
      num_replicas: replicas,
      max_age: nanos(24 * HOUR_MS),
      duplicate_window: nanos(2 * 60 * 1000),
      discard: DiscardPolicy.Old,
      max_msgs_per_subject: 1000,
    },
    {
      // Messages a consumer's handler kept failing on, with the error (see DurableConsumer), until
      // an operator replays or drops them (`npm run dead-letters`); kept 30 days.
      name: DEAD_LETTER_STREAM,
      subjects: [`${DEAD_LETTER_SUBJECT_ROOT}.>`],
      retention: RetentionPolicy.Limits,
      num_replicas: replicas,
      max_age: nanos(30 * 24 * HOUR_MS),
      duplicate_window: nanos(2 * 60 * 1000),
      discard: DiscardPolicy.Old,
      max_msgs_per_subject: -1,
    },
  ];
}

export class StreamConfigurationError extends Error {
  override readonly name = 'StreamConfigurationError';
}

/** What differs between the stream as it is and as it is expected, one phrase per setting. */
export function streamDifferences(actual: Partial<StreamConfig>, expected: StreamSettings): string[] {
  const out: string[] = [];
  for (const key of Object.keys(expected) as Array<keyof StreamSettings>) {
    if (key === 'name') continue;
    const want = expected[key];
    const have = actual[key];
    const same = Array.isArray(want) ? JSON.stringify([...(have as string[] | undefined ?? [])].sort()) === JSON.stringify([...want].sort()) : have === want;
    if (!same) out.push(`${key} is ${JSON.stringify(have)}, expected ${JSON.stringify(want)}`);
  }
  return out;
}

/** JetStream's "stream name already in use with a different configuration". */
const STREAM_NAME_IN_USE = 10058;
const STREAM_NOT_FOUND = 10059;
const apiErrorCode = (err: unknown): number | undefined => (err as { api_error?: { err_code?: number } })?.api_error?.err_code;

async function infoOf(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (apiErrorCode(err) === STREAM_NOT_FOUND || /stream not found/i.test(String(err))) return undefined;
    throw err;
  }
}

/**
 * Creates each of Parley's streams that is missing; checks each that exists against what is
 * expected and throws a StreamConfigurationError naming every difference (and the setting or
 * command that resolves it) instead of changing it. Safe to run from every service at once.
 */
export async function provisionStreams(jsm: JetStreamManager, options: StreamOptions): Promise<StreamInfo[]> {
  const out: StreamInfo[] = [];
  for (const expected of parleyStreams(options)) {
    let info = await infoOf(jsm, expected.name);
    if (!info) {
      try {
        info = await jsm.streams.add({ ...expected, storage: StorageType.File });
      } catch (err) {
        // Another service created it between our look and our add: check theirs like any other.
        if (apiErrorCode(err) !== STREAM_NAME_IN_USE) throw err;
        info = await infoOf(jsm, expected.name);
        if (!info) throw err;
      }
    }
    const differences = streamDifferences(info.config, expected);
    if (differences.length > 0) {
      throw new StreamConfigurationError(
        `JetStream stream ${expected.name} is configured otherwise than this service expects: ${differences.join('; ')}. ` +
          'It is left as it is. Give every service the same JETSTREAM_REPLICAS as the stream, or change the stream (nats stream edit) if the settings are what you want.',
      );
    }
    out.push(info);
  }
  return out;
}
