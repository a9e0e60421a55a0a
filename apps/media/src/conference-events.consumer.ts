import type { NatsConnection } from 'nats';
import { EVENTS_STREAM, EVENTS_SUBJECT_ROOT, type ConferenceDomainEvent } from '@parley/contracts';
import { DurableConsumer } from '@parley/messaging';
import type { Sfu } from './sfu/sfu';

interface RelayedConferenceEvent {
  streamId: string;
  type: ConferenceDomainEvent['type'];
  data: Record<string, string>;
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
      const conferenceId = e.streamId.replace(/^conference-/, '');
      switch (e.type) {
        case 'ConferenceStreamUnpublishedEvent':
          sfu.unpublish(conferenceId, e.data.streamId);
          break;
        case 'ConferenceStreamViewStoppedEvent':
          sfu.stopView(conferenceId, e.data.streamId, e.data.viewerId);
          break;
        case 'ConferenceLeftEvent':
          sfu.leave(conferenceId, e.data.userEndpointId);
          break;
        case 'ConferenceEndedEvent':
          sfu.end(conferenceId);
          break;
        default:
          break;
      }
    },
  });
}
