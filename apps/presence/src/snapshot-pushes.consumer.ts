import { CAMERA_REQUEST_CONTEXT, EVENTS_SUBJECT_ROOT, FILE_TRANSFER_CONTEXT, SNAPSHOT_CONTEXT, type SnapshotDomainEvent, type SnapshotPush } from '@parley/contracts';
import type { RecordedEvent } from '@parley/eventsourcing';
import { deliverToEndpoints } from '@parley/messaging';
import { type EventConsumer, eventConsumer } from '@parley/service-kit';
import { PUSH_HORIZON_MS, endpointsOfUsers } from './infra/presence-views';
import type { PresenceKit } from './settings';

type Of<T extends SnapshotDomainEvent['type']> = RecordedEvent<Extract<SnapshotDomainEvent, { type: T }>>;

/**
 * What the snapshot service's events tell the endpoints concerned, pushed at qos 0 (queued while an
 * endpoint has no session): a snapshot or camera request to its target's endpoint, the image and
 * the answer to the requester's, an approval or discard to both, a file to every endpoint of the
 * user it was sent to (as the spec's FileTransferEvent). What a push carries is the event's fields
 * a client acts on; where a blob is stored never leaves the services.
 */
export function snapshotPushes(kit: PresenceKit): EventConsumer[] {
  const { nc, clock, store } = kit;
  const push = async (e: RecordedEvent, organizationId: string, endpoints: string[], fields: Record<string, unknown>, type: string = e.type): Promise<void> => {
    // Late (a consumer replaying history): a push about a moment long gone helps nobody.
    if (clock.now() - Date.parse(e.metadata.time) >= PUSH_HORIZON_MS) return;
    const event: SnapshotPush = { ...fields, id: e.eventId, type, timestamp: new Date(e.metadata.time).toISOString(), organizationId };
    const targets = [...new Set(endpoints)].map((userEndpointId) => ({ organizationId, userEndpointId }));
    await deliverToEndpoints(nc, targets, { id: e.eventId, qos: 0, event });
  };
  const image = (file: { mimeType: string; extension?: string; size: number }) => ({ mimeType: file.mimeType, ...(file.extension ? { suffix: file.extension } : {}), size: file.size });
  const options = { from: 'new' as const, maxDeliver: 20, backoffMs: [100, 500, 2000, 5000, 15000] };
  /** The image arrived (asked for, or sent unasked): its requester (its receiver) hears of it, without where it is stored. */
  const imageToRequester = async (e: Of<'SnapshotAcquiredEvent' | 'SnapshotUploadedEvent'>) => {
    const { organizationId, file, path: _path, ...d } = e.data;
    await push(e, organizationId, [d.requesterUserEndpointId], { ...d, ...image(file) });
  };
  /** Approved or discarded: both sides hear of it. */
  const judgementToBothSides = async (e: Of<'SnapshotApprovedEvent' | 'SnapshotDiscardedEvent'>) => {
    const { organizationId, ...d } = e.data;
    await push(e, organizationId, [d.requesterUserEndpointId, d.targetUserEndpointId], d);
  };

  return [
    eventConsumer<Extract<SnapshotDomainEvent, { type: `Snapshot${'Requested' | 'Acquired' | 'Uploaded' | 'Approved' | 'Discarded'}Event` }>>({
      name: 'presence-snapshot-pushes',
      subject: `${EVENTS_SUBJECT_ROOT}.${SNAPSHOT_CONTEXT}.>`,
      ...options,
      handlers: {
        SnapshotRequestedEvent: async (e: Of<'SnapshotRequestedEvent'>) => {
          const { organizationId, ...d } = e.data;
          await push(e, organizationId, [d.userEndpointId], d);
        },
        SnapshotAcquiredEvent: imageToRequester,
        SnapshotUploadedEvent: imageToRequester,
        SnapshotApprovedEvent: judgementToBothSides,
        SnapshotDiscardedEvent: judgementToBothSides,
      },
    }),
    eventConsumer<Extract<SnapshotDomainEvent, { type: `SnapshotCameraRequest${string}` }>>({
      name: 'presence-camera-request-pushes',
      subject: `${EVENTS_SUBJECT_ROOT}.${CAMERA_REQUEST_CONTEXT}.>`,
      ...options,
      handlers: {
        SnapshotCameraRequestedEvent: async (e: Of<'SnapshotCameraRequestedEvent'>) => {
          const { organizationId, ...d } = e.data;
          await push(e, organizationId, [d.userEndpointId], d);
        },
        SnapshotCameraRequestRespondedEvent: async (e: Of<'SnapshotCameraRequestRespondedEvent'>) => {
          const { organizationId, ...d } = e.data;
          await push(e, organizationId, [d.requesterUserEndpointId], d);
        },
      },
    }),
    eventConsumer<Extract<SnapshotDomainEvent, { type: 'FileTransferCreatedEvent' }>>({
      name: 'presence-file-transfer-pushes',
      subject: `${EVENTS_SUBJECT_ROOT}.${FILE_TRANSFER_CONTEXT}.>`,
      ...options,
      handlers: {
        FileTransferCreatedEvent: async (e: Of<'FileTransferCreatedEvent'>) => {
          const { organizationId, file, senderUserId, ...d } = e.data;
          const endpoints = await endpointsOfUsers(store, organizationId, [d.targetId]);
          await push(e, organizationId, endpoints, { ...d, userId: senderUserId, ...(file.filename !== undefined ? { filename: file.filename } : {}), mimeType: file.mimeType, size: file.size }, 'FileTransferEvent');
        },
      },
    }),
  ];
}
