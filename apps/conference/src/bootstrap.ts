import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { Logger } from 'nestjs-pino';
import { connect } from 'nats';
import { ConferenceCommands, ConferenceQueries } from '@parley/contracts';
import { EventRelay, PgliteEventStore, PostgresEventStore, type SqlEventStore, UpcasterRegistry, ensureEventsStream, streamEventSubject } from '@parley/eventsourcing';
import { RpcErrorFilter, ensureDeliveryStream, natsServers, natsTransport, waitUntilAnswered } from '@parley/messaging';
import type { ConferenceConfig } from './config';
import { ConferenceModule } from './conference.module';
import { conferenceUpcasters } from './domain/upcasters';
import { prepareConferenceViews } from './infra/conference-views';

export interface RunningConferenceService {
  /** The service's event store (tests count what it holds). */
  store: SqlEventStore;
  close(): Promise<void>;
}

export function makeConferenceStore(config: ConferenceConfig): SqlEventStore {
  const upcasters = new UpcasterRegistry();
  for (const u of conferenceUpcasters) upcasters.register(u);
  return config.databaseUrl ? new PostgresEventStore(config.databaseUrl, { upcasters }) : new PgliteEventStore(config.dataDir, { upcasters });
}

/**
 * Starts the conference service: event store (PostgreSQL or embedded PGlite), the read
 * model, the relay to JetStream, and the NATS handlers (queue group "conference", so
 * replicas share the load).
 */
export async function startConferenceService(config: ConferenceConfig): Promise<RunningConferenceService> {
  const nc = await connect({ servers: natsServers(config.natsUrl), name: 'parley-conference' });
  const jsm = await nc.jetstreamManager();
  await ensureEventsStream(jsm, { replicas: config.eventsStreamReplicas });
  await ensureDeliveryStream(jsm, { replicas: config.eventsStreamReplicas }); // sendEvent's qos 1
  const store = makeConferenceStore(config);
  await store.init();
  await prepareConferenceViews(store);

  const relay = new EventRelay({
    store,
    nats: nc,
    name: 'conference',
    pollIntervalMs: config.relayPollMs,
    subjectFor: (e) => streamEventSubject(e.streamId, e.type),
  });
  relay.start();

  const app = await NestFactory.createMicroservice<MicroserviceOptions>(ConferenceModule.forRoot({ config, store, nc, kickRelay: () => relay.kick(), health: () => relay.serviceHealth() }), {
    ...natsTransport(config.natsUrl, 'conference'),
    bufferLogs: true,
  });
  const logger = app.get(Logger);
  app.useLogger(logger);
  app.useGlobalFilters(new RpcErrorFilter());
  await app.listen();
  await waitUntilAnswered(nc, ConferenceQueries.health);
  logger.log(`conference service listening on ${config.natsUrl} (${Object.keys(ConferenceCommands).length} commands), store: ${config.databaseUrl ? 'PostgreSQL' : `PGlite ${config.dataDir}`}`);

  let closed = false;
  return {
    store,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await relay.stop();
      await nc.drain();
      await store.close();
    },
  };
}
