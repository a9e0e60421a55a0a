import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { spawnTs, startNats, startPostgres, waitFor, type NatsServerHandle, type PostgresHandle } from '@parley/testing';
import { AckPolicy, connect, DeliverPolicy, type JetStreamManager, type NatsConnection } from 'nats';
import { newEvent } from './event-store.contract.spec';
import { eventSubject, EVENTS_STREAM } from './event-subjects';
import { provisionStreams } from '@parley/messaging';
import { PostgresEventStore } from './postgres-event-store';
import { EventRelay, type EventRelayOptions, type RelayLogger } from './relay';
import type { RelayChildMessage } from './relay-child.fixture.spec';
import { decodeRelayedEvent, EVENT_TYPE_HEADER, STREAM_ID_HEADER, STREAM_VERSION_HEADER } from './relayed-event';
import { START, type RecordedEvent } from './types';

// jest 29 does not apply the int project's testTimeout, so set it here.
jest.setTimeout(30_000);

const subjectFor = (e: RecordedEvent) => eventSubject('test', e.streamId, e.type);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Received {
  subject: string;
  event: RecordedEvent;
  headers: { type?: string; streamId?: string; version?: string };
}

/** A durable pull consumer that records (and acks) everything it gets, from the start of the stream. */
async function consume(nc: NatsConnection, durable: string) {
  const jsm = await nc.jetstreamManager();
  await jsm.consumers.add(EVENTS_STREAM, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
  const consumer = await nc.jetstream().consumers.get(EVENTS_STREAM, durable);
  const messages = await consumer.consume();
  const received: Received[] = [];
  const done = (async () => {
    for await (const m of messages) {
      received.push({
        subject: m.subject,
        event: decodeRelayedEvent(m.data),
        headers: { type: m.headers?.get(EVENT_TYPE_HEADER), streamId: m.headers?.get(STREAM_ID_HEADER), version: m.headers?.get(STREAM_VERSION_HEADER) },
      });
      m.ack();
    }
  })();
  return {
    received,
    async stop() {
      await messages.close();
      await done;
    },
  };
}

/**
 * Appends `appends` batches of 1–3 events to each stream concurrently, with small random pauses.
 * After half of them, waits for `halfway` (if given). Returns what was written, in commit order.
 */
async function write(
  store: PostgresEventStore,
  streams: string[],
  appends: number,
  options: { halfway?: Promise<void>; afterCommit?: () => void } = {},
): Promise<RecordedEvent[]> {
  const written: RecordedEvent[] = [];
  await Promise.all(
    streams.map(async (id) => {
      let version = 0;
      for (let i = 0; i < appends; i++) {
        if (i === Math.floor(appends / 2)) await options.halfway;
        const batch = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => newEvent('Ticked', { i }));
        const r = await store.append(id, version, batch);
        version = r.nextVersion;
        written.push(...r.events);
        options.afterCommit?.();
        await sleep(Math.floor(Math.random() * 4));
      }
    }),
  );
  return written;
}

/** Every written event arrived exactly once, each stream's events in version order, correctly addressed. */
function expectDeliveredExactlyOnceInOrder(received: Received[], written: RecordedEvent[]) {
  const ids = received.map((r) => r.event.eventId);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(written.map((e) => e.eventId).sort());
  for (const streamId of new Set(written.map((e) => e.streamId))) {
    const versions = received.filter((r) => r.event.streamId === streamId).map((r) => r.event.streamVersion);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
  }
  for (const r of received) {
    expect(r.subject).toBe(`parley.evt.test.${r.event.streamId}.${r.event.type}`);
    expect(r.headers).toEqual({ type: r.event.type, streamId: r.event.streamId, version: String(r.event.streamVersion) });
  }
}

const quiet: RelayLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('EventRelay', () => {
  let pg: PostgresHandle;
  let nats: NatsServerHandle;
  let url: string;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let store: PostgresEventStore;
  const cleanups: Array<() => Promise<unknown>> = [];

  const relay = (options: Partial<EventRelayOptions> = {}) => {
    const r = new EventRelay({ store, nats: nc, name: 'conference', subjectFor, pollIntervalMs: 20, leadershipRetryMs: 100, logger: quiet, ...options });
    cleanups.push(() => r.stop());
    return r;
  };
  const streamCount = async () => (await jsm.streams.info(EVENTS_STREAM)).state.messages;
  const rooms = (n: number) => Array.from({ length: n }, () => `room-${randomUUID()}`);

  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  beforeEach(async () => {
    // A fresh database and a fresh JetStream per test: each starts from an empty all-stream.
    [url, nats] = await Promise.all([pg.createDatabase(), startNats()]);
    nc = await connect({ servers: nats.url });
    jsm = await nc.jetstreamManager();
    await provisionStreams(jsm, { replicas: 1 });
    store = new PostgresEventStore(url);
    await store.init();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await store.close();
    await nc.close();
    await nats.stop();
  });

  it('delivers every event exactly once and in order per stream across a relay killed mid-batch', async () => {
    const consumer = await consume(nc, 'checker');
    cleanups.push(() => consumer.stop());
    const streams = rooms(4);

    const child = spawnTs(join(__dirname, 'relay-child.fixture.spec.ts'), {
      env: { DATABASE_URL: url, NATS_URL: nats.url, RELAY_NAME: 'conference', HANG_ON_SAVE: '3', BATCH_SIZE: '10' },
    });
    cleanups.push(() => child.kill());
    await child.message<RelayChildMessage>((m) => m.type === 'started', 20_000);

    // Assigned once the first relay is dead; the writers kick whichever relay is alive.
    const next: { relay?: EventRelay } = {};
    let killed!: () => void;
    const afterKill = new Promise<void>((resolve) => (killed = resolve));
    const writing = write(store, streams, 20, { halfway: afterKill, afterCommit: () => next.relay?.kick() });

    // The child's third batch is published and acknowledged, but its checkpoint save hangs: kill it there.
    const hang = await child.message<RelayChildMessage>((m) => m.type === 'hanging', 20_000);
    await child.kill('SIGKILL');
    const saved = await store.loadCheckpoint('relay:conference');
    expect(saved.globalPosition).toBeLessThan(BigInt(hang.position!.globalPosition));
    const inStreamAtKill = await streamCount();
    expect(inStreamAtKill).toBeGreaterThan(0);

    // A new relay takes over (once PostgreSQL has noticed the dead session and freed the lock)
    // while the writers carry on.
    const successor = relay();
    next.relay = successor;
    successor.start();
    killed();
    const written = await writing;

    await waitFor(async () => (await streamCount()) === written.length && consumer.received.length === written.length, {
      timeoutMs: 15_000,
      description: `all ${written.length} events in the stream and at the consumer`,
    });
    expectDeliveredExactlyOnceInOrder(consumer.received, written);
    // It did publish the unsaved batch again, and JetStream dropped the copies.
    const newInStream = written.length - inStreamAtKill;
    await waitFor(() => successor.stats.published - successor.stats.duplicates >= newInStream, { description: 'acks counted' });
    expect(successor.stats.duplicates).toBeGreaterThan(0);
    expect(successor.stats.published - successor.stats.duplicates).toBe(newInStream);
  });

  it('lets only the leader of several relays publish, and fails over when it stops', async () => {
    const consumer = await consume(nc, 'checker');
    cleanups.push(() => consumer.stop());
    const otherStore = new PostgresEventStore(url);
    const otherNc = await connect({ servers: nats.url });
    cleanups.push(() => otherStore.close(), () => otherNc.close());

    const a = relay();
    const b = relay({ store: otherStore, nats: otherNc });
    a.start();
    b.start();
    await waitFor(() => a.stats.leader || b.stats.leader, { description: 'a leader' });
    const [leader, follower] = a.stats.leader ? [a, b] : [b, a];

    const first = await write(store, rooms(3), 6, { afterCommit: () => (a.kick(), b.kick()) });
    await waitFor(async () => (await streamCount()) === first.length, { description: 'first events relayed' });
    // Its counters move once all acks of a batch are in, a moment after the stream has the messages.
    await waitFor(() => leader.stats.published >= first.length, { description: 'acks counted' });
    expect(leader.stats.published).toBe(first.length);
    expect(follower.stats).toMatchObject({ published: 0, leader: false });

    await leader.stop(); // graceful: its last checkpoint is saved, so nothing is published twice
    await waitFor(() => follower.stats.leader, { description: 'the follower to take over' });
    const second = await write(store, rooms(2), 4, { afterCommit: () => follower.kick() });
    const all = [...first, ...second];
    await waitFor(async () => (await streamCount()) === all.length && consumer.received.length === all.length, {
      description: 'all events relayed',
    });
    await waitFor(() => follower.stats.published >= second.length, { description: 'acks counted' });
    expect(follower.stats).toMatchObject({ published: second.length, duplicates: 0 });
    expectDeliveredExactlyOnceInOrder(consumer.received, all);
  });

  it('keeps retrying the same batch while JetStream refuses it, and skips nothing', async () => {
    await jsm.streams.delete(EVENTS_STREAM); // publishes now fail: no stream takes parley.evt.>
    const r = relay({ maxBackoffMs: 50, batchSize: 5 });
    r.start();
    const written = await write(store, rooms(2), 5);
    await waitFor(() => r.stats.errors >= 3, { description: 'failed rounds' });
    expect(await store.loadCheckpoint('relay:conference')).toEqual(START);

    await provisionStreams(jsm, { replicas: 1 });
    const consumer = await consume(nc, 'checker');
    cleanups.push(() => consumer.stop());
    await waitFor(() => consumer.received.length === written.length, { description: 'all events after recovery' });
    expectDeliveredExactlyOnceInOrder(consumer.received, written);
    const last = [...consumer.received].pop()!.event;
    await waitFor(async () => (await store.loadCheckpoint('relay:conference')).globalPosition === last.globalPosition, {
      description: 'the checkpoint at the last event',
    });
  });

  it('dead-letters an event it can never publish, with the reason, and relays the events after it', async () => {
    // A store from before events were bounded could hold one larger than NATS's max_payload.
    const unbounded = new PostgresEventStore(url, { maxEventBytes: 4 * 1024 * 1024 });
    cleanups.push(() => unbounded.close());
    const consumer = await consume(nc, 'checker');
    cleanups.push(() => consumer.stop());
    const id = `room-${randomUUID()}`;
    const first = (await unbounded.append(id, 0, [newEvent('Ticked')])).events;
    const [huge] = (await unbounded.append(id, 1, [newEvent('Ticked', { text: 'x'.repeat(1_200_000) })])).events;
    const [unnamed] = (await unbounded.append(id, 2, [newEvent('Not A Type')])).events; // no subject can carry its type
    const after = (await unbounded.append(id, 3, [newEvent('Ticked'), newEvent('Ticked')])).events;

    const r = relay({ batchSize: 2 });
    r.start();
    await waitFor(() => consumer.received.length === 3 && r.stats.deadLettered === 2, { description: 'the publishable events relayed, two dead-lettered' });
    expect(consumer.received.map((x) => x.event.eventId)).toEqual([...first, ...after].map((e) => e.eventId));
    const { rows } = await store.transaction((sql) => sql.query<{ event_id: string; reason: string }>('SELECT event_id::text AS event_id, reason FROM relay_dead_letters ORDER BY seq'));
    expect(rows).toEqual([
      { event_id: huge.eventId, reason: expect.stringMatching(/larger than the NATS server's max_payload/) },
      { event_id: unnamed.eventId, reason: expect.stringMatching(/invalid type/) },
    ]);
    expect(await r.deadLetters()).toEqual({ count: 2, last: expect.objectContaining({ eventId: unnamed.eventId, streamId: id, streamVersion: 3, type: 'Not A Type' }) });

    // The checkpoint moved past them: a restarted relay does not try them again.
    await r.stop();
    const again = relay();
    again.start();
    const [later] = (await store.append(id, 5, [newEvent('Ticked')])).events;
    again.kick();
    await waitFor(() => consumer.received.length === 4, { description: 'the next event' });
    expect(consumer.received[3].event.eventId).toBe(later.eventId);
    expect(again.stats).toMatchObject({ deadLettered: 0, errors: 0 });
  });

  it('saves its checkpoint at most every checkpointIntervalMs, and only ever forward: a position left unsaved is dropped once a later one is saved', async () => {
    const written: RecordedEvent[] = [];
    for (const id of rooms(9)) written.push(...(await store.append(id, 0, [newEvent('Ticked')])).events);
    const saved: bigint[] = [];
    let reads = 0;
    // Every other read is slow, so batches alternate: saved (the interval has passed), left unsaved (it has not).
    const recording = new Proxy(store, {
      get: (target, key) => {
        if (key === 'saveCheckpoint') return (...args: Parameters<PostgresEventStore['saveCheckpoint']>) => (saved.push(args[1].globalPosition), target.saveCheckpoint(...args));
        if (key === 'readAll') return async (...args: Parameters<PostgresEventStore['readAll']>) => (reads++ % 2 === 0 && (await sleep(300)), target.readAll(...args));
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const r = relay({ store: recording, batchSize: 3, checkpointIntervalMs: 200 });
    r.start();
    await waitFor(async () => (await streamCount()) === written.length, { description: 'every event published' });
    await waitFor(() => reads >= 4, { description: 'the read after the last batch' });
    await r.stop();
    // Batches of events 1–3 (saved), 4–6 (unsaved: 200 ms had not passed), 7–9 (saved); then nothing new, and 4–6 is not saved after 7–9.
    expect(saved.map(String)).toEqual([written[2].globalPosition, written[8].globalPosition].map(String));
    expect(String((await store.loadCheckpoint('relay:conference')).globalPosition)).toBe(String(written[8].globalPosition));
  });

  it('publishes right after kick() instead of waiting for the next poll', async () => {
    const r = relay({ pollIntervalMs: 60_000 });
    r.start();
    await waitFor(() => r.stats.leader, { description: 'leadership' });
    const [event] = (await store.append(`room-${randomUUID()}`, 0, [newEvent()])).events;
    r.kick();
    // With a one-minute poll interval, only the kick can deliver within the wait.
    await waitFor(async () => (await streamCount()) === 1, { timeoutMs: 5000, description: 'the kicked event' });
    const stored = await jsm.streams.getMessage(EVENTS_STREAM, { seq: 1 });
    expect(decodeRelayedEvent(stored.data)).toEqual(event);
  });

  it('stores an event once even when it is published again (JetStream dedup by event id)', async () => {
    const js = nc.jetstream();
    const eventId = randomUUID();
    const first = await js.publish('parley.evt.test.room-1.Ticked', new TextEncoder().encode('{}'), { msgID: eventId });
    const again = await js.publish('parley.evt.test.room-1.Ticked', new TextEncoder().encode('{}'), { msgID: eventId });
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ duplicate: true, seq: first.seq });
    expect(await streamCount()).toBe(1);

    // Two relays with separate checkpoints both publish everything: the second adds nothing.
    await jsm.streams.purge(EVENTS_STREAM);
    const written = await write(store, rooms(2), 3);
    const one = relay({ name: 'one' });
    one.start();
    await waitFor(async () => (await streamCount()) === written.length, { description: 'first relay' });
    await one.stop();
    const two = relay({ name: 'two' });
    two.start();
    await waitFor(() => two.stats.published === written.length, { description: 'second relay' });
    expect(two.stats.duplicates).toBe(written.length);
    expect(await streamCount()).toBe(written.length);
  });
});
