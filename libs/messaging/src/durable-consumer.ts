import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg, type MsgHdrs, type NatsConnection, type Subscription, headers as natsHeaders, nanos } from 'nats';
import { DEAD_LETTER_SUBJECT_ROOT, EVENTS_STREAM, replaySubject } from '@parley/contracts';
import { type CallerAssertions, fromOperator } from './caller-assertion';

/** A message as a handler sees it, whether JetStream delivered it or an operator replayed it. */
export interface ConsumedMessage {
  subject: string;
  data: Uint8Array;
  headers?: MsgHdrs;
  /** 1 for the first delivery. */
  delivery: number;
  /** Its sequence in the stream it was delivered from (a replay: in the stream it was first delivered from). */
  sequence?: number;
}

/** Thrown by a handler when trying again cannot help (an unknown event type): the message is dead-lettered at once. */
export class PermanentFailure extends Error {
  override readonly name = 'PermanentFailure';
}

export interface DurableConsumerOptions {
  nc: NatsConnection;
  /** Default PARLEY_EVENTS. */
  stream?: string;
  /** Durable name: the consumer's position survives restarts; also names its dead letters and replays. */
  durable: string;
  filterSubject: string;
  handle: (msg: ConsumedMessage) => Promise<void>;
  /**
   * Handles several messages at once, in stream order (a projection: one transaction for all).
   * Messages that arrive while a batch is handled form the next one, so a batch forms under load
   * only and nothing waits for one to fill. When it throws, each message of the batch is handled
   * alone by `handle`, with that message's own retries and dead letter.
   */
  handleBatch?: (msgs: ConsumedMessage[]) => Promise<void>;
  /** The most messages in one batch (default 64). */
  maxBatch?: number;
  /**
   * In stream order, even across failures: a message whose handler throws is tried again in place
   * after its back-off, and the messages after it wait (a redelivery would come after them, and a
   * projection's checkpoint would then skip it). What was handled may still arrive again
   * (JetStream redelivers what waited past the ack wait): the handler must skip what it has
   * applied, as projections do by their checkpoint. Each back-off must be shorter than 30 s.
   */
  ordered?: boolean;
  /** Checks that a replay request is the operator's (signed: operatorHeaders); any other is refused unhandled. */
  assertions: CallerAssertions;
  /** Deliveries before a message is dead-lettered (default 5). */
  maxDeliver?: number;
  /** Redelivery delays in ms, one per attempt (the last repeats). */
  backoffMs?: number[];
  /** A new consumer starts at messages published from now on, not at the stream's start. */
  deliverNew?: boolean;
  /** A new consumer starts at this stream sequence (a projection rebuilt up to the one before). */
  startSequence?: number;
  log?: (msg: string, err?: unknown) => void;
}

/** Headers a dead letter carries besides the original message's own. */
export const DeadLetterHeaders = {
  consumer: 'Parley-Dlq-Consumer',
  subject: 'Parley-Dlq-Subject',
  streamSequence: 'Parley-Dlq-Stream-Sequence',
  deliveries: 'Parley-Dlq-Deliveries',
  error: 'Parley-Dlq-Error',
  at: 'Parley-Dlq-At',
} as const;

/** What a replay request answers. */
export interface ReplayAnswer {
  ok: boolean;
  error?: string;
}

const consumedOf = (m: JsMsg): ConsumedMessage => ({ subject: m.subject, data: m.data, headers: m.headers, delivery: m.info.redeliveryCount, sequence: m.info.streamSequence });
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 2000);
const encoder = new TextEncoder();

/**
 * A durable JetStream pull consumer with explicit ack: a handler that resolves acks the
 * message; one that throws has it redelivered after a back-off; on its last try (or at once, for
 * a PermanentFailure) the message is stored in PARLEY_DEAD_LETTERS on `parley.dlq.<durable>`
 * with the error and where it came from, and only then terminated, so one poison message cannot
 * stall the rest and none is lost. `npm run dead-letters` lists them and replays one: the
 * consumer takes it back on `parley.replay.<durable>` and runs the same handler.
 */
export class DurableConsumer {
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private replays?: Subscription;
  private stopping = false;
  /** Ends an ordered consumer's wait before trying a message again (stop). */
  private interruptRetry?: () => void;

  constructor(private readonly o: DurableConsumerOptions) {}

  get name(): string {
    return this.o.durable;
  }

  async start(): Promise<void> {
    this.stopping = false;
    const stream = this.o.stream ?? EVENTS_STREAM;
    const maxDeliver = this.o.maxDeliver ?? 5;
    const jsm = await this.o.nc.jetstreamManager();
    // An existing consumer keeps its position and settings (its start options applied when it was made).
    const exists = await jsm.consumers.info(stream, this.o.durable).then(
      () => true,
      (err: unknown) => {
        if (/consumer not found/i.test(String(err))) return false;
        throw err;
      },
    );
    if (!exists) await jsm.consumers.add(stream, {
      durable_name: this.o.durable,
      ack_policy: AckPolicy.Explicit,
      ...(this.o.startSequence !== undefined
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.o.startSequence }
        : { deliver_policy: this.o.deliverNew ? DeliverPolicy.New : DeliverPolicy.All }),
      filter_subject: this.o.filterSubject,
      max_deliver: maxDeliver + 1, // a safety net: the last try dead-letters the message itself
      ack_wait: nanos(30_000),
    });
    const consumer = await this.o.nc.jetstream().consumers.get(stream, this.o.durable);
    this.messages = await consumer.consume({ max_messages: 64 });
    const messages = this.messages;
    this.loop = this.o.handleBatch
      ? this.batches(messages, maxDeliver)
      : (async () => {
          for await (const m of messages) await this.process(m, maxDeliver);
        })();
    this.replays = this.o.nc.subscribe(replaySubject(this.o.durable), {
      queue: this.o.durable,
      callback: (err, msg) => {
        if (err) return;
        void fromOperator(this.o.assertions, msg)
          .then(() =>
            this.o.handle({
              subject: msg.headers?.get(DeadLetterHeaders.subject) || msg.subject,
              data: msg.data,
              headers: msg.headers,
              delivery: 1,
              sequence: Number(msg.headers?.get(DeadLetterHeaders.streamSequence)) || undefined,
            }),
          )
          .then(
            () => ({ ok: true }),
            (e: unknown) => ({ ok: false, error: errorText(e) }),
          )
          .then((answer: ReplayAnswer) => msg.respond(encoder.encode(JSON.stringify(answer))));
      },
    });
  }

  /**
   * Reads messages as they come into a buffer (at most maxBatch: reading waits while it is full)
   * and handles what the buffer holds whenever the previous batch is done. On stop, the batch in
   * hand is finished and what is still buffered is handed back (nak) for redelivery at once.
   */
  private async batches(messages: ConsumerMessages, maxDeliver: number): Promise<void> {
    const maxBatch = this.o.maxBatch ?? 64;
    const buffered: JsMsg[] = [];
    let ended = false;
    let wake: (() => void) | undefined;
    let room: (() => void) | undefined;
    const read = (async () => {
      try {
        for await (const m of messages) {
          buffered.push(m);
          wake?.();
          if (buffered.length >= maxBatch) await new Promise<void>((resolve) => (room = resolve));
        }
      } finally {
        ended = true;
        wake?.();
      }
    })();
    for (;;) {
      if (buffered.length === 0) {
        if (ended) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      if (this.stopping) {
        for (const m of buffered.splice(0)) m.nak();
        room?.();
        continue;
      }
      const batch = buffered.splice(0, maxBatch);
      room?.();
      room = undefined;
      await this.processBatch(batch, maxDeliver);
    }
    await read;
  }

  private async processBatch(batch: JsMsg[], maxDeliver: number): Promise<void> {
    if (batch.length === 1 || !this.o.handleBatch) {
      for (const m of batch) await this.process(m, maxDeliver);
      return;
    }
    try {
      await this.o.handleBatch(batch.map(consumedOf));
    } catch (err) {
      this.o.log?.(`consumer ${this.o.durable}: a batch of ${batch.length} failed; handling each message alone`, err);
      for (const m of batch) await this.process(m, maxDeliver);
      return;
    }
    for (const m of batch) m.ack();
  }

  /**
   * Handles one message: acked when the handler resolves; when it throws, handed back (nak) for
   * redelivery after the back-off, or, for an `ordered` consumer, tried again here after the
   * back-off while the messages after it wait; dead-lettered on its last try.
   */
  private async process(m: JsMsg, maxDeliver: number): Promise<void> {
    const backoff = this.o.backoffMs ?? [100, 500, 2000, 5000];
    for (let delivery = m.info.redeliveryCount; ; delivery++) {
      try {
        await this.o.handle({ ...consumedOf(m), delivery });
        m.ack();
        return;
      } catch (err) {
        const last = err instanceof PermanentFailure || delivery >= maxDeliver;
        const backoffMs = backoff[Math.min(delivery - 1, backoff.length - 1)];
        this.o.log?.(`consumer ${this.o.durable}: ${m.subject} failed (delivery ${delivery}${last ? ', dead-lettered' : ''})`, err);
        if (last) {
          try {
            await this.deadLetter(m, delivery, err);
            m.term();
          } catch (dlqErr) {
            // Not stored: leave it to JetStream's redelivery rather than lose it.
            this.o.log?.(`consumer ${this.o.durable}: could not dead-letter ${m.subject}; it will be delivered again`, dlqErr);
            m.nak(backoff[backoff.length - 1]);
          }
          return;
        }
        if (!this.o.ordered || this.stopping) {
          m.nak(backoffMs);
          return;
        }
        m.working(); // the back-off is shorter than the ack wait: JetStream keeps it ours meanwhile
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoffMs);
          this.interruptRetry = () => (clearTimeout(timer), resolve());
        });
        this.interruptRetry = undefined;
        if (this.stopping) {
          m.nak(); // stopping: the next consumer of the durable takes it first
          return;
        }
      }
    }
  }

  private async deadLetter(m: JsMsg, deliveries: number, err: unknown): Promise<void> {
    const h = natsHeaders();
    for (const [key, values] of m.headers ?? []) for (const v of values) h.append(key, v);
    h.set(DeadLetterHeaders.consumer, this.o.durable);
    h.set(DeadLetterHeaders.subject, m.subject);
    h.set(DeadLetterHeaders.streamSequence, String(m.info.streamSequence));
    h.set(DeadLetterHeaders.deliveries, String(deliveries));
    h.set(DeadLetterHeaders.error, errorText(err).replace(/[\r\n]+/g, ' '));
    h.set(DeadLetterHeaders.at, new Date().toISOString());
    // Nats-Msg-Id of the original would make the dead-letter stream drop it as a duplicate of nothing; it has its own.
    h.set('Nats-Msg-Id', `${this.o.durable}:${m.info.stream}:${m.info.streamSequence}`);
    await this.o.nc.jetstream().publish(`${DEAD_LETTER_SUBJECT_ROOT}.${this.o.durable}`, m.data, { headers: h });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.interruptRetry?.();
    this.replays?.unsubscribe();
    this.messages?.stop();
    await this.loop;
  }
}
