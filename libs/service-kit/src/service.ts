import 'reflect-metadata';
import { join } from 'node:path';
import { Controller, type DynamicModule, type INestApplicationContext, Inject, Module, type Provider, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, type MicroserviceOptions } from '@nestjs/microservices';
import { Logger as NestPinoLogger, LoggerModule } from 'nestjs-pino';
import { type NatsConnection, connect } from 'nats';
import pino, { type Logger } from 'pino';
import { type ServiceHealth, healthSubject } from '@parley/contracts';
import { EventRelay, type SqlEventStore, streamEventSubject } from '@parley/eventsourcing';
import {
  CallerAssertions,
  type DurableConsumer,
  NatsRpcClient,
  callerIdentity,
  RpcErrorFilter,
  checkNatsCredentials,
  SettingError,
  type SettingsOf,
  type SettingsSpec,
  natsConnectOptions,
  natsTransport,
  provisionStreams,
  readSettings,
  reportSettings,
  serviceContext,
  waitUntilAnswered,
} from '@parley/messaging';
import { CommandAnswers, IdempotentCommands } from './command-answers';
import { type EventConsumer, makeEventConsumer } from './consumers';
import { serviceHealth } from './health';
import { type Clock, KIT, type Kit, systemClock } from './kit';
import { platformSettings } from './platform-settings';
import { type Projection, Projections } from './projections';
import { answerProjectionAdmin } from './projection-admin';
import { type RunningProjections, jetStreamHistory, startProjectionRunners } from './projection-runners';
import { openEventStore, upcasterRegistry } from './stores';

/** Something a service runs besides its handlers (the SFU, a scheduler): closed when the service stops. */
export interface Part {
  close(): Promise<void>;
  /** Numbers its health answer reports (e.g. the SFU's load). */
  gauges?(): Record<string, number>;
}

/**
 * A service, declared: everything else (NATS, the event store, projections, the relay, health,
 * readiness, settings, logging, shutdown) the kit does the same way for every service.
 */
export interface ServiceDefinition<S extends SettingsSpec = SettingsSpec> {
  /** Names its queue group, its database directory (DATA_DIR/<name>), its relay and its health subject. */
  name: string;
  /** Its own settings (the platform's are added: platformSettings). */
  settings: S;
  /** Present for an event-sourced service: its read models. The store, relay and projections come with it. */
  eventStore?: {
    projections: Projection[];
    /** SQL run at start before the projections are prepared (one-off data migrations; must be idempotent). */
    migrations?: string[];
    /**
     * Names of projections it no longer has: their tables (every version, companions too) and
     * registry rows are dropped at start. As for a new version, stop the replicas that still
     * write them first.
     */
    retired?: string[];
  };
  /** Its NATS handlers (Nest controllers with @MessagePattern). */
  controllers: Type<unknown>[];
  /** Nest providers its controllers need; the Kit is injectable as KIT. */
  providers?: Provider[];
  /** Whose signed callers its handlers take (default: CALLERS[name]; a process nobody lists there is asked by nobody). */
  callers?: readonly string[];
  /** What its settings cannot say one by one (e.g. one needs another): throws a SettingError before the service connects to anything. */
  checkSettings?(settings: Kit<S>['settings']): void;
  /** Parts its handlers need, started before they listen (their providers are added). */
  setUp?(kit: Kit<S>): Promise<{ providers?: Provider[]; part?: Part }>;
  /** Its consumers of events on JetStream, started once its handlers listen. */
  consumers?(kit: Kit<S>, app: INestApplicationContext): EventConsumer[];
  /** Parts started last (after the consumers), e.g. a scheduler that uses the service's providers. */
  start?(kit: Kit<S>, app: INestApplicationContext): Promise<Part[]> | Part[];
}

export const defineService = <S extends SettingsSpec>(def: ServiceDefinition<S>): ServiceDefinition<S> => def;

export interface StartOptions {
  /** Where settings are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
}

export interface RunningService<S extends SettingsSpec = SettingsSpec> {
  readonly kit: Kit<S>;
  /** A provider of the service's Nest application (tests reach a scheduler or a service this way). */
  get<T>(token: Type<T> | string | symbol): T;
  close(): Promise<void>;
}

/** Where pino writes: stdout as JSON lines, or through pino-pretty as readable lines for a terminal (LOG_FORMAT=pretty). */
export function logTransport(format: 'json' | 'pretty'): pino.TransportSingleOptions | undefined {
  return format === 'pretty' ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,context' } } : undefined;
}

/** The service's logger. */
function makeLogger(name: string, level: string, format: 'json' | 'pretty'): Logger {
  const transport = logTransport(format);
  return transport ? pino({ name, level }, pino.transport(transport)) : pino({ name, level });
}

/** Bounds one step of a shutdown, so a part that hangs (its server gone) cannot hold the process. */
async function bounded(step: string, ms: number, log: Logger, fn: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${step} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } catch (err) {
    log.warn({ err }, `stopping: ${step} failed; going on`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts a service, in the same order for every one: settings (reported, secrets masked), NATS,
 * the JetStream streams (created if missing, never changed), the event store and its projections
 * (built or rebuilt beside the live tables), the relay, the service's own parts, its handlers
 * (queue group = its name) and health answer, its consumers, then its last parts. Closing runs
 * the other way, each step bounded, so a service stops even when NATS or its database is gone.
 */
export async function startService<S extends SettingsSpec>(def: ServiceDefinition<S>, options: StartOptions = {}): Promise<RunningService<S>> {
  const env = options.env ?? process.env;
  const spec = { ...platformSettings, ...def.settings };
  const settings = readSettings(spec, env) as Kit<S>['settings'];
  def.checkSettings?.(settings);
  checkNatsCredentials(settings);
  if (settings.mode === 'production' && settings.faultCrashAfterCommit) throw new SettingError('FAULT_CRASH_AFTER_COMMIT makes the process kill itself: it is for the crash tests, and refused in production');
  // Who calls whom on the bus: this service signs the callers it names, and checks those it is given.
  const assertions = new CallerAssertions(callerIdentity(def.name, settings, def.callers));
  const log = makeLogger(def.name, settings.logLevel, settings.logFormat);
  log.info({ settings: reportSettings(spec, settings as Record<string, unknown>) }, `${def.name} service starting`);

  const closers: Array<{ step: string; fn: () => Promise<unknown> }> = [];
  const stepMs = Math.max(100, Math.floor(settings.stopTimeoutMs / 4));
  const close = async () => {
    for (const { step, fn } of closers.reverse()) await bounded(step, stepMs, log, fn);
    closers.length = 0;
  };

  try {
    const nc: NatsConnection = await connect(natsConnectOptions(settings, `parley-${def.name}`));
    // Drained when all is well; closed outright when the server is gone (a drain would wait for it).
    closers.push({
      step: 'NATS',
      fn: async () => {
        if (!nc.isClosed()) await bounded('draining NATS', stepMs / 2, log, () => nc.drain());
        if (!nc.isClosed()) await nc.close();
      },
    });
    await provisionStreams(await nc.jetstreamManager(), { replicas: settings.jetStreamReplicas });

    const clock = options.clock ?? systemClock;
    let store: SqlEventStore | undefined;
    let answers: CommandAnswers | undefined;
    let projections: Projections | undefined;
    let relay: EventRelay | undefined;
    let runners: RunningProjections | undefined;
    if (def.eventStore) {
      const opened = openEventStore(def.name, settings);
      store = opened;
      closers.push({ step: 'event store', fn: () => opened.close() });
      await opened.init();
      for (const statement of def.eventStore.migrations ?? []) await opened.transaction((sql) => sql.query(statement));
      answers = new CommandAnswers(opened, settings.transactionRetentionMs, clock);
      await answers.init();
      projections = new Projections(opened, def.eventStore.projections, jetStreamHistory(nc));
      await projections.prepare((msg) => log.info(msg), def.eventStore.retired);
      relay = new EventRelay({
        store: opened,
        nats: nc,
        name: def.name,
        pollIntervalMs: settings.relayPollMs,
        subjectFor: (e) => streamEventSubject(e.streamId, e.type),
        logger: log,
      });
      relay.start();
      const started = relay;
      closers.push({ step: 'relay', fn: () => started.stop() });
    }

    const kit: Kit<S> = {
      name: def.name,
      settings,
      nc,
      rpc: new NatsRpcClient(nc, assertions),
      assertions,
      clock,
      log,
      get store(): SqlEventStore {
        if (!store) throw new Error(`the ${def.name} service has no event store`);
        return store;
      },
      get projections(): Projections {
        if (!projections) throw new Error(`the ${def.name} service has no event store`);
        return projections;
      },
      committed: () => {
        relay?.kick();
        runners?.kick();
      },
      answeredBefore: async (ctx) =>
        answers !== undefined && ctx.transactionId !== undefined && (await answers.find({ organizationId: ctx.actor.organizationId, callerId: ctx.actor.userId, transactionId: ctx.transactionId })) !== undefined,
    };

    const parts: Part[] = [];
    const setUp = def.setUp ? await def.setUp(kit) : {};
    if (setUp.part) {
      const part = setUp.part;
      parts.push(part);
      closers.push({ step: `${def.name}'s own parts`, fn: () => part.close() });
    }

    const health = (): Promise<ServiceHealth> => serviceHealth(def.name, store, relay, parts);
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(
      rootModule(def, kit, [...(def.providers ?? []), ...(setUp.providers ?? [])], health),
      { ...natsTransport(settings, def.name, assertions), bufferLogs: true },
    );
    app.useLogger(app.get(NestPinoLogger));
    app.useGlobalFilters(new RpcErrorFilter());
    if (answers) {
      app.useGlobalInterceptors(new IdempotentCommands(answers, { crashAfterCommit: settings.faultCrashAfterCommit }));
      const sweeper = sweepEvery(answers, log);
      closers.push({ step: 'command answers sweeper', fn: async () => clearInterval(sweeper) });
    }
    closers.push({ step: 'handlers', fn: () => app.close() });
    await app.listen();
    await waitUntilAnswered(kit.rpc, healthSubject(def.name), serviceContext(def.name));

    const upcasters = upcasterRegistry();
    const consumers: DurableConsumer[] = (def.consumers?.(kit, app) ?? []).map((c) => makeEventConsumer(kit, upcasters, c));
    for (const consumer of consumers) {
      await consumer.start();
      closers.push({ step: `consumer ${consumer.name}`, fn: () => consumer.stop() });
    }
    if (projections) {
      const running = await startProjectionRunners(kit, projections, settings.relayPollMs);
      runners = running;
      closers.push({ step: 'projections', fn: () => running.stop() });
      const admin = answerProjectionAdmin(def.name, nc, assertions, projections, running, log);
      closers.push({ step: 'projection admin', fn: async () => admin.unsubscribe() });
    }
    for (const part of def.start ? await def.start(kit, app) : []) {
      parts.push(part);
      closers.push({ step: `${def.name}'s parts`, fn: () => part.close() });
    }

    log.info(`${def.name} service ready on ${settings.natsUrl}; store: ${store ? (settings.databaseUrl ? 'PostgreSQL' : `PGlite ${join(settings.dataDir, def.name)}`) : 'none'}`);
    let closing: Promise<void> | undefined;
    return {
      kit,
      get: <T>(token: Type<T> | string | symbol) => app.get<T>(token as Type<T>),
      close: () => (closing ??= close()),
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Deletes expired command answers now and then (a tenth of the retention, at most every 10 minutes); a failure waits for the next round. */
function sweepEvery(answers: CommandAnswers, log: Logger): NodeJS.Timeout {
  const timer = setInterval(
    () => {
      answers.sweep().then(
        (n) => n > 0 && log.debug(`removed ${n} expired command answer(s)`),
        (err: unknown) => log.warn({ err }, 'could not remove expired command answers; trying again later'),
      );
    },
    Math.min(answers.retentionMs / 10, 10 * 60 * 1000),
  );
  timer.unref();
  return timer;
}

/** The service's Nest module: its controllers and providers, the kit, the logger, and its health answer. */
function rootModule(def: ServiceDefinition<SettingsSpec>, kit: Kit<SettingsSpec>, providers: Provider[], health: () => Promise<ServiceHealth>): DynamicModule {
  const HEALTH = Symbol('HEALTH');
  @Controller()
  class HealthController {
    constructor(@Inject(HEALTH) private readonly answer: () => Promise<ServiceHealth>) {}

    @MessagePattern(healthSubject(def.name))
    health(): Promise<ServiceHealth> {
      return this.answer();
    }
  }
  @Module({})
  class ServiceModule {}
  return {
    module: ServiceModule,
    imports: [LoggerModule.forRoot({ pinoHttp: { logger: kit.log } })],
    controllers: [...def.controllers, HealthController],
    providers: [{ provide: KIT, useValue: kit }, { provide: HEALTH, useValue: health }, ...providers],
  };
}

export type SettingsOfService<D> = D extends ServiceDefinition<infer S> ? SettingsOf<typeof platformSettings> & SettingsOf<S> : never;
