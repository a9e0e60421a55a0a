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
 * Media follows the conference's events too, so that what the conference service recorded
 * (an unpublish, a leave, the end) closes the media even when the request that caused it never
 * reached the SFU, or crashed half way: no orphan transports.
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
