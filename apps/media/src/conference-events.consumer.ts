import type { NatsConnection } from 'nats';
import { EVENTS_STREAM, EVENTS_SUBJECT_ROOT, type ConferenceDomainEvent, conferenceOfStream } from '@parley/contracts';
import { DurableConsumer } from '@parley/messaging';
import { type Sfu, roomOf } from './sfu/sfu';

interface RelayedConferenceEvent {
  streamId: string;
  type: ConferenceDomainEvent['type'];
  data: Record<string, string>;
  metadata: { organizationId: string };
}

/**
 * Closing media follows the conference's events, and only them: what the conference service
 * recorded (an unpublish, a stopped view, a leave, the end) closes the media, whichever request
 * or replica recorded it, and even when that request crashed half way: no orphan transports.
 * One path instead of a direct call plus the event; the cost is the relay's latency (about 10
 * ms, BENCHMARKS.md) between the 204 and the transports closing.
 */
export function consumeConferenceEvents(nc: NatsConnection, sfu: Sfu, log: (msg: string, err?: unknown) => void): DurableConsumer<RelayedConferenceEvent> {
  return new DurableConsumer<RelayedConferenceEvent>({
    nc,
    stream: EVENTS_STREAM,
    durable: 'media',
    filterSubject: `${EVENTS_SUBJECT_ROOT}.conference.>`,
    deliverNew: true,
    log,
    handle: async (e) => {
      const conference = conferenceOfStream(e.streamId, e.metadata.organizationId);
      if (!conference) return;
      const room = roomOf(conference.organizationId, conference.conferenceId);
      switch (e.type) {
        case 'ConferenceStreamUnpublishedEvent':
          sfu.unpublish(room, e.data.streamId);
          break;
        case 'ConferenceStreamViewStoppedEvent':
          sfu.stopView(room, e.data.streamId, e.data.viewerId);
          break;
        case 'ConferenceLeftEvent':
          sfu.leave(room, e.data.userEndpointId);
          break;
        case 'ConferenceEndedEvent':
          sfu.end(room);
          break;
        default:
          break;
      }
    },
  });
}
