import { type Actor, type CameraAsk, ParleyError, type Snapshot, type SnapshotDomainEvent, type SnapshotStateName, type StoredFile, authorize, mayAccess } from '@parley/contracts';
import type { Decider } from '@parley/eventsourcing';

type SnapshotEvent = Extract<SnapshotDomainEvent, { type: `Snapshot${'Requested' | 'Acquired' | 'Uploaded' | 'Approved' | 'Discarded'}Event` }>;
type SessionType = NonNullable<Snapshot['sessionType']>;

/**
 * A snapshot as a pure decider: asked of a user's camera (REQUESTED), its image acquired or sent
 * unasked (UPLOADED), then APPROVED or DISCARDED. The requester and the target act on it; the
 * image is a blob the gateway stored, named by the event.
 */
export interface SnapshotState {
  status: 'none' | SnapshotStateName;
  version: number;
  id: string;
  organizationId: string;
  applicationId: string;
  requesterUserId: string;
  requesterUserEndpointId: string;
  userId: string;
  userEndpointId: string;
  relatedSnapshotId?: string;
  sessionType?: SessionType;
  sessionId?: string;
  interactionId?: string;
  type?: string;
  file?: StoredFile;
  path?: string;
  createdAt: string;
  timestamp?: string;
}

export const initialSnapshotState = (): SnapshotState => ({
  status: 'none',
  version: 0,
  id: '',
  organizationId: '',
  applicationId: '',
  requesterUserId: '',
  requesterUserEndpointId: '',
  userId: '',
  userEndpointId: '',
  createdAt: '',
});

interface Base {
  snapshotId: string;
  organizationId: string;
  actor: Actor;
  /** ISO-8601 instant of the decision. */
  now: string;
}

/** A request of a user's camera (a snapshot, a camera request): who asks from where, of whom, in what session. */
export interface AskOfCamera {
  actor: Actor;
  requesterUserEndpointId: string;
  /** The caller registered the requester endpoint (presence knows). */
  fromOwnEndpoint: boolean;
  targetUserId: string;
  targetUserEndpointId: string;
  /** Who registered the target endpoint, if anyone did (presence knows). */
  targetEndpointOwner?: string;
  sessionType?: SessionType;
  sessionId?: string;
}

export type SnapshotCommand = Base &
  (
    | (AskOfCamera & {
        kind: 'request';
        applicationId: string;
        interactionId?: string;
        snapshotType?: string;
      })
    | { kind: 'acquire'; userEndpointId: string; snapshotType?: string; file: StoredFile; path: string }
    | {
        kind: 'upload';
        applicationId: string;
        userEndpointId: string;
        fromOwnEndpoint: boolean;
        targetUserId: string;
        targetUserEndpointId: string;
        targetEndpointOwner?: string;
        relatedSnapshotId?: string;
        interactionId?: string;
        snapshotType: string;
        file: StoredFile;
        path: string;
      }
    | { kind: 'approve'; userEndpointId: string; snapshotType?: string }
    | { kind: 'discard'; userEndpointId: string }
  );

export const snapshotNotFound = (id: string) => new ParleyError('NOT_FOUND', `Snapshot ${id} not found`);

/** The target endpoint must be the target user's: the request goes to it. */
export function checkTargetEndpoint(targetUserId: string, targetUserEndpointId: string, owner: string | undefined): void {
  if (owner !== targetUserId) {
    throw new ParleyError('NOT_FOUND', `User ${targetUserId} has no registered endpoint ${targetUserEndpointId}`, { fields: ['targetUserEndpointId'] });
  }
}

/**
 * Decides a request of a user's camera (askForCamera: staff, from an endpoint of their own, to a
 * registered endpoint of the target) and answers what its event records of it.
 */
export function decideAsk(cmd: AskOfCamera, notFound: () => ParleyError): CameraAsk {
  authorize('askForCamera', cmd.fromOwnEndpoint ? 'from an endpoint the caller registered' : 'from an endpoint the caller did not register', cmd.actor, notFound);
  checkTargetEndpoint(cmd.targetUserId, cmd.targetUserEndpointId, cmd.targetEndpointOwner);
  return {
    requesterUserId: cmd.actor.userId,
    requesterUserEndpointId: cmd.requesterUserEndpointId,
    userId: cmd.targetUserId,
    userEndpointId: cmd.targetUserEndpointId,
    ...(cmd.sessionType !== undefined ? { sessionType: cmd.sessionType } : {}),
    ...(cmd.sessionId !== undefined ? { sessionId: cmd.sessionId } : {}),
  };
}

/** Only images: the content's type (the gateway sniffed it), whatever the client declared. */
export function checkImage(file: StoredFile): void {
  if (!file.mimeType.startsWith('image/')) throw new ParleyError('BAD_REQUEST', `A snapshot must be an image; the file's content is ${file.mimeType}`, { fields: ['image'] });
}

type Situation = 'one the caller asked for or was asked for' | 'any other of its organization';
const situationOf = (s: SnapshotState, actor: Actor): Situation =>
  s.requesterUserId === actor.userId || s.userId === actor.userId ? 'one the caller asked for or was asked for' : 'any other of its organization';

/** A snapshot of the caller's organization that the caller may see (else it answers not found, as another organization's). */
export const snapshotReadable = (s: SnapshotState, actor: Actor): boolean =>
  s.status !== 'none' && s.organizationId === actor.organizationId && mayAccess('readSnapshot', situationOf(s, actor), actor);

/** Whose snapshots `actor` sees in a list: all of its organization's (undefined), or those it asked for or was asked for. */
export const snapshotsVisibleTo = (actor: Actor): string | undefined => (mayAccess('readSnapshot', 'any other of its organization', actor) ? undefined : actor.userId);

/** Who hears of a judgement: the requester's endpoint and the target's. */
const audience = (s: SnapshotState) => ({ requesterUserEndpointId: s.requesterUserEndpointId, targetUserEndpointId: s.userEndpointId });

const conflict = (s: SnapshotState, wants: string) => new ParleyError('CONFLICT', `Snapshot ${s.id} is ${s.status}: it cannot ${wants}`, { state: s.status });

export function decideSnapshot(cmd: SnapshotCommand, s: SnapshotState): SnapshotEvent[] {
  const ref = { snapshotId: cmd.snapshotId, organizationId: cmd.organizationId };
  switch (cmd.kind) {
    case 'request': {
      const ask = decideAsk(cmd, () => snapshotNotFound(cmd.snapshotId));
      if (s.status !== 'none') throw new ParleyError('CONFLICT', `Snapshot id ${cmd.snapshotId} is already taken`);
      return [
        {
          type: 'SnapshotRequestedEvent',
          schemaVersion: 1,
          data: {
            ...ref,
            applicationId: cmd.applicationId,
            ...ask,
            ...(cmd.interactionId !== undefined ? { interactionId: cmd.interactionId } : {}),
            ...(cmd.snapshotType !== undefined ? { snapshotType: cmd.snapshotType } : {}),
            requestedAt: cmd.now,
          },
        },
      ];
    }
    case 'upload': {
      authorize('uploadSnapshot', cmd.fromOwnEndpoint ? 'from an endpoint the caller registered' : 'from an endpoint the caller did not register', cmd.actor, () => snapshotNotFound(cmd.snapshotId));
      checkTargetEndpoint(cmd.targetUserId, cmd.targetUserEndpointId, cmd.targetEndpointOwner);
      checkImage(cmd.file);
      if (s.status !== 'none') throw new ParleyError('CONFLICT', `Snapshot id ${cmd.snapshotId} is already taken`);
      return [
        {
          type: 'SnapshotUploadedEvent',
          schemaVersion: 1,
          data: {
            ...ref,
            ...(cmd.relatedSnapshotId !== undefined ? { relatedSnapshotId: cmd.relatedSnapshotId } : {}),
            applicationId: cmd.applicationId,
            requesterUserId: cmd.targetUserId,
            requesterUserEndpointId: cmd.targetUserEndpointId,
            userId: cmd.actor.userId,
            userEndpointId: cmd.userEndpointId,
            ...(cmd.interactionId !== undefined ? { interactionId: cmd.interactionId } : {}),
            snapshotType: cmd.snapshotType,
            file: cmd.file,
            path: cmd.path,
            uploadedAt: cmd.now,
          },
        },
      ];
    }
    default:
      break;
  }
  if (s.status === 'none' || s.organizationId !== cmd.actor.organizationId) throw snapshotNotFound(cmd.snapshotId);
  switch (cmd.kind) {
    case 'acquire': {
      authorize('answerCameraRequest', s.userId === cmd.actor.userId ? 'one asked of the caller' : 'one asked of another user', cmd.actor, () => snapshotNotFound(cmd.snapshotId));
      checkImage(cmd.file);
      if (s.status !== 'REQUESTED') throw conflict(s, s.status === 'DISCARDED' ? 'take an image (it was discarded)' : 'take another image');
      return [
        {
          type: 'SnapshotAcquiredEvent',
          schemaVersion: 1,
          data: { ...ref, file: cmd.file, path: cmd.path, ...(cmd.snapshotType !== undefined ? { snapshotType: cmd.snapshotType } : {}), requesterUserEndpointId: s.requesterUserEndpointId, acquiredAt: cmd.now },
        },
      ];
    }
    case 'approve': {
      authorize('judgeSnapshot', situationOf(s, cmd.actor), cmd.actor, () => snapshotNotFound(cmd.snapshotId));
      if (s.status === 'APPROVED' && (cmd.snapshotType === undefined || cmd.snapshotType === s.type)) return [];
      if (s.status !== 'UPLOADED') throw conflict(s, s.status === 'REQUESTED' ? 'be approved before its image arrives' : 'be approved');
      return [
        {
          type: 'SnapshotApprovedEvent',
          schemaVersion: 1,
          data: {
            ...ref,
            approvedBy: cmd.actor.userId,
            userEndpointId: cmd.userEndpointId,
            ...(cmd.snapshotType !== undefined ? { snapshotType: cmd.snapshotType } : {}),
            ...audience(s),
            approvedAt: cmd.now,
          },
        },
      ];
    }
    case 'discard': {
      authorize('judgeSnapshot', situationOf(s, cmd.actor), cmd.actor, () => snapshotNotFound(cmd.snapshotId));
      if (s.status === 'DISCARDED') return [];
      return [{ type: 'SnapshotDiscardedEvent', schemaVersion: 1, data: { ...ref, discardedBy: cmd.actor.userId, userEndpointId: cmd.userEndpointId, ...audience(s), discardedAt: cmd.now } }];
    }
  }
}

/** A new snapshot's state from the event that made it (a request, or an upload): its two sides. */
const created = (d: Pick<CameraAsk, 'requesterUserId' | 'requesterUserEndpointId' | 'userId' | 'userEndpointId'> & { snapshotId: string; organizationId: string; applicationId: string }, version: number) => ({
  ...initialSnapshotState(),
  version,
  id: d.snapshotId,
  organizationId: d.organizationId,
  applicationId: d.applicationId,
  requesterUserId: d.requesterUserId,
  requesterUserEndpointId: d.requesterUserEndpointId,
  userId: d.userId,
  userEndpointId: d.userEndpointId,
});

export function evolveSnapshot(s: SnapshotState, e: SnapshotEvent): SnapshotState {
  const version = s.version + 1;
  switch (e.type) {
    case 'SnapshotRequestedEvent': {
      const d = e.data;
      return {
        ...created(d, version),
        status: 'REQUESTED',
        ...(d.sessionType !== undefined ? { sessionType: d.sessionType } : {}),
        ...(d.sessionId !== undefined ? { sessionId: d.sessionId } : {}),
        ...(d.interactionId !== undefined ? { interactionId: d.interactionId } : {}),
        ...(d.snapshotType !== undefined ? { type: d.snapshotType } : {}),
        createdAt: d.requestedAt,
      };
    }
    case 'SnapshotUploadedEvent': {
      const d = e.data;
      return {
        ...created(d, version),
        status: 'UPLOADED',
        ...(d.relatedSnapshotId !== undefined ? { relatedSnapshotId: d.relatedSnapshotId } : {}),
        ...(d.interactionId !== undefined ? { interactionId: d.interactionId } : {}),
        type: d.snapshotType,
        file: d.file,
        path: d.path,
        createdAt: d.uploadedAt,
        timestamp: d.uploadedAt,
      };
    }
    case 'SnapshotAcquiredEvent':
      return { ...s, status: 'UPLOADED', version, file: e.data.file, path: e.data.path, timestamp: e.data.acquiredAt, ...(e.data.snapshotType !== undefined ? { type: e.data.snapshotType } : {}) };
    case 'SnapshotApprovedEvent':
      return { ...s, status: 'APPROVED', version, ...(e.data.snapshotType !== undefined ? { type: e.data.snapshotType } : {}) };
    case 'SnapshotDiscardedEvent':
      return { ...s, status: 'DISCARDED', version };
  }
}

export const snapshotDecider: Decider<SnapshotCommand, SnapshotEvent, SnapshotState> = { initialState: initialSnapshotState, decide: decideSnapshot, evolve: evolveSnapshot };

/** The snapshot in the spec's shape. */
export function toSnapshot(s: SnapshotState): Snapshot {
  return {
    id: s.id,
    ...(s.relatedSnapshotId !== undefined ? { relatedSnapshotId: s.relatedSnapshotId } : {}),
    organizationId: s.organizationId,
    applicationId: s.applicationId,
    requesterUserId: s.requesterUserId,
    requesterUserEndpointId: s.requesterUserEndpointId,
    userId: s.userId,
    userEndpointId: s.userEndpointId,
    ...(s.sessionType !== undefined ? { sessionType: s.sessionType } : {}),
    ...(s.sessionId !== undefined ? { sessionId: s.sessionId } : {}),
    ...(s.timestamp !== undefined ? { timestamp: s.timestamp } : {}),
    ...(s.interactionId !== undefined ? { interactionId: s.interactionId } : {}),
    ...(s.type !== undefined ? { type: s.type } : {}),
    ...(s.path !== undefined ? { path: s.path } : {}),
    state: s.status === 'none' ? 'REQUESTED' : s.status,
    requestProcessingResult: { snapshotId: s.id },
    ...(s.status === 'APPROVED' ? { approvalProcessingResult: { succeeded: true } } : s.status === 'DISCARDED' ? { approvalProcessingResult: { succeeded: false, additionalInformation: 'discarded' } } : {}),
    ...(s.file?.extension !== undefined ? { suffix: s.file.extension } : {}),
    ...(s.file !== undefined ? { mimeType: s.file.mimeType } : {}),
    createdAt: s.createdAt,
    version: s.version,
    approved: s.status === 'APPROVED',
  };
}
