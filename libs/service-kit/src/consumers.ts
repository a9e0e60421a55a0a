import { type DomainEvent, type RecordedEvent, type UpcasterRegistry, decodeRelayedEvent } from '@parley/eventsourcing';
import { DurableConsumer, PermanentFailure } from '@parley/messaging';
import type { Kit } from './kit';

/** What a handler of one event type gets: the event as recorded (upcast to its newest shape). */
export type EventHandler<E extends DomainEvent> = (event: RecordedEvent<E>) => Promise<void>;

/** Marks an event type the consumer receives and deliberately does nothing with. */
export const skip = 'skip' as const;

/**
 * A handler, or `skip`, for every type of the union: leaving a type out does not compile, so a
 * new event type makes every consumer of its stream decide what to do with it.
 */
export type EventHandlers<E extends DomainEvent> = { [K in E['type']]: EventHandler<Extract<E, { type: K }>> | typeof skip };

export interface EventConsumerDefinition<E extends DomainEvent> {
  /** The durable consumer's name: its position, its dead letters (`parley.dlq.<name>`) and replays. */
  name: string;
  /** A subject filter on PARLEY_EVENTS, e.g. `parley.evt.conference.>`. */
  subject: string;
  /** A new consumer starts at the stream's start (default) or at what is published from now on. */
  from?: 'start' | 'new';
  /** Tries before an event is dead-lettered (default 5), and the delays between them. */
  maxDeliver?: number;
  backoffMs?: number[];
  handlers: EventHandlers<E>;
}

/** A declared consumer, its union checked and erased: what a service definition lists. */
export interface EventConsumer extends Omit<EventConsumerDefinition<DomainEvent>, 'handlers'> {
  /** The handler of a type, `skip`, or undefined for a type the consumer does not know. */
  handlerOf(type: string): EventHandler<DomainEvent> | typeof skip | undefined;
}

/** Declares a consumer of events of union E (the type argument is what makes the handlers exhaustive). */
export function eventConsumer<E extends DomainEvent>(def: EventConsumerDefinition<E>): EventConsumer {
  const { handlers, ...rest } = def;
  const byType = handlers as Record<string, EventHandler<E> | typeof skip | undefined>;
  // Each handler is called only with events of its own type (handlerOf is asked by the event's type).
  return { ...rest, handlerOf: (type) => byType[type] as EventHandler<DomainEvent> | typeof skip | undefined };
}

/**
 * The one way a service consumes events from JetStream: decode, upcast with the registry the
 * stores use, dispatch by type, acknowledge after the handler. A handler that keeps failing is
 * retried with back-off and then dead-lettered with its error (DurableConsumer); an event of a
 * type the consumer has no entry for (a producer newer than this consumer) is dead-lettered at
 * once, to be replayed once the consumer knows it.
 */
export function makeEventConsumer(kit: Pick<Kit, 'nc' | 'log' | 'assertions'>, upcasters: UpcasterRegistry, def: EventConsumer): DurableConsumer {
  return new DurableConsumer({
    nc: kit.nc,
    assertions: kit.assertions,
    durable: def.name,
    filterSubject: def.subject,
    deliverNew: def.from === 'new',
    maxDeliver: def.maxDeliver,
    backoffMs: def.backoffMs,
    log: (msg, err) => kit.log.warn({ err }, msg),
    handle: async (msg) => {
      let event: RecordedEvent;
      try {
        event = upcasters.upcast(decodeRelayedEvent(msg.data));
      } catch (err) {
        throw new PermanentFailure(`not a Parley event: ${err instanceof Error ? err.message : String(err)}`);
      }
      const handler = def.handlerOf(event.type);
      if (handler === undefined) throw new PermanentFailure(`consumer ${def.name} has no handler for ${event.type} (schema version ${event.schemaVersion})`);
      if (handler === skip) return;
      await handler(event);
    },
  });
}
