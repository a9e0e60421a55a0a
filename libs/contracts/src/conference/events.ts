import { parseScopedStreamId, scopedStreamId } from '../subjects';
import type { ConferenceMode, ConferenceStreamType } from './web-commands';
import type { ParticipantState } from './views';

/**
 * The conference's events: stable type names, each with its schema version.
 * Old shapes stay here beside new ones; the conference service upcasts them on read.
 * Other services (media, presence) consume these from JetStream.
 */
export interface MetadataEntry {
  value: string;
  userId: string;
  userEndpointId?: string;
  lastModified: string;
}

interface ByEndpoint {
  userEndpointId: string;
  userId: string;
}

export interface ConferenceCreatedV1 {
  conferenceId: string;
  organizationId: string;
  mode: ConferenceMode;
  creator: string;
  creatorEndpoint?: string;
  interactionId?: string;
  /** v1 kept bare strings; v2 keeps who set each value and when. */
  metadata: Record<string, string>;
}
export interface ConferenceCreatedV2 extends Omit<ConferenceCreatedV1, 'metadata'> {
  metadata: Record<string, MetadataEntry>;
}
/** v3 carries the instant of creation (v2 events get their metadata's time when read). */
export interface ConferenceCreatedV3 extends ConferenceCreatedV2 {
  createdAt: string;
}
export interface ConferenceJoined extends ByEndpoint {
  metadata: Record<string, unknown>;
  state: ParticipantState;
}
export interface ConferenceLeft extends ByEndpoint {
  reason?: string;
}
export interface ConferenceEnded extends Partial<ByEndpoint> {
  reason?: string;
}
export interface ConferenceInteractionSet {
  interactionId: string;
  userId: string;
  userEndpointId?: string;
}
export interface ConferenceMetadataUpdated extends ByEndpoint {
  operation: 'SET' | 'REMOVE';
  key: string;
  value?: string;
  lastModified: string;
}
export interface ConferenceParticipantMetadataUpdated extends ByEndpoint {
  metadata: Record<string, unknown>;
}
export interface ConferenceStreamMetadataUpdated extends ByEndpoint {
  streamId: string;
  metadata: Record<string, unknown>;
}
export interface ConferenceStreamBitrateUpdated extends ByEndpoint {
  streamId: string;
  videoBitrate: number;
}
export interface ConferenceStreamPublished extends ByEndpoint {
  streamId: string;
  streamType: ConferenceStreamType;
  metadata: Record<string, unknown>;
  videoBitrate?: number;
}
export interface ConferenceStreamUnpublished extends ByEndpoint {
  streamId: string;
  streamType: ConferenceStreamType;
  /** 'unpublished' (asked for), 'left' (its publisher left). */
  reason: 'unpublished' | 'left';
}
export interface ConferenceStreamViewStarted extends ByEndpoint {
  streamId: string;
  viewerId: string;
  /** The endpoint that publishes the stream. */
  publisherEndpointId: string;
}
export interface ConferenceStreamViewStopped extends ByEndpoint {
  streamId: string;
  viewerId: string;
}
/** The participant's endpoint missed its keepalive deadline (SICK) or kept alive again (HEALTHY); set by the presence service. */
export interface ConferenceParticipantStateUpdated extends ByEndpoint {
  state: ParticipantState;
}

type Ev<T extends string, V extends number, D> = { type: T; schemaVersion: V; data: D };

/** The current shapes the decider emits. */
export type ConferenceDomainEvent =
  | Ev<'ConferenceCreatedEvent', 3, ConferenceCreatedV3>
  | Ev<'ConferenceJoinedEvent', 1, ConferenceJoined>
  | Ev<'ConferenceLeftEvent', 1, ConferenceLeft>
  | Ev<'ConferenceEndedEvent', 1, ConferenceEnded>
  | Ev<'ConferenceInteractionSetEvent', 1, ConferenceInteractionSet>
  | Ev<'ConferenceMetadataUpdatedEvent', 1, ConferenceMetadataUpdated>
  | Ev<'ConferenceParticipantMetadataUpdatedEvent', 1, ConferenceParticipantMetadataUpdated>
  | Ev<'ConferenceStreamMetadataUpdatedEvent', 1, ConferenceStreamMetadataUpdated>
  | Ev<'ConferenceStreamBitrateUpdatedEvent', 1, ConferenceStreamBitrateUpdated>
  | Ev<'ConferenceStreamPublishedEvent', 1, ConferenceStreamPublished>
  | Ev<'ConferenceStreamUnpublishedEvent', 1, ConferenceStreamUnpublished>
  | Ev<'ConferenceStreamViewStartedEvent', 1, ConferenceStreamViewStarted>
  | Ev<'ConferenceStreamViewStoppedEvent', 1, ConferenceStreamViewStopped>
  | Ev<'ConferenceParticipantStateUpdatedEvent', 1, ConferenceParticipantStateUpdated>;

export type ConferenceEventType = ConferenceDomainEvent['type'];

/** Every conference event type (a record of them all, so a new type must be added here to compile). */
const conferenceEventTypes: { [K in ConferenceEventType]: true } = {
  ConferenceCreatedEvent: true,
  ConferenceJoinedEvent: true,
  ConferenceLeftEvent: true,
  ConferenceEndedEvent: true,
  ConferenceInteractionSetEvent: true,
  ConferenceMetadataUpdatedEvent: true,
  ConferenceParticipantMetadataUpdatedEvent: true,
  ConferenceStreamMetadataUpdatedEvent: true,
  ConferenceStreamBitrateUpdatedEvent: true,
  ConferenceStreamPublishedEvent: true,
  ConferenceStreamUnpublishedEvent: true,
  ConferenceStreamViewStartedEvent: true,
  ConferenceStreamViewStoppedEvent: true,
  ConferenceParticipantStateUpdatedEvent: true,
};
export const CONFERENCE_EVENT_TYPES = Object.keys(conferenceEventTypes) as readonly ConferenceEventType[];

/** Older shapes still readable from the store. */
export type ConferenceLegacyEvent = Ev<'ConferenceCreatedEvent', 1, ConferenceCreatedV1> | Ev<'ConferenceCreatedEvent', 2, ConferenceCreatedV2>;

export const CONFERENCE_CONTEXT = 'conference';
/** The stream id of a conference in the event store: `conference/<organizationId>/<conferenceId>`. */
export const conferenceStreamId = (organizationId: string, conferenceId: string): string => scopedStreamId(CONFERENCE_CONTEXT, organizationId, conferenceId);

/** Before conference ids were scoped by organization, streams were `conference-<conferenceId>` (migrated at start). */
const LEGACY_PREFIX = 'conference-';

/**
 * The conference a relayed event belongs to, from its stream id; `organizationId` (the event's
 * metadata) serves streams recorded before the ids were scoped. Undefined for other streams.
 */
export function conferenceOfStream(streamId: string, organizationId: string): { organizationId: string; conferenceId: string } | undefined {
  const scoped = parseScopedStreamId(CONFERENCE_CONTEXT, streamId);
  if (scoped) return { organizationId: scoped.organizationId, conferenceId: scoped.id };
  return streamId.startsWith(LEGACY_PREFIX) ? { organizationId, conferenceId: streamId.slice(LEGACY_PREFIX.length) } : undefined;
}
