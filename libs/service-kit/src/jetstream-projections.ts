import { randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, type JetStreamManager, type NatsConnection, nanos } from 'nats';
import { EVENTS_STREAM } from '@parley/contracts';
import { type RecordedEvent, decodeRelayedEvent } from '@parley/eventsourcing';
import { DurableConsumer } from '@parley/messaging';
import type { Kit } from './kit';
import { type EventHistory, type JetStreamProjection, type Projections, tableOf } from './projections';
import { upcasterRegistry } from './stores';

const READ_BATCH = 500;
/** How long a fetch waits for messages the stream said it has. */
const FETCH_EXPIRES_MS = 5000;

/** Reads PARLEY_EVENTS from its start with an ordered consumer: what a jetstream projection is rebuilt from. */
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

const durableOf = (p: JetStreamProjection) => `projection-${p.name.replace(/_/g, '-')}-v${p.version}`;

async function deleteConsumer(jsm: JetStreamManager, name: string): Promise<void> {
  await jsm.consumers.delete(EVENTS_STREAM, name).catch((err: unknown) => {
    if (!/consumer not found/i.test(String(err))) throw err;
  });
}

export interface RunningJetStreamProjections {
  /** Rebuilds one of them while the service runs: its consumer stops, the table is rebuilt and swapped, a new consumer goes on from there. */
  rebuild(name: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Keeps the service's jetstream projections current: one durable consumer each
 * (`projection-<name>-v<version>`), from the stream sequence after the one the build ended at;
 * each event is applied with the new position in one transaction (so a redelivery is skipped),
 * and the projection's `then` runs after that commit.
 */
export async function startJetStreamProjections(kit: Kit, projections: Projections): Promise<RunningJetStreamProjections> {
  const jsm = await kit.nc.jetstreamManager();
  const running = new Map<string, DurableConsumer>();

  const consumerFor = async (p: JetStreamProjection): Promise<DurableConsumer> => {
    const { streamSequence } = await projections.position(p.name);
    const table = tableOf(p);
    return new DurableConsumer({
      nc: kit.nc,
      durable: durableOf(p),
      filterSubject: p.subject,
      startSequence: streamSequence + 1,
      maxDeliver: 20,
      backoffMs: [100, 500, 2000, 5000, 15000],
      log: (msg, err) => kit.log.warn({ err }, msg),
      handle: async (msg) => {
        const sequence = msg.sequence;
        const event = upcasterRegistry().upcast(decodeRelayedEvent(msg.data));
        const handled = p.eventTypes.includes(event.type);
        const outcome = await kit.store.transaction(async (sql) => {
          const { rows } = await sql.query<{ s: string | null }>('SELECT stream_sequence::text AS s FROM projections WHERE name = $1 FOR UPDATE', [p.name]);
          if (sequence !== undefined && Number(rows[0]?.s ?? 0) >= sequence) return { applied: false as const };
          const result = handled ? await p.apply(sql, table, event) : undefined;
          if (sequence !== undefined) await projections.savePosition(sql, p.name, { streamSequence: sequence });
          return { applied: handled, result };
        });
        if (outcome.applied && p.then) await p.then(event, outcome.result, kit);
      },
    });
  };

  const start = async (p: JetStreamProjection) => {
    const consumer = await consumerFor(p);
    await consumer.start();
    running.set(p.name, consumer);
  };

  for (const p of projections.all) if (p.kind === 'jetstream') await start(p);

  return {
    async rebuild(name) {
      const p = projections.get(name);
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
    },
  };
}
