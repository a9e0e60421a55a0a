import { AckPolicy, DeliverPolicy, type JsMsg, type NatsConnection, type ConsumerMessages, nanos } from 'nats';

export interface DurableConsumerOptions<T> {
  nc: NatsConnection;
  stream: string;
  /** Durable name: the consumer's position survives restarts of this process. */
  durable: string;
  filterSubject: string;
  handle: (payload: T, msg: JsMsg) => Promise<void>;
  /** Deliveries before a message goes to the dead-letter subject (default 5). */
  maxDeliver?: number;
  /** Redelivery delays in ms, one per attempt (the last repeats). */
  backoffMs?: number[];
  /** Where a message that kept failing is published (default `parley.dlq.<durable>`). */
  deadLetterSubject?: string;
  /** A new consumer starts at messages published from now on, not at the stream's start. */
  deliverNew?: boolean;
  log?: (msg: string, err?: unknown) => void;
}

/**
 * A durable JetStream pull consumer with explicit ack: a handler that resolves acks the
 * message; one that throws has it redelivered after a back-off; after `maxDeliver` tries the
 * message is copied to a dead-letter subject and terminated, so one poison message cannot
 * stall the rest.
 */
export class DurableConsumer<T = unknown> {
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;

  constructor(private readonly o: DurableConsumerOptions<T>) {}

  async start(): Promise<void> {
    const maxDeliver = this.o.maxDeliver ?? 5;
    const jsm = await this.o.nc.jetstreamManager();
    await jsm.consumers.add(this.o.stream, {
      durable_name: this.o.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: this.o.deliverNew ? DeliverPolicy.New : DeliverPolicy.All,
      filter_subject: this.o.filterSubject,
      max_deliver: maxDeliver + 1, // the extra delivery is the one we dead-letter
      ack_wait: nanos(30_000),
    });
    const consumer = await this.o.nc.jetstream().consumers.get(this.o.stream, this.o.durable);
    this.messages = await consumer.consume({ max_messages: 64 });
    const messages = this.messages;
    this.loop = (async () => {
      for await (const m of messages) await this.process(m, maxDeliver);
    })();
  }

  private async process(m: JsMsg, maxDeliver: number): Promise<void> {
    const backoff = this.o.backoffMs ?? [100, 500, 2000, 5000];
    if (m.info.redeliveryCount > maxDeliver) {
      this.o.nc.publish(this.o.deadLetterSubject ?? `parley.dlq.${this.o.durable}`, m.data, { headers: m.headers });
      m.term();
      return;
    }
    try {
      await this.o.handle(m.json<T>(), m);
      m.ack();
    } catch (err) {
      this.o.log?.(`consumer ${this.o.durable}: ${m.subject} failed (delivery ${m.info.redeliveryCount})`, err);
      m.nak(backoff[Math.min(m.info.redeliveryCount - 1, backoff.length - 1)]);
    }
  }

  async stop(): Promise<void> {
    this.messages?.stop();
    await this.loop;
  }
}
