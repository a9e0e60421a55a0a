import type { Actor, ConferenceMode, ConferenceStreamType, EndpointHealth } from '@parley/contracts';

/**
 * Commands the Conference decider accepts. Who (`actor`) and when (`now`) come in with
 * every command, and so do generated ids, so `decide` stays pure and tests exact.
 */
interface Base {
  conferenceId: string;
  /** The organization the conference belongs to (its ids are unique within it): the caller's, or the one a SERVICE creates it for. */
  organizationId: string;
  actor: Actor;
  /** ISO-8601 instant of the decision. */
  now: string;
}

export type ConferenceCommand = Base &
  (
    | {
        kind: 'create';
        mode: ConferenceMode;
        /** The caller named the conference's id (only staff may: a server-chosen id is unguessable, 128 random bits). */
        idChosenByCaller: boolean;
        creatorEndpoint?: string;
        interactionId?: string;
        metadata: Record<string, string>;
        /** Conferences the caller created in that organization that have not ended (its quota); 0 when not known. */
        activeCreatedByCaller?: number;
      }
    | {
        kind: 'join';
        userEndpointId: string;
        metadata: Record<string, unknown>;
        /** The user that registered `userEndpointId` with the presence service, when it is registered. */
        endpointOwner?: string;
      }
    | { kind: 'leave'; userEndpointId: string; reason?: string }
    | { kind: 'end'; userEndpointId: string; reason?: string }
    | { kind: 'setInteraction'; interactionId: string; userEndpointId?: string }
    | { kind: 'updateMetadata'; userEndpointId: string; operation: 'SET' | 'REMOVE'; key: string; value?: string }
    | { kind: 'updateParticipantMetadata'; userEndpointId: string; metadata: Record<string, unknown> }
    | { kind: 'updateStreamMetadata'; userEndpointId: string; streamId: string; metadata: Record<string, unknown> }
    | { kind: 'updateBitrate'; userEndpointId: string; streamId?: string; videoBitrate: number }
    | {
        kind: 'publishStream';
        userEndpointId: string;
        streamId: string;
        streamType: ConferenceStreamType;
        metadata: Record<string, unknown>;
        videoBitrate?: number;
      }
    | { kind: 'unpublishStream'; userEndpointId: string; streamId: string }
    | { kind: 'viewStream'; userEndpointId: string; streamId: string; viewerId: string }
    | { kind: 'stopViewStream'; userEndpointId: string; streamId: string; viewerId: string }
    | { kind: 'updateParticipantState'; userEndpointId: string; state: EndpointHealth }
  );

export type ConferenceCommandKind = ConferenceCommand['kind'];

/** A command without the parts every command carries (what a handler fills in). */
export type ConferenceCommandBody = ConferenceCommand extends infer C ? (C extends unknown ? Omit<C, 'actor' | 'now' | 'conferenceId' | 'organizationId'> : never) : never;
