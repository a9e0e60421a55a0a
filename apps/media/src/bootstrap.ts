import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { Logger } from 'nestjs-pino';
import { connect } from 'nats';
import { MediaCommands } from '@parley/contracts';
import { ensureEventsStream } from '@parley/eventsourcing';
import { RpcErrorFilter, natsServers, natsTransport, waitUntilAnswered } from '@parley/messaging';
import type { MediaConfig } from './config';
import { consumeConferenceEvents } from './conference-events.consumer';
import { MediaModule } from './media.module';
import { Sfu } from './sfu/sfu';

export interface RunningMediaService {
  sfu: Sfu;
  close(): Promise<void>;
}

/**
 * Starts the media service: mediasoup workers (MEDIASOUP_WORKER_BIN), the NATS handlers (queue
 * group "media") and a durable consumer of conference events that closes media the conference
 * no longer has.
 */
export async function startMediaService(config: MediaConfig): Promise<RunningMediaService> {
  const nc = await connect({ servers: natsServers(config.natsUrl), name: 'parley-media' });
  await ensureEventsStream(await nc.jetstreamManager(), { replicas: config.eventsStreamReplicas });
  const sfu = new Sfu({
    workers: config.workers,
    rtcMinPort: config.rtcMinPort,
    rtcMaxPort: config.rtcMaxPort,
    listenIp: config.listenIp,
    announcedIp: config.announcedIp,
    transportsPerUser: config.transportsPerUser,
  });
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(MediaModule.forRoot({ config, sfu }), { ...natsTransport(config.natsUrl, 'media'), bufferLogs: true });
  const logger = app.get(Logger);
  app.useLogger(logger);
  app.useGlobalFilters(new RpcErrorFilter());
  // A dead worker takes its routers' media with it; the process exits so a supervisor restarts it clean.
  await sfu.start((e) => {
    logger.error(`a mediasoup worker died: ${e.message}`);
    process.exit(1);
  });
  const consumer = consumeConferenceEvents(nc, sfu, (msg, err) => logger.warn(`${msg}: ${String(err)}`));
  await consumer.start();
  await app.listen();
  await waitUntilAnswered(nc, MediaCommands.health);
  logger.log(`media service: ${config.workers} mediasoup worker(s), RTC ports ${config.rtcMinPort}-${config.rtcMaxPort} on ${config.listenIp}${config.announcedIp ? ` (announced ${config.announcedIp})` : ''}`);
  let closed = false;
  return {
    sfu,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await consumer.stop();
      await sfu.close();
      await nc.drain();
    },
  };
}
