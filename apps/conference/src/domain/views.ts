import type { Conference, ConferenceSimpleView, ConferenceSimpleViewParticipant } from '@parley/contracts';
import type { ConferenceState } from './state';

/** Pure projections of the Conference aggregate into the spec's response shapes. */

export function toConferenceView(s: ConferenceState): Conference {
  return {
    id: s.id,
    mode: s.mode,
    organizationId: s.organizationId,
    ...(s.interactionId !== undefined ? { interactionId: s.interactionId } : {}),
    creator: s.creator,
    ...(s.creatorEndpoint !== undefined ? { creatorEndpoint: s.creatorEndpoint } : {}),
    participants: s.participants.map((p) => ({
      id: p.userEndpointId,
      userId: p.userId,
      state: p.state,
      streams: p.streams.map((x) => ({ id: x.id, type: x.type, metadata: x.metadata, ...(x.videoBitrate !== undefined ? { videoBitrate: x.videoBitrate } : {}) })),
      metadata: p.metadata,
    })),
    metadata: s.metadata,
    version: s.version,
    empty: s.participants.length === 0,
    ended: s.status === 'ended',
  };
}

/** Participants grouped by user, each with the endpoints it joined from. */
export function toSimpleView(s: ConferenceState): ConferenceSimpleView {
  const byUser = new Map<string, ConferenceSimpleViewParticipant>();
  for (const p of s.participants) {
    let user = byUser.get(p.userId);
    if (!user) byUser.set(p.userId, (user = { id: p.userId, endpoints: [] }));
    user.endpoints.push({
      id: p.userEndpointId,
      state: p.state,
      streams: p.streams.map((x) => ({ id: x.id, type: x.type, metadata: x.metadata })),
      metadata: p.metadata,
    });
  }
  return { id: s.id, mode: s.mode, metadata: s.metadata, participants: [...byUser.values()], version: s.version };
}
