import { type NatsConnection, RetentionPolicy, StorageType, connect, nanos } from 'nats';
import { DEAD_LETTER_STREAM, DELIVERY_STREAM, EVENTS_STREAM } from '@parley/contracts';
import { type NatsClusterHandle, type NatsServerHandle, startNats, startNatsCluster } from '@parley/testing';
import { StreamConfigurationError, provisionStreams } from './jetstream-streams';

describe('provisionStreams', () => {
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('creates the events, delivery and dead-letter streams with their settings, and finds them as they are on the next start (also two at once)', async () => {
    const jsm = await nc.jetstreamManager();
    await Promise.all([provisionStreams(jsm, { replicas: 1 }), provisionStreams(jsm, { replicas: 1 })]);
    const [events, delivery, dead] = await provisionStreams(jsm, { replicas: 1 });
    expect(events.config).toMatchObject({ name: EVENTS_STREAM, subjects: ['parley.evt.>'], storage: StorageType.File, retention: RetentionPolicy.Limits, duplicate_window: nanos(10 * 60 * 1000), max_age: 0 });
    expect(delivery.config).toMatchObject({ name: DELIVERY_STREAM, subjects: ['parley.deliverq.>'], retention: RetentionPolicy.Workqueue, max_msgs_per_subject: 1000, max_age: nanos(24 * 3600 * 1000) });
    expect(dead.config).toMatchObject({ name: DEAD_LETTER_STREAM, subjects: ['parley.dlq.>'], retention: RetentionPolicy.Limits, max_age: nanos(30 * 24 * 3600 * 1000) });
  });

  it('refuses a stream configured otherwise, says what differs, and leaves it as it is', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(EVENTS_STREAM).catch(() => undefined);
    await jsm.streams.add({ name: EVENTS_STREAM, subjects: ['parley.evt.>'], storage: StorageType.File, duplicate_window: nanos(60_000) });
    const refused = provisionStreams(jsm, { replicas: 1 });
    await expect(refused).rejects.toThrow(StreamConfigurationError);
    await expect(refused).rejects.toThrow(`JetStream stream ${EVENTS_STREAM} is configured otherwise than this service expects: duplicate_window is ${nanos(60_000)}, expected ${nanos(10 * 60 * 1000)}`);
    expect((await jsm.streams.info(EVENTS_STREAM)).config.duplicate_window).toBe(nanos(60_000));
  });
});

describe('provisionStreams on a three-node cluster', () => {
  let cluster: NatsClusterHandle;
  let nc: NatsConnection;
  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    nc = await connect({ servers: cluster.url.split(',') });
  });
  afterAll(async () => {
    await nc?.close();
    await cluster?.stop();
  });

  it('creates three-replica streams, and a service expecting one replica refuses them and leaves them at three', async () => {
    const jsm = await nc.jetstreamManager();
    const created = await provisionStreams(jsm, { replicas: 3 });
    expect(created.map((s) => s.config.num_replicas)).toEqual([3, 3, 3]);
    await expect(provisionStreams(jsm, { replicas: 1 })).rejects.toThrow(/num_replicas is 3, expected 1.*JETSTREAM_REPLICAS/);
    for (const name of [EVENTS_STREAM, DELIVERY_STREAM, DEAD_LETTER_STREAM]) expect((await jsm.streams.info(name)).config.num_replicas).toBe(3);
  });
});
