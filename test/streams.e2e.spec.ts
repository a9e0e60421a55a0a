import { type NatsConnection, connect } from 'nats';
import { DEAD_LETTER_STREAM, DELIVERY_STREAM, EVENTS_STREAM } from '@parley/contracts';
import { provisionStreams } from '@parley/messaging';
import { type RunningService, startService } from '@parley/service-kit';
import { testProcessEnv } from './support/secrets';
import { type NatsClusterHandle, mediasoupWorkerBin, startNatsCluster } from '@parley/testing';

/**
 * The media service against a three-node JetStream cluster whose streams an operator made with
 * three replicas: started without JETSTREAM_REPLICAS (one expected) it refuses to start and says
 * why, and the streams stay at three; told three, it starts.
 */
describe('a service finds the streams configured otherwise', () => {
  let cluster: NatsClusterHandle;
  let nc: NatsConnection;
  let media: RunningService | undefined;
  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    nc = await connect({ servers: cluster.url.split(',') });
    await provisionStreams(await nc.jetstreamManager(), { replicas: 3 });
    // mediasoup reads MEDIASOUP_WORKER_BIN when it is first loaded.
    process.env.MEDIASOUP_WORKER_BIN = mediasoupWorkerBin();
  });
  afterAll(async () => {
    await media?.close();
    await nc?.close();
    await cluster?.stop();
  });

  it('media refuses three-replica streams when it expects one, leaves them at three, and starts when told three', async () => {
    const { mediaService } = await import('../apps/media/src');
    const env = { PARLEY_MODE: 'development', NATS_URL: cluster.url, LOG_LEVEL: 'silent', MEDIA_WORKERS: '1', ...testProcessEnv('media') };
    await expect(startService(mediaService, { env })).rejects.toThrow(/JetStream stream PARLEY_EVENTS is configured otherwise than this service expects: num_replicas is 3, expected 1/);
    const jsm = await nc.jetstreamManager();
    for (const name of [EVENTS_STREAM, DELIVERY_STREAM, DEAD_LETTER_STREAM]) expect((await jsm.streams.info(name)).config.num_replicas).toBe(3);
    media = await startService(mediaService, { env: { ...env, JETSTREAM_REPLICAS: '3' } });
    for (const name of [EVENTS_STREAM, DELIVERY_STREAM, DEAD_LETTER_STREAM]) expect((await jsm.streams.info(name)).config.num_replicas).toBe(3);
  });
});
