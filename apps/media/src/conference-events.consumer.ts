import { CONFERENCE_CONTEXT, type ConferenceDomainEvent, EVENTS_SUBJECT_ROOT, conferenceOfStream } from '@parley/contracts';
import type { RecordedEvent } from '@parley/eventsourcing';
import { type EventConsumer, eventConsumer, skip } from '@parley/service-kit';
import { type Sfu, roomOf } from './sfu/sfu';

/**
 * Closing media follows the conference's events, and only them: what the conference service
 * recorded (an unpublish, a stopped view, a leave, the end) closes the media, whichever request
 * or replica recorded it, and even when that request crashed half way: no orphan transports.
 * One path instead of a direct call plus the event; the cost is the relay's latency (about 10
 * ms, BENCHMARKS.md) between the 204 and the transports closing. Media held in memory does not
 * outlive the process, so a new consumer starts at the events published from then on.
 */
export function mediaConferenceEvents(sfu: Sfu): EventConsumer {
  const room = (e: RecordedEvent) => {
    const conference = conferenceOfStream(e.streamId, e.metadata.organizationId);
    return conference && roomOf(conference.organizationId, conference.conferenceId);
  };
  return eventConsumer<ConferenceDomainEvent>({
    name: 'media',
    subject: `${EVENTS_SUBJECT_ROOT}.${CONFERENCE_CONTEXT}.>`,
    from: 'new',
    handlers: {
      ConferenceStreamUnpublishedEvent: async (e) => {
        const r = room(e);
        if (r) sfu.unpublish(r, e.data.streamId);
      },
      ConferenceStreamViewStoppedEvent: async (e) => {
        const r = room(e);
        if (r) sfu.stopView(r, e.data.streamId, e.data.viewerId);
      },
      ConferenceLeftEvent: async (e) => {
        const r = room(e);
        if (r) sfu.leave(r, e.data.userEndpointId);
      },
      ConferenceEndedEvent: async (e) => {
        const r = room(e);
        if (r) sfu.end(r);
      },
      ConferenceCreatedEvent: skip,
      ConferenceJoinedEvent: skip,
      ConferenceInteractionSetEvent: skip,
      ConferenceMetadataUpdatedEvent: skip,
      ConferenceParticipantMetadataUpdatedEvent: skip,
      ConferenceStreamMetadataUpdatedEvent: skip,
      ConferenceStreamBitrateUpdatedEvent: skip,
      ConferenceStreamPublishedEvent: skip,
      ConferenceStreamViewStartedEvent: skip,
      ConferenceParticipantStateUpdatedEvent: skip,
    },
  });
}
