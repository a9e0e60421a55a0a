import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { Logger } from 'nestjs-pino';
import { connect } from 'nats';
import { PresenceCommands, PresenceQueries } from '@parley/contracts';
import { EventRelay, PgliteEventStore, PostgresEventStore, type SqlEventStore, ensureEventsStream, streamEventSubject } from '@parley/eventsourcing';
import { NatsRpcClient, RpcErrorFilter, ensureDeliveryStream, natsServers, natsTransport, waitUntilAnswered } from '@parley/messaging';
import { type Clock, type PresenceConfig, systemClock } from './config';
import { consumeConferenceEvents } from './conference-events.consumer';
import { preparePresenceViews } from './infra/presence-views';
import { PresenceModule } from './presence.module';
import { PresenceService } from './presence.service';
import { consumeOwnEvents } from './reactions.consumer';
import { DeadlineScheduler } from './scheduler';

export interface RunningPresenceService {
  /** The service's event store (tests count what it holds). */
  store: SqlEventStore;
  /** One scheduler pass now (tests that move the clock use it instead of waiting for the next tick). */
  tick(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the presence service: event store (PostgreSQL or embedded PGlite) with its read
 * models, the relay to JetStream, the NATS handlers (queue group "presence"), the deadline
 * scheduler, and the two consumers (conference events; its own events' consequences).
 */
export async function startPresenceService(config: PresenceConfig, clock: Clock = systemClock): Promise<RunningPresenceService> {
  const nc = await connect({ servers: natsServers(config.natsUrl), name: 'parley-presence' });
  const jsm = await nc.jetstreamManager();
  await ensureEventsStream(jsm, { replicas: config.streamReplicas });
  await ensureDeliveryStream(jsm, { replicas: config.streamReplicas });
  const store: SqlEventStore = config.databaseUrl ? new PostgresEventStore(config.databaseUrl) : new PgliteEventStore(config.dataDir);
  await store.init();
  await preparePresenceViews(store);

  // `userendpoint/<org>/<id>` → `parley.evt.userendpoint.<org>.<id>.<Type>`; `userevent/<id>` → `parley.evt.userevent.<id>.<Type>`.
  const relay = new EventRelay({ store, nats: nc, name: 'presence', pollIntervalMs: config.relayPollMs, subjectFor: (e) => streamEventSubject(e.streamId, e.type) });
  relay.start();

  const app = await NestFactory.createMicroservice<MicroserviceOptions>(PresenceModule.forRoot({ config, store, nc, clock, kickRelay: () => relay.kick(), health: () => relay.serviceHealth() }), {
    ...natsTransport(config.natsUrl, 'presence'),
    bufferLogs: true,
  });
  const logger = app.get(Logger);
  app.useLogger(logger);
  app.useGlobalFilters(new RpcErrorFilter());
  await app.listen();
  await waitUntilAnswered(nc, PresenceQueries.health);

  const log = (msg: string, err?: unknown) => logger.warn(err ? `${msg}: ${err instanceof Error ? err.message : String(err)}` : msg, 'presence');
  const conferenceEvents = consumeConferenceEvents(nc, store, clock, log);
  await conferenceEvents.start();
  const reactions = consumeOwnEvents(nc, store, new NatsRpcClient(nc, config.rpcTimeoutMs), clock, log);
  await reactions.start();
  const scheduler = new DeadlineScheduler(store, app.get(PresenceService), clock, config.tickMs, log);
  scheduler.start();
  logger.log(`presence service listening on ${config.natsUrl} (${Object.keys(PresenceCommands).length} commands), store: ${config.databaseUrl ? 'PostgreSQL' : `PGlite ${config.dataDir}`}`, 'presence');

  let closed = false;
  return {
    store,
    tick: () => scheduler.tick(),
    async close() {
      if (closed) return;
      closed = true;
      await scheduler.stop();
      await reactions.stop();
      await conferenceEvents.stop();
      await app.close();
      await relay.stop();
      await nc.drain();
      await store.close();
    },
  };
}
