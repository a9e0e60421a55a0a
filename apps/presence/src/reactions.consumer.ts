import type { NatsConnection } from 'nats';
import {
  ConferenceCommands,
  DELIVERY_STREAM,
  EVENTS_STREAM,
  EVENTS_SUBJECT_ROOT,
  type EndpointSessionControl,
  ParleyError,
  type RequestContext,
  type UserEndpointDomainEvent,
  deliveryConsumerName,
  endpointQueuedSubject,
  endpointSessionSubject,
} from '@parley/contracts';
import type { EventStore, RelayedEvent } from '@parley/eventsourcing';
import { DurableConsumer, type NatsRpcClient, deliverToEndpoints } from '@parley/messaging';
import type { Clock } from './config';
import { conferencesOf } from './infra/presence-views';
import { PRESENCE_ACTOR } from './presence.service';

/** The conference already moved on (the endpoint left, or the conference ended): nothing left to do. */
const settled = (e: unknown) => e instanceof ParleyError && (e.code === 'NOT_FOUND' || e.code === 'CONFLICT');

/**
 * What follows from the presence service's own events, driven by them (durable consumer
 * "presence-reactions") so that a crash between recording and acting loses nothing: the
 * event is redelivered until every step is done, and every step is idempotent.
 * - KeepAliveRequested: the reminder is pushed to the endpoint (unless its deadline has passed).
 * - StateChanged: each conference the endpoint joined marks the participant SICK / HEALTHY.
 * - Unregistered (also 'expired'): it leaves each conference with that reason, its qos 1
 *   queue is purged, and gateways close its socket.
 */
export function consumeOwnEvents(nc: NatsConnection, store: EventStore, rpc: NatsRpcClient, clock: Clock, log: (msg: string, err?: unknown) => void): DurableConsumer<RelayedEvent> {
  const asService = (organizationId: string, e: RelayedEvent): RequestContext => ({
    actor: { userId: PRESENCE_ACTOR, organizationId, roles: ['SERVICE'] },
    correlationId: e.metadata.correlationId,
    causationId: e.eventId,
  });
  const forEachConference = async (organizationId: string, userEndpointId: string, call: (conferenceId: string) => Promise<unknown>) => {
    for (const conferenceId of await store.transaction((sql) => conferencesOf(sql, organizationId, userEndpointId))) {
      await call(conferenceId).catch((err) => {
        if (!settled(err)) throw err;
      });
    }
  };

  return new DurableConsumer<RelayedEvent>({
    nc,
    stream: EVENTS_STREAM,
    durable: 'presence-reactions',
    filterSubject: `${EVENTS_SUBJECT_ROOT}.userendpoint.>`,
    maxDeliver: 20,
    backoffMs: [100, 500, 2000, 5000, 15000],
    log,
    handle: async (relayed) => {
      const e = relayed as unknown as UserEndpointDomainEvent;
      const { organizationId, userEndpointId } = e.data;
      const ctx = asService(organizationId, relayed);
      switch (e.type) {
        case 'UserEndpointKeepAliveRequestedEvent':
          // Late (a redelivery, or a new consumer replaying history): a reminder past its deadline helps nobody.
          if (Date.parse(e.data.deadline) <= clock.now()) return;
          await deliverToEndpoints(nc, [{ organizationId, userEndpointId }], {
            id: relayed.eventId,
            qos: 0,
            event: { type: e.type, timestamp: relayed.metadata.time, userEndpointId, deadline: e.data.deadline },
          });
          return;
        case 'UserEndpointStateChangedEvent':
          await forEachConference(organizationId, userEndpointId, (conferenceId) =>
            rpc.request(ConferenceCommands.updateParticipantState, { conferenceId, userEndpointId, state: e.data.state }, ctx),
          );
          return;
        case 'UserEndpointUnregisteredEvent': {
          // Sockets close first, so no session consumes the queue while it is purged.
          const control: EndpointSessionControl = { kind: 'unregistered', reason: e.data.reason };
          nc.publish(endpointSessionSubject(organizationId, userEndpointId), JSON.stringify(control));
          await forEachConference(organizationId, userEndpointId, (conferenceId) => rpc.request(ConferenceCommands.leave, { conferenceId, userEndpointId, reason: e.data.reason }, ctx));
          const jsm = await nc.jetstreamManager();
          await jsm.streams.purge(DELIVERY_STREAM, { filter: endpointQueuedSubject(organizationId, userEndpointId) });
          await jsm.consumers.delete(DELIVERY_STREAM, deliveryConsumerName(organizationId, userEndpointId)).catch((err) => {
            if (!/consumer not found/i.test(String(err))) throw err;
          });
          return;
        }
        case 'UserEndpointRegisteredEvent':
        case 'UserEndpointKeptAliveEvent':
          return;
        default:
          return assertNever(e);
      }
    },
  });
}

function assertNever(x: never): never {
  throw new Error(`unhandled event: ${JSON.stringify(x)}`);
}

