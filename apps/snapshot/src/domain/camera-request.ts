import { type Actor, ParleyError, type SnapshotDomainEvent, authorize } from '@parley/contracts';
import type { Decider } from '@parley/eventsourcing';
import { type AskOfCamera, decideAsk } from './snapshot';

type CameraRequestEvent = Extract<SnapshotDomainEvent, { type: 'SnapshotCameraRequestedEvent' | 'SnapshotCameraRequestRespondedEvent' }>;

/**
 * A camera request as a pure decider: the requester asks the target's camera to do something
 * (switch to the other camera, turn the flash on or off, or a word of the caller's), the target
 * answers once whether it did.
 */
export interface CameraRequestState {
  status: 'none' | 'REQUESTED' | 'RESPONDED';
  version: number;
  id: string;
  organizationId: string;
  requesterUserId: string;
  requesterUserEndpointId: string;
  userId: string;
  userEndpointId: string;
}

export const initialCameraRequestState = (): CameraRequestState => ({
  status: 'none',
  version: 0,
  id: '',
  organizationId: '',
  requesterUserId: '',
  requesterUserEndpointId: '',
  userId: '',
  userEndpointId: '',
});

interface Base {
  snapshotCameraRequestId: string;
  organizationId: string;
  actor: Actor;
  now: string;
}

export type CameraRequestCommand = Base &
  (
    | (AskOfCamera & { kind: 'request'; cameraRequestType: string })
    | { kind: 'respond'; userEndpointId: string; succeeded: boolean; additionalInformation?: string }
  );

const notFound = (id: string) => new ParleyError('NOT_FOUND', `Camera request ${id} not found`);

export function decideCameraRequest(cmd: CameraRequestCommand, s: CameraRequestState): CameraRequestEvent[] {
  const ref = { snapshotCameraRequestId: cmd.snapshotCameraRequestId, organizationId: cmd.organizationId };
  if (cmd.kind === 'request') {
    const ask = decideAsk(cmd, () => notFound(cmd.snapshotCameraRequestId));
    if (s.status !== 'none') throw new ParleyError('CONFLICT', `Camera request id ${cmd.snapshotCameraRequestId} is already taken`);
    return [{ type: 'SnapshotCameraRequestedEvent', schemaVersion: 1, data: { ...ref, ...ask, cameraRequestType: cmd.cameraRequestType, requestedAt: cmd.now } }];
  }
  if (s.status === 'none' || s.organizationId !== cmd.actor.organizationId) throw notFound(cmd.snapshotCameraRequestId);
  authorize('answerCameraRequest', s.userId === cmd.actor.userId ? 'one asked of the caller' : 'one asked of another user', cmd.actor, () => notFound(cmd.snapshotCameraRequestId));
  if (s.status === 'RESPONDED') throw new ParleyError('CONFLICT', `Camera request ${s.id} is RESPONDED: it was answered already`, { state: s.status });
  return [
    {
      type: 'SnapshotCameraRequestRespondedEvent',
      schemaVersion: 1,
      data: {
        ...ref,
        userId: cmd.actor.userId,
        userEndpointId: cmd.userEndpointId,
        requesterUserEndpointId: s.requesterUserEndpointId,
        succeeded: cmd.succeeded,
        ...(cmd.additionalInformation !== undefined ? { additionalInformation: cmd.additionalInformation } : {}),
        respondedAt: cmd.now,
      },
    },
  ];
}

export function evolveCameraRequest(s: CameraRequestState, e: CameraRequestEvent): CameraRequestState {
  if (e.type === 'SnapshotCameraRequestRespondedEvent') return { ...s, status: 'RESPONDED', version: s.version + 1 };
  const d = e.data;
  return {
    status: 'REQUESTED',
    version: s.version + 1,
    id: d.snapshotCameraRequestId,
    organizationId: d.organizationId,
    requesterUserId: d.requesterUserId,
    requesterUserEndpointId: d.requesterUserEndpointId,
    userId: d.userId,
    userEndpointId: d.userEndpointId,
  };
}

export const cameraRequestDecider: Decider<CameraRequestCommand, CameraRequestEvent, CameraRequestState> = {
  initialState: initialCameraRequestState,
  decide: decideCameraRequest,
  evolve: evolveCameraRequest,
};
