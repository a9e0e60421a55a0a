import { ErrorCode, headers, type JetStreamClient, type JetStreamOptions, type NatsConnection, type PubAck } from 'nats';
import { positionOf } from './checkpoints';
import { LoopSleeper } from './loop-sleeper';
import { type DeadLetterSummary, deadLetterSummary, recordDeadLetter } from './dead-letters';
import { encodeRelayedEvent, EVENT_TYPE_HEADER, STREAM_ID_HEADER, STREAM_VERSION_HEADER } from './relayed-event';
import type { AllStreamPosition, CheckpointStore, EventStore, Leadership, RecordedEvent } from './types';

/** pino's Logger fits; so does console-like anything with these methods. */
export interface RelayLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

export type RelayStore = EventStore & CheckpointStore;

export interface EventRelayOptions {
  store: RelayStore;
  nats: NatsConnection;
  /** Names the checkpoint (`relay:<name>`) and the leadership lock, e.g. the bounded context. */
  name: string;
  /** The subject of an event, usually via eventSubject(context, id, type). */
  subjectFor(event: RecordedEvent): string;
  /** Events read and published per round. Default 256. */
  batchSize?: number;
  /** How long to wait for new events when there are none (unless kicked). Default 200 ms. */
  pollIntervalMs?: number;
  /**
   * While events keep coming, the checkpoint is saved at most this often (and always when the
   * relay goes idle or stops): a save is a commit of its own, and a crash between two saves only
   * republishes what JetStream then drops as duplicates. Default 100 ms; 0 saves every batch.
   */
  checkpointIntervalMs?: number;
  /** How often a relay that is not the leader tries to become it. Default 3 s. */
  leadershipRetryMs?: number;
  /** The longest back-off after repeated errors. Default 5 s. */
  maxBackoffMs?: number;
  logger?: RelayLogger;
  /** Passed to nc.jetstream(), e.g. a publish `timeout`. */
  jetStreamOptions?: JetStreamOptions;
}

export interface RelayStats {
  /** Events acknowledged by JetStream (including ones it dropped as duplicates). */
  published: number;
  /** Acknowledgements that said "duplicate": the event was already in the stream. */
  duplicates: number;
  /** Batches published (their checkpoint saved, or to be saved with a later one). */
  batches: number;
  errors: number;
  /** Events this process dead-lettered (could never be published; see deadLetters()). */
  deadLettered: number;
  leader: boolean;
}

/** JetStream's "message size exceeds maximum allowed" (the stream's max_msg_size). */
const JS_MESSAGE_TOO_LARGE = 10054;

/**
 * Why publishing an event can never succeed, or undefined when trying again may help (a timeout,
 * no JetStream answering, a lost connection).
 */
function permanentFailure(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown; api_error?: { err_code?: number; description?: string } };
  if (e?.code === ErrorCode.MaxPayloadExceeded) return `the message is larger than the NATS server's max_payload (${String(e.message)})`;
  if (e?.api_error?.err_code === JS_MESSAGE_TOO_LARGE) return `JetStream refused it: ${e.api_error.description ?? 'message too large'}`;
  return undefined;
}

const INITIAL_BACKOFF_MS = 100;

const consoleLogger: RelayLogger = {
  info: () => undefined,
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

/** Stands in for a lock when the store has no leadership capability: held for ever. */
const ALWAYS_LEADER: Leadership = { release: async () => undefined, lost: new Promise<void>(() => undefined) };

/**
 * Publishes every committed event, in commit order, to JetStream: the outbox pattern with the
 * events table as the outbox.
 *
 * Delivery is at least once from the relay and exactly once into the stream: a batch is
 * published, every acknowledgement awaited, and only then is the checkpoint saved. A crash in
 * between publishes the batch again on restart, and JetStream drops the repeats because each
 * message carries Nats-Msg-Id = event id (within the stream's duplicate window).
 *
 * Only the holder of the `relay:<name>` leadership publishes, so replicas of a service can all
 * run a relay; the others wait and take over when the holder dies.
 */
export class EventRelay {
  private readonly store: RelayStore;
  private readonly js: JetStreamClient;
  private readonly checkpointName: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly checkpointIntervalMs: number;
  private readonly leadershipRetryMs: number;
  private readonly maxBackoffMs: number;
  private readonly logger: RelayLogger;

  private loop?: Promise<void>;
  private stopping = false;
  private leadership?: Leadership;
  private leadershipLost = false;
  private position?: AllStreamPosition;
  /** The position published past but not saved yet, and when the checkpoint was last saved. */
  private unsaved?: AllStreamPosition;
  private savedAt = 0;
  private failing?: string;
  private readonly sleeper = new LoopSleeper();
  private readonly counters = { published: 0, duplicates: 0, batches: 0, errors: 0, deadLettered: 0 };

  constructor(private readonly options: EventRelayOptions) {
    this.store = options.store;
    this.js = options.nats.jetstream(options.jetStreamOptions);
    this.checkpointName = `relay:${options.name}`;
    this.batchSize = options.batchSize ?? 256;
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? 100;
    this.leadershipRetryMs = options.leadershipRetryMs ?? 3000;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.logger = options.logger ?? consoleLogger;
  }

  get stats(): RelayStats {
    return { ...this.counters, leader: this.leadership !== undefined && !this.leadershipLost };
  }

  /** Every event this relay (any replica of it) dead-lettered: how many, and the latest with its reason. */
  deadLetters(): Promise<DeadLetterSummary> {
    return this.store.transaction((sql) => deadLetterSummary(sql, this.options.name));
  }

  /** The error of the last round, while rounds keep failing (undefined once one succeeds). */
  get lastError(): string | undefined {
    return this.failing;
  }

  /** Starts the loop in the background. Idempotent. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run().finally(() => (this.loop = undefined));
  }

  /** Finishes the batch in flight (publish, acks, checkpoint), then gives up leadership. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper.interrupt();
    await this.loop;
    await this.saveUnsaved().catch((err: unknown) => this.logger.warn({ err }, 'event relay could not save its last checkpoint'));
    await this.resign();
  }

  /**
   * Wakes the loop now instead of at the next poll. The command path calls it right after a
   * commit, so delivery takes milliseconds. A relay that is not the leader ignores it (its
   * leadership retries keep their own pace).
   */
  kick(): void {
    this.sleeper.kick();
  }

  private async run(): Promise<void> {
    let backoffMs = INITIAL_BACKOFF_MS;
    while (!this.stopping) {
      try {
        if (this.leadershipLost) await this.resign();
        if (!this.leadership && !(await this.lead())) {
          await this.pause(this.leadershipRetryMs, false);
          continue;
        }
        this.position ??= await this.store.loadCheckpoint(this.checkpointName);
        const batch = await this.store.readAll(this.position, this.batchSize);
        if (batch.length === 0) {
          await this.saveUnsaved();
          await this.pause(this.pollIntervalMs, true);
          continue;
        }
        const dead = await this.publish(batch);
        // Whoever holds the lock now may be ahead of us; its checkpoint must not be rewound.
        if (this.leadershipLost) continue;
        const next = positionOf(batch[batch.length - 1]);
        if (dead.length > 0) await this.deadLetter(dead, next);
        else if (performance.now() - this.savedAt >= this.checkpointIntervalMs) await this.save(next);
        else this.unsaved = next;
        this.position = next;
        this.counters.batches++;
        this.failing = undefined;
        backoffMs = INITIAL_BACKOFF_MS;
      } catch (err) {
        // The checkpoint did not move, so the next round retries the same batch.
        this.counters.errors++;
        this.failing = err instanceof Error ? err.message : String(err);
        this.logger.error({ err, relay: this.options.name, retryInMs: backoffMs }, 'event relay round failed; retrying');
        await this.pause(backoffMs, false);
        backoffMs = Math.min(backoffMs * 2, this.maxBackoffMs);
      }
    }
  }

  private async save(position: AllStreamPosition): Promise<void> {
    await this.store.saveCheckpoint(this.checkpointName, position);
    this.saved();
  }

  /** The checkpoint was just saved (alone, or with dead letters). */
  private saved(): void {
    this.savedAt = performance.now();
    this.unsaved = undefined; // at or behind what was just saved: saving it later would rewind the checkpoint
  }

  /** Saves the position published past, if it was not saved yet (and this relay still leads). */
  private async saveUnsaved(): Promise<void> {
    if (this.unsaved && this.leadership && !this.leadershipLost) await this.save(this.unsaved);
    this.unsaved = undefined;
  }

  private async lead(): Promise<boolean> {
    const leadership = this.store.acquireLeadership ? await this.store.acquireLeadership(this.checkpointName) : ALWAYS_LEADER;
    if (!leadership) return false;
    this.leadership = leadership;
    this.leadershipLost = false;
    this.position = undefined; // the previous leader may have moved it
    this.unsaved = undefined;
    void leadership.lost.then(() => {
      if (this.leadership !== leadership) return;
      this.leadershipLost = true;
      this.logger.warn({ relay: this.options.name }, 'event relay lost its leadership');
      this.sleeper.interrupt();
    });
    this.logger.info({ relay: this.options.name }, 'event relay is the leader');
    return true;
  }

  private async resign(): Promise<void> {
    const leadership = this.leadership;
    this.leadership = undefined;
    this.leadershipLost = false;
    this.position = undefined;
    this.unsaved = undefined;
    await leadership?.release().catch((err: unknown) => this.logger.warn({ err }, 'event relay could not release its leadership'));
  }

  /**
   * Publishes the batch and awaits every acknowledgement. An event that can never be published
   * (no valid subject, larger than NATS or the stream accepts) is answered as a dead letter, to
   * be recorded with the checkpoint, so it cannot stop the events after it; any other failure
   * throws and the batch is tried again (JetStream drops the repeats).
   */
  private async publish(batch: RecordedEvent[]): Promise<Array<{ event: RecordedEvent; reason: string }>> {
    const dead: Array<{ event: RecordedEvent; reason: string }> = [];
    const sent: RecordedEvent[] = [];
    // All publishes go out on one connection in order, so JetStream stores them in order even
    // though the acknowledgements are awaited together.
    const acks: Array<Promise<PubAck>> = [];
    for (const event of batch) {
      let subject: string;
      let data: Uint8Array;
      try {
        subject = this.options.subjectFor(event);
        data = encodeRelayedEvent(event);
      } catch (err) {
        dead.push({ event, reason: `no subject or payload for it: ${err instanceof Error ? err.message : String(err)}` });
        continue;
      }
      const h = headers();
      h.set(EVENT_TYPE_HEADER, event.type);
      h.set(STREAM_ID_HEADER, event.streamId);
      h.set(STREAM_VERSION_HEADER, String(event.streamVersion));
      sent.push(event);
      acks.push(this.js.publish(subject, data, { msgID: event.eventId, headers: h }));
    }
    const results = await Promise.allSettled(acks);
    let retry: unknown;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        this.counters.published++;
        if (r.value.duplicate) this.counters.duplicates++;
        return;
      }
      const reason = permanentFailure(r.reason);
      if (reason) dead.push({ event: sent[i], reason });
      else retry ??= r.reason;
    });
    if (retry !== undefined) throw retry;
    return dead;
  }

  /** Records the batch's dead letters and moves the checkpoint past the batch, in one transaction. */
  private async deadLetter(dead: Array<{ event: RecordedEvent; reason: string }>, next: AllStreamPosition): Promise<void> {
    await this.store.transaction(async (sql) => {
      for (const d of dead) await recordDeadLetter(sql, this.options.name, d.event, d.reason);
      await this.store.saveCheckpoint(this.checkpointName, next, sql);
    });
    this.saved();
    this.counters.deadLettered += dead.length;
    for (const d of dead) {
      this.logger.error(
        { relay: this.options.name, eventId: d.event.eventId, streamId: d.event.streamId, streamVersion: d.event.streamVersion, type: d.event.type, reason: d.reason },
        'event relay dead-lettered an event it can never publish (relay_dead_letters); the events after it go on',
      );
    }
  }

  /** Sleeps for `ms`, or less when stopped, or (if `kickable`) when kicked. */
  private pause(ms: number, kickable: boolean): Promise<void> {
    return this.stopping ? Promise.resolve() : this.sleeper.sleep(ms, kickable);
  }

}
