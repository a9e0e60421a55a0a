import { randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, type JetStreamManager, type NatsConnection, nanos } from 'nats';
import { EVENTS_STREAM } from '@parley/contracts';
import { type Leadership, LoopSleeper, type RecordedEvent, decodeRelayedEvent, positionOf } from '@parley/eventsourcing';
import { type ConsumedMessage, DurableConsumer } from '@parley/messaging';
import type { Kit } from './kit';
import { type EventHistory, type EventProjection, type JetStreamProjection, type Projections, tableOf } from './projections';
import { upcasterRegistry } from './stores';

const READ_BATCH = 500;
/** How long a fetch waits for messages the stream said it has. */
const FETCH_EXPIRES_MS = 5000;

/** Reads PARLEY_EVENTS from its start with an ephemeral pull consumer: what a jetstream projection is rebuilt from. */
export function jetStreamHistory(nc: NatsConnection): EventHistory {
  const upcasters = upcasterRegistry();
  return {
    async lastSequence() {
      const jsm = await nc.jetstreamManager();
      return (await jsm.streams.info(EVENTS_STREAM)).state.last_seq;
    },
    async read(subject, upTo, onBatch) {
      if (upTo === 0) return;
      // An ephemeral pull consumer of the subject from the stream's start, read down to the
      // count it had pending when made (messages after `upTo` are counted off and left out).
      const jsm = await nc.jetstreamManager();
      const name = `history-${randomUUID()}`;
      await jsm.consumers.add(EVENTS_STREAM, {
        name,
        filter_subject: subject,
        deliver_policy: DeliverPolicy.All,
        ack_policy: AckPolicy.None,
        inactive_threshold: nanos(60_000),
        mem_storage: true,
      });
      try {
        const consumer = await nc.jetstream().consumers.get(EVENTS_STREAM, name);
        for (let remaining = (await consumer.info()).num_pending; remaining > 0; ) {
          const batch: Array<{ sequence: number; event: RecordedEvent }> = [];
          let received = 0;
          const messages = await consumer.fetch({ max_messages: Math.min(READ_BATCH, remaining), expires: FETCH_EXPIRES_MS });
          for await (const m of messages) {
            received++;
            if (m.seq <= upTo) batch.push({ sequence: m.seq, event: upcasters.upcast(decodeRelayedEvent(m.data)) });
          }
          if (received === 0) throw new Error(`reading ${subject} from ${EVENTS_STREAM} stalled with ${remaining} messages to go`);
          remaining -= received;
          if (batch.length > 0) await onBatch(batch);
        }
      } finally {
        await jsm.consumers.delete(EVENTS_STREAM, name).catch(() => undefined);
      }
    },
  };
}

const AFTER_COMMIT_BATCH = 500;
const LEADERSHIP_RETRY_MS = 3000;
const MAX_BACKOFF_MS = 5000;

/**
 * Keeps an after-commit projection current: in the replica that holds its leadership
 * (`projection:<name>`), reads the all-stream after the projection's checkpoint in commit order
 * and applies each event of its types with the new checkpoint in one transaction. Woken by the
 * service's commits, else it looks every `pollMs` (other replicas' commits).
 */
export class AfterCommitProjector {
  private loop?: Promise<void>;
  private stopping = false;
  private leadership?: Leadership;
  private readonly sleeper = new LoopSleeper();

  constructor(
    private readonly kit: Kit,
    private readonly projections: Projections,
    private readonly p: EventProjection,
    private readonly pollMs: number,
  ) {}

  start(): void {
    this.stopping = false;
    this.loop ??= this.run().finally(() => (this.loop = undefined));
  }

  kick(): void {
    this.sleeper.kick();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper.interrupt();
    await this.loop;
    await this.leadership?.release().catch(() => undefined);
    this.leadership = undefined;
  }

  private async run(): Promise<void> {
    const store = this.kit.store;
    const table = tableOf(this.p);
    let backoffMs = 100;
    while (!this.stopping) {
      try {
        if (!this.leadership) {
          this.leadership = (store.acquireLeadership ? await store.acquireLeadership(`projection:${this.p.name}`) : null) ?? undefined;
          if (!this.leadership) {
            await this.pause(LEADERSHIP_RETRY_MS);
            continue;
          }
          void this.leadership.lost.then(() => (this.leadership = undefined));
        }
        const { all } = await this.projections.position(this.p.name);
        const batch = await store.readAll(all, AFTER_COMMIT_BATCH);
        if (batch.length === 0) {
          await this.pause(this.pollMs);
          continue;
        }
        await store.transaction(async (sql) => {
          for (const e of batch) if (this.p.eventTypes.includes(e.type)) await this.p.apply(sql, table, e);
          await this.projections.savePosition(sql, this.p.name, { all: positionOf(batch[batch.length - 1]) });
        });
        backoffMs = 100;
      } catch (err) {
        this.kit.log.error({ err, projection: this.p.name, retryInMs: backoffMs }, 'projection round failed; retrying');
        await this.pause(backoffMs);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return this.stopping ? Promise.resolve() : this.sleeper.sleep(ms, true);
  }

}

const durableOf = (p: JetStreamProjection<unknown>) => `projection-${p.name.replace(/_/g, '-')}-v${p.version}`;

async function deleteConsumer(jsm: JetStreamManager, name: string): Promise<void> {
  await jsm.consumers.delete(EVENTS_STREAM, name).catch((err: unknown) => {
    if (!/consumer not found/i.test(String(err))) throw err;
  });
}

export interface RunningProjections {
  /** Rebuilds one while the service runs: its runner stops, the table is rebuilt and swapped, the runner goes on from where the build ended. */
  rebuild(name: string): Promise<number>;
  /** Wakes the after-commit projectors (a commit of this process). */
  kick(): void;
  stop(): Promise<void>;
}

/**
 * Runs what keeps the projections that are not written inline current: an AfterCommitProjector
 * per after-commit projection, and for each jetstream projection one durable consumer
 * (`projection-<name>-v<version>`), from the stream sequence after the one the build ended at;
 * the events that arrived while the previous ones were applied are applied together with the new
 * position in one transaction (so a redelivery is skipped, and a burst costs one commit), and the
 * projection's `then` runs for each after that commit.
 */
export async function startProjectionRunners(kit: Kit, projections: Projections, pollMs: number): Promise<RunningProjections> {
  const jsm = await kit.nc.jetstreamManager();
  const running = new Map<string, DurableConsumer>();
  const upcasters = upcasterRegistry();

  const consumerFor = async (p: JetStreamProjection<unknown>): Promise<DurableConsumer> => {
    const { streamSequence } = await projections.position(p.name);
    const applyBatch = applyBatchOf(p, tableOf(p));
    return new DurableConsumer({
      nc: kit.nc,
      assertions: kit.assertions,
      durable: durableOf(p),
      filterSubject: p.subject,
      startSequence: streamSequence + 1,
      maxDeliver: 20,
      backoffMs: [100, 500, 2000, 5000, 15000],
      log: (msg, err) => kit.log.warn({ err }, msg),
      handle: (msg) => applyBatch([msg]),
      handleBatch: applyBatch,
      ordered: true,
    });
  };

  /**
   * Applies a batch of one projection's messages (in stream order) and moves its checkpoint, in
   * one transaction; then runs `then` for each event applied, in order (a failed one does not
   * stop the others'). The checkpoint's row is locked first: a message at or before it was
   * applied already (a redelivery) and is skipped. A replayed dead letter names the sequence it
   * came from; one without is applied as it is.
   */
  const applyBatchOf = (p: JetStreamProjection<unknown>, table: string) => async (msgs: ConsumedMessage[]) => {
    const handled = msgs
      .map((msg) => ({ sequence: msg.sequence, event: upcasters.upcast(decodeRelayedEvent(msg.data)) }))
      .filter((m) => p.eventTypes.includes(m.event.type));
    if (handled.length === 0) return;
    const applied = await kit.store.transaction(async (sql) => {
      const { rows } = await sql.query<{ stream_sequence: string | null }>(`SELECT stream_sequence FROM projections WHERE name = $1 FOR UPDATE`, [p.name]);
      let at = Number(rows[0]?.stream_sequence ?? 0);
      const out: Array<{ event: RecordedEvent; result: unknown }> = [];
      for (const m of handled) {
        if (m.sequence !== undefined) {
          if (m.sequence <= at) continue;
          at = m.sequence;
        }
        out.push({ event: m.event, result: await p.apply(sql, table, m.event) });
      }
      await sql.query(`UPDATE projections SET stream_sequence = $2 WHERE name = $1 AND coalesce(stream_sequence, 0) < $2`, [p.name, at]);
      return out;
    });
    if (!p.then) return;
    // Each event's `then` runs even when an earlier one's failed (the events are applied: a redelivery would skip them, so nothing would run it later); the first failure is then reported.
    let failed: { err: unknown } | undefined;
    for (const a of applied) await p.then(a.event, a.result, kit).catch((err: unknown) => (failed ??= { err }));
    if (failed) throw failed.err;
  };

  const start = async (p: JetStreamProjection<unknown>) => {
    const consumer = await consumerFor(p);
    await consumer.start();
    running.set(p.name, consumer);
  };

  for (const p of projections.all) if (p.kind === 'jetstream') await start(p);
  const projectors = new Map<string, AfterCommitProjector>();
  for (const p of projections.all) {
    if (p.kind !== 'events' || p.mode !== 'after-commit') continue;
    const projector = new AfterCommitProjector(kit, projections, p, pollMs);
    projector.start();
    projectors.set(p.name, projector);
  }

  return {
    kick: () => projectors.forEach((p) => p.kick()),
    async rebuild(name) {
      const p = projections.get(name);
      const projector = projectors.get(name);
      if (projector) {
        await projector.stop();
        try {
          return await projections.rebuild(name);
        } finally {
          projector.start();
        }
      }
      if (p.kind !== 'jetstream') return projections.rebuild(name);
      await running.get(name)?.stop();
      running.delete(name);
      await deleteConsumer(jsm, durableOf(p));
      const applied = await projections.rebuild(name);
      await start(p);
      return applied;
    },
    async stop() {
      for (const consumer of running.values()) await consumer.stop();
      running.clear();
      for (const projector of projectors.values()) await projector.stop();
    },
  };
}
