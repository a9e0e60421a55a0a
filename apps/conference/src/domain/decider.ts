import { type Actor, type ConferenceDomainEvent, Limits, ParleyError, QUOTA_RETRY_AFTER_SECONDS, authorize, jsonBytes, quotaExceeded, tooLarge } from '@parley/contracts';
import type { Decider } from '@parley/eventsourcing';
import type { ConferenceCommand, ConferenceCommandKind } from './commands';
import { type ConferenceState, type ParticipantStateRecord, findParticipant, findStream, initialState, transportCount, viewsOf } from './state';
import { toConferenceView } from './views';

/** How much one conference, and one user, may hold (QUOTA_* settings of the conference service). */
export interface ConferenceQuotas {
  /** Participants joined at once. */
  participants: number;
  /** Streams one participant publishes at once. */
  publicationsPerParticipant: number;
  /** Streams one participant views at once. */
  viewsPerParticipant: number;
  /** Publications plus views of the whole conference: each is a WebRTC transport on the SFU. */
  transports: number;
  /** Conferences one user created that have not ended. */
  activeConferencesPerUser: number;
}

export const DEFAULT_CONFERENCE_QUOTAS: ConferenceQuotas = {
  participants: 100,
  publicationsPerParticipant: 4,
  viewsPerParticipant: 32,
  transports: 200,
  activeConferencesPerUser: 100,
};

/** Commands whose events can make the conference's view larger: those are measured against Limits.conferenceBytes. */
const GROWS: ReadonlySet<ConferenceCommandKind> = new Set([
  'create',
  'join',
  'setInteraction',
  'updateMetadata',
  'updateParticipantMetadata',
  'updateStreamMetadata',
  'updateBitrate',
  'publishStream',
]);

/**
 * The Conference aggregate as a pure decider. No I/O, no clock, no id generation:
 * everything comes in with the command. Errors are ParleyErrors whose codes become the
 * HTTP statuses the spec documents.
 */

const notFound = (conferenceId: string) => new ParleyError('NOT_FOUND', `Conference ${conferenceId} not found`);

function assertExists(state: ConferenceState, actor: Actor, conferenceId: string): void {
  // Another organization's conference is indistinguishable from a missing one.
  if (state.status === 'none' || state.organizationId !== actor.organizationId) throw notFound(conferenceId);
  if (state.status === 'ended') throw new ParleyError('CONFLICT', `Conference ${conferenceId} has ended; it accepts no more commands`);
}

function joinedParticipant(state: ConferenceState, userEndpointId: string): ParticipantStateRecord {
  const p = findParticipant(state, userEndpointId);
  if (!p) throw new ParleyError('NOT_FOUND', `User endpoint ${userEndpointId} has not joined conference ${state.id}`);
  return p;
}

/** Commands on one participant: the table (ACCESS) says who may act for whose endpoint. */
type ParticipantOperation =
  | 'leaveConference'
  | 'updateParticipantMetadata'
  | 'updateStreamMetadata'
  | 'updatePublishedStreamBitrate'
  | 'publishStream'
  | 'unpublishStream'
  | 'viewStream'
  | 'stopViewStream'
  | 'addIceCandidates';

/** The caller acts for `userEndpointId`: it must be joined, and be the caller's own unless the table lets the caller act for others. */
function participantFor(state: ConferenceState, actor: Actor, userEndpointId: string, operation: ParticipantOperation): ParticipantStateRecord {
  const p = joinedParticipant(state, userEndpointId);
  authorize(operation, p.userId === actor.userId ? "the caller's own participant endpoint" : "another user's participant endpoint", actor, () => notFound(state.id));
  return p;
}

const isParticipant = (state: ConferenceState, actor: Actor): boolean => state.participants.some((p) => p.userId === actor.userId);

/** Created or joined it: a customer sees and reads only those. */
const isMember = (state: ConferenceState, actor: Actor): boolean => state.creator === actor.userId || isParticipant(state, actor);

const memberSituation = (state: ConferenceState, actor: Actor): 'one the caller created or joined' | 'one the caller neither created nor joined' =>
  isMember(state, actor) ? 'one the caller created or joined' : 'one the caller neither created nor joined';

function by(p: { userEndpointId: string }, actor: Actor) {
  return { userEndpointId: p.userEndpointId, userId: actor.userId };
}

const full = (message: string, quota: keyof ConferenceQuotas, limit: number) => quotaExceeded(message, quota, limit, QUOTA_RETRY_AFTER_SECONDS);

/**
 * Decides, then holds the outcome to the bounds: a command whose events would make the
 * conference's view larger than Limits.conferenceBytes is refused (413), so every answer about
 * it (the view, the active list, the replies over NATS) stays deliverable.
 */
export function decide(cmd: ConferenceCommand, state: ConferenceState, quotas: ConferenceQuotas = DEFAULT_CONFERENCE_QUOTAS): ConferenceDomainEvent[] {
  const events = decideUnbounded(cmd, state, quotas);
  if (events.length > 0 && GROWS.has(cmd.kind)) {
    const bytes = jsonBytes(toConferenceView(events.reduce(evolve, state)));
    if (bytes > Limits.conferenceBytes) throw tooLarge(`Conference ${cmd.conferenceId} (GET /conferences/{id}) after ${cmd.kind}`, bytes, Limits.conferenceBytes, 'conferenceBytes');
  }
  return events;
}

function createSituation(cmd: Extract<ConferenceCommand, { kind: 'create' }>) {
  const { actor, organizationId } = cmd;
  if (organizationId !== actor.organizationId) {
    return actor.actsFor?.includes(organizationId) ? "for an organization the caller's OAuth client may act for" : 'for any other organization';
  }
  return cmd.idChosenByCaller ? 'with an id the caller chooses' : 'with an id the server chooses';
}

function joinSituation(cmd: Extract<ConferenceCommand, { kind: 'join' }>) {
  if (cmd.endpointOwner === undefined) return 'with an endpoint nobody registered';
  return cmd.endpointOwner === cmd.actor.userId ? 'with an endpoint the caller registered' : 'with an endpoint another user registered';
}

function decideUnbounded(cmd: ConferenceCommand, state: ConferenceState, quotas: ConferenceQuotas): ConferenceDomainEvent[] {
  if (cmd.kind === 'create') {
    // Before anything about the id: whether it is taken is none of a caller's business in an organization it may not create in.
    authorize('createConference', createSituation(cmd), cmd.actor, () => notFound(cmd.conferenceId));
    if (state.status !== 'none') throw new ParleyError('CONFLICT', `Conference id ${cmd.conferenceId} is already taken`);
    if (cmd.mode !== 'ROUTER') throw new ParleyError('BAD_REQUEST', `mode ${cmd.mode} is not supported: only ROUTER conferences are`);
    if ((cmd.activeCreatedByCaller ?? 0) >= quotas.activeConferencesPerUser) {
      throw full(`User ${cmd.actor.userId} already has ${quotas.activeConferencesPerUser} conferences that have not ended (the most one user may have); end one first`, 'activeConferencesPerUser', quotas.activeConferencesPerUser);
    }
    const metadata = Object.fromEntries(
      Object.entries(cmd.metadata).map(([k, value]) => [
        k,
        { value, userId: cmd.actor.userId, ...(cmd.creatorEndpoint ? { userEndpointId: cmd.creatorEndpoint } : {}), lastModified: cmd.now },
      ]),
    );
    return [
      {
        type: 'ConferenceCreatedEvent',
        schemaVersion: 3,
        data: {
          conferenceId: cmd.conferenceId,
          organizationId: cmd.organizationId,
          mode: cmd.mode,
          creator: cmd.actor.userId,
          ...(cmd.creatorEndpoint !== undefined ? { creatorEndpoint: cmd.creatorEndpoint } : {}),
          ...(cmd.interactionId !== undefined ? { interactionId: cmd.interactionId } : {}),
          metadata,
          createdAt: cmd.now,
        },
      },
    ];
  }

  assertExists(state, cmd.actor, cmd.conferenceId);
  const { actor } = cmd;

  switch (cmd.kind) {
    case 'join': {
      const existing = findParticipant(state, cmd.userEndpointId);
      if (existing && existing.userId === actor.userId) {
        throw new ParleyError('UNPROCESSABLE', `Conference ${state.id} already joined from user ${actor.userId} and endpoint ${cmd.userEndpointId}`);
      }
      authorize('joinConference', joinSituation(cmd), actor, () => notFound(state.id));
      if (existing) throw new ParleyError('CONFLICT', `User endpoint ${cmd.userEndpointId} is already joined by another user`);
      if (state.participants.length >= quotas.participants) {
        throw full(`Conference ${state.id} has ${quotas.participants} participants, the most it may have`, 'participants', quotas.participants);
      }
      return [
        {
          type: 'ConferenceJoinedEvent',
          schemaVersion: 1,
          data: { userEndpointId: cmd.userEndpointId, userId: actor.userId, metadata: cmd.metadata, state: 'HEALTHY' },
        },
      ];
    }
    case 'leave': {
      const p = participantFor(state, actor, cmd.userEndpointId, 'leaveConference');
      return [
        ...p.streams.map(
          (s): ConferenceDomainEvent => ({
            type: 'ConferenceStreamUnpublishedEvent',
            schemaVersion: 1,
            data: { userEndpointId: p.userEndpointId, userId: p.userId, streamId: s.id, streamType: s.type, reason: 'left' },
          }),
        ),
        {
          type: 'ConferenceLeftEvent',
          schemaVersion: 1,
          data: { userEndpointId: p.userEndpointId, userId: p.userId, ...(cmd.reason !== undefined ? { reason: cmd.reason } : {}) },
        },
      ];
    }
    case 'end': {
      authorize(
        'endConference',
        state.creator === actor.userId ? 'one the caller created' : isParticipant(state, actor) ? 'one the caller joined but did not create' : 'one the caller neither created nor joined',
        actor,
        () => notFound(state.id),
      );
      return [
        {
          type: 'ConferenceEndedEvent',
          schemaVersion: 1,
          data: { userEndpointId: cmd.userEndpointId, userId: actor.userId, ...(cmd.reason !== undefined ? { reason: cmd.reason } : {}) },
        },
      ];
    }
    case 'setInteraction': {
      authorize('setConferenceInteraction', memberSituation(state, actor), actor, () => notFound(state.id));
      if (state.interactionId === cmd.interactionId) return [];
      return [
        {
          type: 'ConferenceInteractionSetEvent',
          schemaVersion: 1,
          data: { interactionId: cmd.interactionId, userId: actor.userId, ...(cmd.userEndpointId !== undefined ? { userEndpointId: cmd.userEndpointId } : {}) },
        },
      ];
    }
    case 'updateMetadata': {
      const named = joinedParticipant(state, cmd.userEndpointId);
      authorize('updateConferenceMetadata', named.userId === actor.userId ? "with the caller's own participant endpoint" : "with another user's participant endpoint", actor, () => notFound(state.id));
      if (cmd.operation === 'SET') {
        if (cmd.value === undefined) throw new ParleyError('BAD_REQUEST', 'value is required when operation is SET');
        return [
          {
            type: 'ConferenceMetadataUpdatedEvent',
            schemaVersion: 1,
            data: { operation: 'SET', key: cmd.key, value: cmd.value, userEndpointId: cmd.userEndpointId, userId: actor.userId, lastModified: cmd.now },
          },
        ];
      }
      if (!(cmd.key in state.metadata)) throw new ParleyError('NOT_FOUND', `Conference ${state.id} has no metadata key "${cmd.key}"`);
      return [
        {
          type: 'ConferenceMetadataUpdatedEvent',
          schemaVersion: 1,
          data: { operation: 'REMOVE', key: cmd.key, userEndpointId: cmd.userEndpointId, userId: actor.userId, lastModified: cmd.now },
        },
      ];
    }
    case 'updateParticipantMetadata': {
      const p = participantFor(state, actor, cmd.userEndpointId, 'updateParticipantMetadata');
      return [{ type: 'ConferenceParticipantMetadataUpdatedEvent', schemaVersion: 1, data: { ...by(p, actor), metadata: cmd.metadata } }];
    }
    case 'updateStreamMetadata': {
      const p = participantFor(state, actor, cmd.userEndpointId, 'updateStreamMetadata');
      const stream = p.streams.find((s) => s.id === cmd.streamId);
      if (!stream) throw new ParleyError('NOT_FOUND', `User endpoint ${cmd.userEndpointId} publishes no stream ${cmd.streamId}`);
      return [{ type: 'ConferenceStreamMetadataUpdatedEvent', schemaVersion: 1, data: { ...by(p, actor), streamId: stream.id, metadata: cmd.metadata } }];
    }
    case 'updateBitrate': {
      const p = participantFor(state, actor, cmd.userEndpointId, 'updatePublishedStreamBitrate');
      const streams = cmd.streamId === undefined ? p.streams : p.streams.filter((s) => s.id === cmd.streamId);
      if (cmd.streamId !== undefined && streams.length === 0) {
        throw new ParleyError('NOT_FOUND', `User endpoint ${cmd.userEndpointId} publishes no stream ${cmd.streamId}`);
      }
      if (streams.length === 0) throw new ParleyError('NOT_FOUND', `User endpoint ${cmd.userEndpointId} publishes no stream`);
      return streams.map((s) => ({
        type: 'ConferenceStreamBitrateUpdatedEvent',
        schemaVersion: 1,
        data: { ...by(p, actor), streamId: s.id, videoBitrate: cmd.videoBitrate },
      }));
    }
    case 'publishStream': {
      const p = participantFor(state, actor, cmd.userEndpointId, 'publishStream');
      if (findStream(state, cmd.streamId)) throw new ParleyError('CONFLICT', `Stream ${cmd.streamId} is already published in conference ${state.id}`);
      if (cmd.streamType === 'UNKNOWN') throw new ParleyError('BAD_REQUEST', 'conferenceStreamType must be one of: MIC, CAM, SCREEN, MIC_AND_CAM');
      if (p.streams.length >= quotas.publicationsPerParticipant) {
        throw full(`User endpoint ${p.userEndpointId} publishes ${quotas.publicationsPerParticipant} streams, the most one participant may; unpublish one first`, 'publicationsPerParticipant', quotas.publicationsPerParticipant);
      }
      assertTransportFree(state, quotas);
      return [
        {
          type: 'ConferenceStreamPublishedEvent',
          schemaVersion: 1,
          data: {
            ...by(p, actor),
            streamId: cmd.streamId,
            streamType: cmd.streamType,
            metadata: cmd.metadata,
            ...(cmd.videoBitrate !== undefined ? { videoBitrate: cmd.videoBitrate } : {}),
          },
        },
      ];
    }
    case 'unpublishStream': {
      const p = participantFor(state, actor, cmd.userEndpointId, 'unpublishStream');
      const stream = p.streams.find((s) => s.id === cmd.streamId);
      if (!stream) throw new ParleyError('NOT_FOUND', `User endpoint ${cmd.userEndpointId} publishes no stream ${cmd.streamId}`);
      return [
        {
          type: 'ConferenceStreamUnpublishedEvent',
          schemaVersion: 1,
          data: { ...by(p, actor), streamId: stream.id, streamType: stream.type, reason: 'unpublished' },
        },
      ];
    }
    case 'viewStream': {
      const viewer = participantFor(state, actor, cmd.userEndpointId, 'viewStream');
      const found = findStream(state, cmd.streamId);
      if (!found) throw new ParleyError('NOT_FOUND', `Stream ${cmd.streamId} is not published in conference ${state.id}`);
      if (found.stream.viewers[cmd.viewerId]) throw new ParleyError('CONFLICT', `Viewer ${cmd.viewerId} already views stream ${cmd.streamId}`);
      if (viewsOf(state, viewer.userEndpointId) >= quotas.viewsPerParticipant) {
        throw full(`User endpoint ${viewer.userEndpointId} views ${quotas.viewsPerParticipant} streams, the most one participant may; stop a view first`, 'viewsPerParticipant', quotas.viewsPerParticipant);
      }
      assertTransportFree(state, quotas);
      return [
        {
          type: 'ConferenceStreamViewStartedEvent',
          schemaVersion: 1,
          data: { ...by(viewer, actor), streamId: cmd.streamId, viewerId: cmd.viewerId, publisherEndpointId: found.participant.userEndpointId },
        },
      ];
    }
    case 'stopViewStream': {
      const viewer = participantFor(state, actor, cmd.userEndpointId, 'stopViewStream');
      assertViewer(state, cmd.streamId, cmd.viewerId, viewer.userEndpointId);
      return [{ type: 'ConferenceStreamViewStoppedEvent', schemaVersion: 1, data: { ...by(viewer, actor), streamId: cmd.streamId, viewerId: cmd.viewerId } }];
    }
    case 'updateParticipantState': {
      // The presence service's verdict on the endpoint's keepalives; nobody else's to give.
      authorize('updateParticipantState', 'any participant', actor, () => notFound(state.id));
      const p = joinedParticipant(state, cmd.userEndpointId);
      if (p.state === cmd.state) return [];
      return [{ type: 'ConferenceParticipantStateUpdatedEvent', schemaVersion: 1, data: { userEndpointId: p.userEndpointId, userId: p.userId, state: cmd.state } }];
    }
    default:
      return assertNever(cmd);
  }
}

/** Every publication and every view is a WebRTC transport on the SFU: the conference has a budget of them. */
function assertTransportFree(state: ConferenceState, quotas: ConferenceQuotas): void {
  if (transportCount(state) >= quotas.transports) {
    throw full(`Conference ${state.id} has ${quotas.transports} publications and views, the most it may have`, 'transports', quotas.transports);
  }
}

/** The stream is published and `viewerId` views it from `userEndpointId`; else 404. */
export function assertViewer(state: ConferenceState, streamId: string, viewerId: string, userEndpointId: string): void {
  const found = findStream(state, streamId);
  if (!found) throw new ParleyError('NOT_FOUND', `Stream ${streamId} is not published in conference ${state.id}`);
  const v = found.stream.viewers[viewerId];
  if (!v || v.userEndpointId !== userEndpointId) {
    throw new ParleyError('NOT_FOUND', `Viewer ${viewerId} of stream ${streamId} not found for user endpoint ${userEndpointId}`);
  }
}

/** Checks that may precede a media call without producing events (ICE candidates). */
export const guards = {
  publishedStreamOf(state: ConferenceState, actor: Actor, conferenceId: string, userEndpointId: string, streamId: string): void {
    assertExists(state, actor, conferenceId);
    const p = participantFor(state, actor, userEndpointId, 'addIceCandidates');
    if (!p.streams.some((s) => s.id === streamId)) throw new ParleyError('NOT_FOUND', `User endpoint ${userEndpointId} publishes no stream ${streamId}`);
  },
  viewerOf(state: ConferenceState, actor: Actor, conferenceId: string, userEndpointId: string, streamId: string, viewerId: string): void {
    assertExists(state, actor, conferenceId);
    participantFor(state, actor, userEndpointId, 'addIceCandidates');
    assertViewer(state, streamId, viewerId, userEndpointId);
  },
  /** The endpoints a conference sendEvent reaches. */
  joinedEndpoints(state: ConferenceState, actor: Actor, conferenceId: string): { userEndpointId: string; userId: string }[] {
    assertExists(state, actor, conferenceId);
    authorize('sendEventToConference', 'any conference of its organization', actor, () => notFound(conferenceId));
    return state.participants.map((p) => ({ userEndpointId: p.userEndpointId, userId: p.userId }));
  },
  readable(state: ConferenceState, actor: Actor, conferenceId: string): void {
    if (state.status === 'none' || state.organizationId !== actor.organizationId) throw notFound(conferenceId);
    authorize('readConference', memberSituation(state, actor), actor, () => notFound(conferenceId));
  },
};

const mapParticipant = (s: ConferenceState, userEndpointId: string, f: (p: ParticipantStateRecord) => ParticipantStateRecord): ConferenceState => ({
  ...s,
  participants: s.participants.map((p) => (p.userEndpointId === userEndpointId ? f(p) : p)),
});

const mapStream = (s: ConferenceState, streamId: string, f: (x: ParticipantStateRecord['streams'][number]) => ParticipantStateRecord['streams'][number]): ConferenceState => ({
  ...s,
  participants: s.participants.map((p) => (p.streams.some((x) => x.id === streamId) ? { ...p, streams: p.streams.map((x) => (x.id === streamId ? f(x) : x)) } : p)),
});

/** Removes every view held by `userEndpointId`. */
const dropViewsOf = (s: ConferenceState, userEndpointId: string): ConferenceState => ({
  ...s,
  participants: s.participants.map((p) => ({
    ...p,
    streams: p.streams.map((x) => ({ ...x, viewers: Object.fromEntries(Object.entries(x.viewers).filter(([, v]) => v.userEndpointId !== userEndpointId)) })),
  })),
});

export function evolve(state: ConferenceState, event: ConferenceDomainEvent): ConferenceState {
  const s = { ...state, version: state.version + 1 };
  switch (event.type) {
    case 'ConferenceCreatedEvent': {
      const d = event.data;
      return {
        ...s,
        status: 'active',
        id: d.conferenceId,
        organizationId: d.organizationId,
        mode: d.mode,
        creator: d.creator,
        createdAt: d.createdAt,
        ...(d.creatorEndpoint !== undefined ? { creatorEndpoint: d.creatorEndpoint } : {}),
        ...(d.interactionId !== undefined ? { interactionId: d.interactionId } : {}),
        metadata: d.metadata,
      };
    }
    case 'ConferenceJoinedEvent':
      return {
        ...s,
        participants: [
          ...s.participants,
          { userEndpointId: event.data.userEndpointId, userId: event.data.userId, state: event.data.state, metadata: event.data.metadata, streams: [] },
        ],
      };
    case 'ConferenceLeftEvent': {
      const without = { ...s, participants: s.participants.filter((p) => p.userEndpointId !== event.data.userEndpointId) };
      return dropViewsOf(without, event.data.userEndpointId);
    }
    case 'ConferenceEndedEvent':
      return { ...s, status: 'ended' };
    case 'ConferenceInteractionSetEvent':
      return { ...s, interactionId: event.data.interactionId };
    case 'ConferenceMetadataUpdatedEvent': {
      const d = event.data;
      if (d.operation === 'REMOVE') {
        const { [d.key]: _removed, ...rest } = s.metadata;
        return { ...s, metadata: rest };
      }
      return {
        ...s,
        metadata: { ...s.metadata, [d.key]: { value: d.value ?? '', userId: d.userId, userEndpointId: d.userEndpointId, lastModified: d.lastModified } },
      };
    }
    case 'ConferenceParticipantMetadataUpdatedEvent':
      return mapParticipant(s, event.data.userEndpointId, (p) => ({ ...p, metadata: event.data.metadata }));
    case 'ConferenceStreamMetadataUpdatedEvent':
      return mapStream(s, event.data.streamId, (x) => ({ ...x, metadata: event.data.metadata }));
    case 'ConferenceStreamBitrateUpdatedEvent':
      return mapStream(s, event.data.streamId, (x) => ({ ...x, videoBitrate: event.data.videoBitrate }));
    case 'ConferenceStreamPublishedEvent': {
      const d = event.data;
      return mapParticipant(s, d.userEndpointId, (p) => ({
        ...p,
        streams: [...p.streams, { id: d.streamId, type: d.streamType, metadata: d.metadata, ...(d.videoBitrate !== undefined ? { videoBitrate: d.videoBitrate } : {}), viewers: {} }],
      }));
    }
    case 'ConferenceStreamUnpublishedEvent':
      return mapParticipant(s, event.data.userEndpointId, (p) => ({ ...p, streams: p.streams.filter((x) => x.id !== event.data.streamId) }));
    case 'ConferenceStreamViewStartedEvent': {
      const d = event.data;
      return mapStream(s, d.streamId, (x) => ({ ...x, viewers: { ...x.viewers, [d.viewerId]: { userEndpointId: d.userEndpointId, userId: d.userId } } }));
    }
    case 'ConferenceStreamViewStoppedEvent': {
      const d = event.data;
      return mapStream(s, d.streamId, (x) => {
        const { [d.viewerId]: _gone, ...viewers } = x.viewers;
        return { ...x, viewers };
      });
    }
    case 'ConferenceParticipantStateUpdatedEvent':
      return mapParticipant(s, event.data.userEndpointId, (p) => ({ ...p, state: event.data.state }));
    default:
      return assertNever(event);
  }
}

function assertNever(x: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}

/** The decider with these quotas. */
export const makeConferenceDecider = (quotas: ConferenceQuotas): Decider<ConferenceCommand, ConferenceDomainEvent, ConferenceState> => ({
  initialState,
  decide: (cmd, state) => decide(cmd, state, quotas),
  evolve,
});

export const conferenceDecider = makeConferenceDecider(DEFAULT_CONFERENCE_QUOTAS);
