import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CONFERENCE_MODES, type ConferenceMode, type ConferenceStreamType, STREAM_TYPES } from './web-commands';

/** Response shapes of the spec's /conferences endpoints. */

export const PARTICIPANT_STATES = ['HEALTHY', 'SICK', 'UNKNOWN'] as const;
export type ParticipantState = (typeof PARTICIPANT_STATES)[number];

export class ConferenceSummary {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'The conference version (one per event).' }) version!: number;
  @ApiProperty({ enum: CONFERENCE_MODES }) mode!: ConferenceMode;
}

export class Metadata {
  @ApiProperty() value!: string;
  @ApiProperty() userId!: string;
  @ApiPropertyOptional() userEndpointId?: string;
  @ApiProperty({ format: 'date-time' }) lastModified!: string;
}

export class ConferenceStream {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: STREAM_TYPES }) type!: ConferenceStreamType;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata!: Record<string, unknown>;
  @ApiPropertyOptional() videoBitrate?: number;
}

export class ConferenceParticipant {
  @ApiProperty({ description: 'The participant (user endpoint) id.' }) id!: string;
  @ApiProperty() userId!: string;
  @ApiProperty({ enum: PARTICIPANT_STATES }) state!: ParticipantState;
  @ApiProperty({ type: [ConferenceStream] }) streams!: ConferenceStream[];
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata!: Record<string, unknown>;
}

export class Conference {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: CONFERENCE_MODES }) mode!: ConferenceMode;
  @ApiProperty() organizationId!: string;
  @ApiPropertyOptional() interactionId?: string;
  @ApiProperty({ description: 'The user id of the creator.' }) creator!: string;
  @ApiPropertyOptional() creatorEndpoint?: string;
  @ApiProperty({ type: [ConferenceParticipant] }) participants!: ConferenceParticipant[];
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/Metadata' } }) metadata!: Record<string, Metadata>;
  @ApiProperty() version!: number;
  @ApiProperty({ description: 'True when nobody is joined.' }) empty!: boolean;
  @ApiPropertyOptional({ description: 'Parley extension: true once the conference has ended.' }) ended?: boolean;
}

export class ConferenceSimpleViewParticipantEndpointStream {
  @ApiProperty() id!: string;
  @ApiProperty() type!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata!: Record<string, unknown>;
}

export class ConferenceSimpleViewParticipantEndpoint {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: PARTICIPANT_STATES }) state!: ParticipantState;
  @ApiProperty({ type: [ConferenceSimpleViewParticipantEndpointStream] }) streams!: ConferenceSimpleViewParticipantEndpointStream[];
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata!: Record<string, unknown>;
}

export class ConferenceSimpleViewParticipant {
  @ApiProperty({ description: 'The user id.' }) id!: string;
  @ApiProperty({ type: [ConferenceSimpleViewParticipantEndpoint] }) endpoints!: ConferenceSimpleViewParticipantEndpoint[];
}

export class ConferenceSimpleView {
  @ApiProperty() id!: string;
  @ApiProperty() mode!: string;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: '#/components/schemas/Metadata' } }) metadata!: Record<string, Metadata>;
  @ApiProperty({ type: [ConferenceSimpleViewParticipant] }) participants!: ConferenceSimpleViewParticipant[];
  @ApiProperty() version!: number;
}

/** One page of the active conferences (NATS only): the gateway asks for pages until `next` is absent. */
export interface ActiveConferencesPage {
  conferences: Conference[];
  next?: { createdAt: string; conferenceId: string };
}

/** One item of the long-poll feed: the spec's fields, then the event's own data. */
export class ConferenceEvent {
  @ApiProperty({ description: 'Event unique id.' }) id!: string;
  @ApiProperty({ description: 'Event type, e.g. ConferenceJoinedEvent.' }) type!: string;
  @ApiProperty({ description: "Event time, format yyyy-MM-dd'T'HH:mm:ss.SSS'Z'." }) timestamp!: string;
  @ApiProperty() conferenceId!: string;
  @ApiProperty() organizationId!: string;
  @ApiProperty({ description: 'The conference version this event produced (1 for the creation event).' }) conferenceVersion!: number;
  [field: string]: unknown;
}

export class ConferencePublishResult {
  @ApiProperty() streamId!: string;
  @ApiProperty() sdpAnswer!: string;
}

export class ConferenceStreamViewResult {
  @ApiProperty() viewerId!: string;
  @ApiProperty() sdpAnswer!: string;
}

export class SendEventResponse {
  @ApiProperty({ description: 'The number of endpoints the event was sent to.' }) eventsSent!: number;
}
