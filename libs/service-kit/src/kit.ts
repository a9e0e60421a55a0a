import type { Logger } from 'pino';
import type { NatsConnection } from 'nats';
import type { RequestContext } from '@parley/contracts';
import type { SqlEventStore } from '@parley/eventsourcing';
import type { CallerAssertions, NatsRpcClient } from '@parley/messaging';
import type { platformSettings } from './platform-settings';
import type { Projections } from './projections';
import type { SettingsOf, SettingsSpec } from '@parley/messaging';

/** Where a service reads the time; tests pass a clock they move themselves. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** The clock's time as an ISO-8601 instant, as commands and events carry it. */
export const instantOf = (clock: Clock): string => new Date(clock.now()).toISOString();

/** The Nest injection token of the running service's Kit. */
export const KIT = Symbol('PARLEY_KIT');

/**
 * What the kit gives a running service (inject it with `@Inject(KIT)`): its settings, its one
 * NATS connection, its event store and projections (event-sourced services), a client for other
 * services, the clock, the logger, and `committed()` to wake the relay after a write.
 */
export interface Kit<S extends SettingsSpec = SettingsSpec> {
  readonly name: string;
  readonly settings: SettingsOf<typeof platformSettings> & SettingsOf<S>;
  readonly nc: NatsConnection;
  readonly rpc: NatsRpcClient;
  /** Signs the callers this service names, and checks those it is given (caller-assertion.ts). */
  readonly assertions: CallerAssertions;
  readonly clock: Clock;
  readonly log: Logger;
  /** The service's event store; throws for a service without one. */
  readonly store: SqlEventStore;
  readonly projections: Projections;
  /** Wakes the relay now (a commit's events go out in milliseconds instead of at the next poll). */
  committed(): void;
  /**
   * Whether the caller's X-Auvious-TransactionId was answered already (a command under it stored
   * its answer, still kept): a question asked before a retried command (an upload's, whose file
   * the gateway must stream before the command can be matched to the first) answers as it did the
   * first time instead of deciding again on what the first attempt changed. False without one.
   */
  answeredBefore(ctx: RequestContext): Promise<boolean>;
}
