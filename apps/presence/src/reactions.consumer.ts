import {
  ConferenceCommands,
  EVENTS_SUBJECT_ROOT,
  type EndpointSessionControl,
  ParleyError,
  type RequestContext,
  USER_ENDPOINT_CONTEXT,
  type UserEndpointDomainEvent,
  endpointSessionSubject,
} from '@parley/contracts';
import type { RecordedEvent } from '@parley/eventsourcing';
import { deliverToEndpoints, forgetEndpointQueue, serviceActor } from '@parley/messaging';
import { type EventConsumer, eventConsumer, skip } from '@parley/service-kit';
import { conferencesOf } from './infra/presence-views';
import type { PresenceKit } from './settings';

/** The conference already moved on (the endpoint left, or the conference ended): nothing left to do. */
const settled = (e: unknown) => e instanceof ParleyError && (e.code === 'NOT_FOUND' || e.code === 'CONFLICT');

/**
 * What follows from the presence service's own events, driven by them (durable consumer
 * "presence-reactions") so that a crash between recording and acting loses nothing: the
 * event is redelivered until every step is done, and every step is idempotent.
 * - KeepAliveRequested: the reminder is sent to the endpoint (unless its deadline has passed);
 *   it expires at that deadline, so an endpoint that connects later is not sent a stale one.
 * - StateChanged: each conference the endpoint joined marks the participant SICK / HEALTHY.
 * - Unregistered (also 'expired'): it leaves each conference with that reason, its delivery
 *   queue is purged, and gateways close its socket.
 */
export function endpointReactions(kit: PresenceKit): EventConsumer {
  const { nc, rpc, clock, store } = kit;
  const asService = (organizationId: string, e: RecordedEvent): RequestContext => ({
    actor: serviceActor('presence', organizationId),
    correlationId: e.metadata.correlationId,
    causationId: e.eventId,
  });
  const forEachConference = async (organizationId: string, userEndpointId: string, call: (conferenceId: string) => Promise<unknown>) => {
    for (const conferenceId of await conferencesOf(store, organizationId, userEndpointId)) {
      await call(conferenceId).catch((err) => {
        if (!settled(err)) throw err;
      });
    }
  };
  const timeoutMs = kit.settings.conferenceTimeoutMs;

  return eventConsumer<UserEndpointDomainEvent>({
    name: 'presence-reactions',
    subject: `${EVENTS_SUBJECT_ROOT}.${USER_ENDPOINT_CONTEXT}.>`,
    maxDeliver: 20,
    backoffMs: [100, 500, 2000, 5000, 15000],
    handlers: {
      UserEndpointKeepAliveRequestedEvent: async (e) => {
        const { organizationId, userEndpointId, deadline } = e.data;
        // Late (a redelivery, or a new consumer replaying history): a reminder past its deadline helps nobody.
        if (Date.parse(deadline) <= clock.now()) return;
        await deliverToEndpoints(nc, [{ organizationId, userEndpointId }], {
          id: e.eventId,
          qos: 0,
          event: { type: e.type, timestamp: e.metadata.time, userEndpointId, deadline },
          expiresAt: deadline,
        });
      },
      UserEndpointStateChangedEvent: async (e) => {
        const { organizationId, userEndpointId, state } = e.data;
        await forEachConference(organizationId, userEndpointId, (conferenceId) =>
          rpc.request(ConferenceCommands.updateParticipantState, { conferenceId, userEndpointId, state }, asService(organizationId, e), { timeoutMs }),
        );
      },
      UserEndpointUnregisteredEvent: async (e) => {
        const { organizationId, userEndpointId, reason } = e.data;
        // Sockets close first, so no session consumes the queue while it is purged.
        const control: EndpointSessionControl = { kind: 'unregistered', reason };
        nc.publish(endpointSessionSubject(organizationId, userEndpointId), JSON.stringify(control));
        await forEachConference(organizationId, userEndpointId, (conferenceId) =>
          rpc.request(ConferenceCommands.leave, { conferenceId, userEndpointId, reason }, asService(organizationId, e), { timeoutMs }),
        );
        await forgetEndpointQueue(nc, organizationId, userEndpointId);
      },
      UserEndpointRegisteredEvent: skip,
      UserEndpointKeptAliveEvent: skip,
    },
  });
}
