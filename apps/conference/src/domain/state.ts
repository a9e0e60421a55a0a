import type { ConferenceMode, ConferenceStreamType, MetadataEntry, ParticipantState } from '@parley/contracts';

/** The Conference aggregate's state, folded from its events. Plain data, never mutated in place. */
export interface StreamState {
  id: string;
  type: ConferenceStreamType;
  metadata: Record<string, unknown>;
  videoBitrate?: number;
  /** viewerId → the viewing endpoint. */
  viewers: Record<string, { userEndpointId: string; userId: string }>;
}

export interface ParticipantStateRecord {
  userEndpointId: string;
  userId: string;
  state: ParticipantState;
  metadata: Record<string, unknown>;
  /** In publication order. */
  streams: StreamState[];
}

export interface ConferenceState {
  status: 'none' | 'active' | 'ended';
  version: number;
  id: string;
  organizationId: string;
  mode: ConferenceMode;
  creator: string;
  /** When it was created (ISO-8601): orders the active list. */
  createdAt: string;
  creatorEndpoint?: string;
  interactionId?: string;
  metadata: Record<string, MetadataEntry>;
  /** In join order. */
  participants: ParticipantStateRecord[];
}

export const initialState = (): ConferenceState => ({
  status: 'none',
  version: 0,
  id: '',
  organizationId: '',
  mode: 'ROUTER',
  creator: '',
  createdAt: '',
  metadata: {},
  participants: [],
});

export const findParticipant = (s: ConferenceState, userEndpointId: string): ParticipantStateRecord | undefined =>
  s.participants.find((p) => p.userEndpointId === userEndpointId);

export const findStream = (s: ConferenceState, streamId: string): { participant: ParticipantStateRecord; stream: StreamState } | undefined => {
  for (const participant of s.participants) {
    const stream = participant.streams.find((x) => x.id === streamId);
    if (stream) return { participant, stream };
  }
  return undefined;
};

/** Streams `userEndpointId` views, across the conference. */
export const viewsOf = (s: ConferenceState, userEndpointId: string): number =>
  s.participants.reduce((n, p) => n + p.streams.reduce((m, x) => m + Object.values(x.viewers).filter((v) => v.userEndpointId === userEndpointId).length, 0), 0);

/** Publications plus views: the WebRTC transports the conference holds on the SFU. */
export const transportCount = (s: ConferenceState): number =>
  s.participants.reduce((n, p) => n + p.streams.reduce((m, x) => m + 1 + Object.keys(x.viewers).length, 0), 0);
