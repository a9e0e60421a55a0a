import type { NatsConnection } from 'nats';
import { EVENTS_STREAM, EVENTS_SUBJECT_ROOT, type ConferenceDomainEvent, conferenceOfStream, toFeedEvent } from '@parley/contracts';
import type { EventStore, RelayedEvent } from '@parley/eventsourcing';
import { DurableConsumer, deliverToEndpoints } from '@parley/messaging';
import type { Clock } from './config';
import { addParticipation, endConference, endpointsInConference, removeParticipation } from './infra/presence-views';

/** Events older than this when first seen are not pushed (a new consumer replaying history builds participations only). */
const PUSH_HORIZON_MS = 5 * 60 * 1000;

/**
 * Follows the conference service's events (durable consumer "presence", in order):
 * - keeps `presence_participations` (joined, left, ended), so an expiring endpoint knows which
 *   conferences to leave without asking the conference service's database;
 * - pushes every conference event (in the feed's shape) to the endpoints joined to it, qos 0:
 *   the joining endpoint gets its own ConferenceJoinedEvent, the leaving one its ConferenceLeftEvent.
 */
export function consumeConferenceEvents(nc: NatsConnection, store: EventStore, clock: Clock, log: (msg: string, err?: unknown) => void): DurableConsumer<RelayedEvent> {
  return new DurableConsumer<RelayedEvent>({
    nc,
    stream: EVENTS_STREAM,
    durable: 'presence',
    filterSubject: `${EVENTS_SUBJECT_ROOT}.conference.>`,
    maxDeliver: 20,
    backoffMs: [100, 500, 2000, 5000, 15000],
    log,
    handle: async (e) => {
      const conference = conferenceOfStream(e.streamId, e.metadata.organizationId);
      if (!conference) return;
      const { organizationId, conferenceId } = conference;
      const event = e as unknown as ConferenceDomainEvent & RelayedEvent;
      const endpointOf = (event.data as { userEndpointId?: string }).userEndpointId;
      // One transaction: the participation change, and who is joined to receive the event (the
      // joining endpoint included, the leaving one still included).
      const recipients = await store.transaction(async (sql) => {
        if (event.type === 'ConferenceJoinedEvent' && endpointOf) await addParticipation(sql, organizationId, endpointOf, conferenceId);
        const joined = await endpointsInConference(sql, organizationId, conferenceId);
        if (event.type === 'ConferenceLeftEvent' && endpointOf) await removeParticipation(sql, organizationId, endpointOf, conferenceId);
        if (event.type === 'ConferenceEndedEvent') await endConference(sql, organizationId, conferenceId);
        return joined;
      });
      if (recipients.length > 0 && clock.now() - Date.parse(e.metadata.time) < PUSH_HORIZON_MS) {
        await deliverToEndpoints(
          nc,
          recipients.map((userEndpointId) => ({ organizationId, userEndpointId })),
          { id: e.eventId, qos: 0, event: toFeedEvent(conferenceId, e) as unknown as Record<string, unknown> },
        );
      }
    },
  });
}
