import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Limits } from '../limits';
import { ID_SCHEMA, IsJsonObject, IsParleyId, IsStringRecord, MaxJsonBytes } from '../validation';
import { ENDPOINT_HEALTH, type EndpointHealth } from '../presence';

/** The request bodies of the spec's /conferences endpoints (names as in the spec). */

export const CONFERENCE_MODES = ['P2P', 'ROUTER', 'UNKNOWN'] as const;
export type ConferenceMode = (typeof CONFERENCE_MODES)[number];
export const STREAM_TYPES = ['MIC', 'CAM', 'SCREEN', 'MIC_AND_CAM', 'UNKNOWN'] as const;
export type ConferenceStreamType = (typeof STREAM_TYPES)[number];
export const METADATA_OPERATIONS = ['SET', 'REMOVE', 'UNKNOWN'] as const;
export type MetadataOperation = (typeof METADATA_OPERATIONS)[number];
export const QOS_LEVELS = ['BEST_EFFORT', 'AT_LEAST_ONCE'] as const;
export type Qos = (typeof QOS_LEVELS)[number];

const conferenceId = { ...ID_SCHEMA, description: 'The conference id (unique within the organization).', example: 'c-7f3a' };
const userEndpointId = { ...ID_SCHEMA, description: "The caller's user endpoint id.", example: 'ep-agent-1' };
const document = (description: string) => ({ type: 'object', additionalProperties: true, description: `${description} At most ${Limits.documentBytes} bytes as JSON.` }) as const;

export class CreateConferenceWebCommand {
  @ApiPropertyOptional({ ...ID_SCHEMA, description: 'Supply the conferenceId, or leave it empty and the server produces one.' })
  @IsOptional() @IsParleyId()
  conferenceId?: string;

  @ApiPropertyOptional({ enum: CONFERENCE_MODES, default: 'ROUTER', description: 'Conference mode. Only ROUTER is supported.' })
  @IsOptional() @IsIn(CONFERENCE_MODES)
  mode?: ConferenceMode;

  @ApiPropertyOptional({ ...ID_SCHEMA, description: "Organization id, for internal use only: only a SERVICE caller may set it; others get their token's organization." })
  @IsOptional() @IsParleyId()
  organizationId?: string;

  @ApiPropertyOptional({ ...ID_SCHEMA, description: "The creator's user endpoint id." })
  @IsOptional() @IsParleyId()
  creatorEndpoint?: string;

  @ApiPropertyOptional({ description: 'Interaction id related to this conference.' })
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(256)
  interactionId?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: `Conference metadata (string values). At most ${Limits.documentBytes} bytes as JSON.` })
  @IsOptional() @IsStringRecord() @MaxJsonBytes(Limits.documentBytes)
  metadata?: Record<string, string>;
}

export class JoinConferenceWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiProperty(userEndpointId) @IsParleyId() userEndpointId!: string;
  @ApiPropertyOptional(document('Metadata of the participant.'))
  @IsOptional() @IsJsonObject() @MaxJsonBytes(Limits.documentBytes)
  metadata?: Record<string, unknown>;
}

export class LeaveConferenceWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiProperty(userEndpointId) @IsParleyId() userEndpointId!: string;
  @ApiPropertyOptional({ description: 'A reason for leaving.' }) @IsOptional() @IsString() @MaxLength(1024) reason?: string;
}

export class EndConferenceWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiProperty(userEndpointId) @IsParleyId() userEndpointId!: string;
  @ApiPropertyOptional({ description: 'A reason for ending.' }) @IsOptional() @IsString() @MaxLength(1024) reason?: string;
}

export class SetInteractionIdWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiProperty({ description: 'The interaction id.' }) @IsString() @IsNotEmpty() @MaxLength(256) interactionId!: string;
  @ApiPropertyOptional(userEndpointId) @IsOptional() @IsParleyId() userEndpointId?: string;
}

export class UpdateConferenceMetadataWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiProperty(userEndpointId) @IsParleyId() userEndpointId!: string;
  @ApiProperty({ enum: ['SET', 'REMOVE'], description: 'SET or REMOVE.' }) @IsIn(['SET', 'REMOVE'], { message: 'operation must be one of: SET, REMOVE' }) operation!: MetadataOperation;
  @ApiProperty({ description: 'The key.', minLength: 1, maxLength: 256 }) @IsString() @IsNotEmpty() @MaxLength(256) key!: string;
  @ApiPropertyOptional({ description: `The value; required for SET, ignored for REMOVE. At most ${Limits.valueBytes} bytes as JSON.` }) @IsOptional() @IsString() @MaxJsonBytes(Limits.valueBytes) value?: string;
}

export class UpdateConferenceParticipantMetadataWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiProperty(userEndpointId) @IsParleyId() userEndpointId!: string;
  @ApiProperty(document('The new metadata of the participant (replaces the old).'))
  @IsJsonObject() @MaxJsonBytes(Limits.documentBytes)
  newMetadata!: Record<string, unknown>;
}

export class UpdateConferenceStreamMetadataWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiProperty(userEndpointId) @IsParleyId() userEndpointId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: 'The stream id.' }) @IsParleyId() streamId!: string;
  @ApiPropertyOptional(document('The new metadata of the stream (replaces the old).'))
  @IsOptional() @IsJsonObject() @MaxJsonBytes(Limits.documentBytes)
  newMetadata?: Record<string, unknown>;
}

export class ConferenceUpdatePublishedStreamBitrateWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiProperty(userEndpointId) @IsParleyId() userEndpointId!: string;
  @ApiPropertyOptional({ ...ID_SCHEMA, description: "The stream id; when absent, every stream the endpoint publishes." }) @IsOptional() @IsParleyId() streamId?: string;
  @ApiProperty({ description: 'Maximum incoming video bitrate, bits per second.', example: 300000, minimum: 1000, maximum: 100_000_000 })
  @IsInt() @Min(1000) @Max(100_000_000)
  videoBitrate!: number;
}

export class ConferencePublishStreamWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiProperty(userEndpointId) @IsParleyId() userEndpointId!: string;
  @ApiPropertyOptional({ ...ID_SCHEMA, description: 'The stream id; generated when absent.' }) @IsOptional() @IsParleyId() streamId?: string;
  @ApiProperty({ enum: ['MIC', 'CAM', 'SCREEN', 'MIC_AND_CAM'] })
  @IsIn(['MIC', 'CAM', 'SCREEN', 'MIC_AND_CAM'], { message: 'conferenceStreamType must be one of: MIC, CAM, SCREEN, MIC_AND_CAM' })
  conferenceStreamType!: ConferenceStreamType;
  @ApiProperty({ description: "The browser's SDP offer.", maxLength: Limits.sdpBytes }) @IsString() @IsNotEmpty() @MaxLength(Limits.sdpBytes) sdpOffer!: string;
  @ApiPropertyOptional(document('Metadata of the stream.')) @IsOptional() @IsJsonObject() @MaxJsonBytes(Limits.documentBytes) metadata?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'Maximum video bitrate, bits per second.', minimum: 1000, maximum: 100_000_000 }) @IsOptional() @IsInt() @Min(1000) @Max(100_000_000) videoBitrate?: number;
}

export class ConferenceUnpublishStreamWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiProperty(userEndpointId) @IsParleyId() userEndpointId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: 'The stream to unpublish.' }) @IsParleyId() streamId!: string;
}

export class ConferenceViewStreamWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: "The viewer's user endpoint id." }) @IsParleyId() userEndpointId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: 'The stream to view.' }) @IsParleyId() streamId!: string;
  @ApiProperty({ description: "The viewer's recvonly SDP offer.", maxLength: Limits.sdpBytes }) @IsString() @IsNotEmpty() @MaxLength(Limits.sdpBytes) sdpOffer!: string;
  @ApiPropertyOptional({ ...ID_SCHEMA, description: 'The viewer id; generated when absent.' }) @IsOptional() @IsParleyId() viewerId?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: `At most ${Limits.documentBytes} bytes as JSON.` }) @IsOptional() @IsStringRecord() @MaxJsonBytes(Limits.documentBytes) metadata?: Record<string, string>;
}

export class ConferenceStopViewStreamWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiProperty(userEndpointId) @IsParleyId() userEndpointId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: 'The viewed stream.' }) @IsParleyId() streamId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: 'The viewer id answered by viewStream.' }) @IsParleyId() viewerId!: string;
}

export class IceCandidate {
  /** An RTCIceCandidate's `candidate` line; the empty string is a browser's end-of-candidates marker and is accepted. */
  @ApiProperty({ example: 'candidate:1 1 udp 2122260223 192.0.2.10 54321 typ host', description: "An RTCIceCandidate's candidate line; '' (a browser's end-of-candidates) is accepted." })
  @IsString()
  @MaxLength(1024)
  candidate!: string;
  @ApiPropertyOptional({ example: '0' }) @IsOptional() @IsString() @MaxLength(64) sdpMid?: string;
  @ApiPropertyOptional({ example: 0, minimum: 0, maximum: 1024 }) @IsOptional() @IsInt() @Min(0) @Max(1024) sdpMLineIndex?: number;
}

export class ConferencePublishStreamIceCandidatesWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiProperty(userEndpointId) @IsParleyId() userEndpointId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: 'The published stream id.' }) @IsParleyId() streamId!: string;
  @ApiProperty({ type: [IceCandidate], maxItems: 256 }) @IsArray() @ArrayMaxSize(256) @ValidateNested({ each: true }) @Type(() => IceCandidate) iceCandidates!: IceCandidate[];
}

export class ConferenceViewStreamIceCandidatesWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiProperty(userEndpointId) @IsParleyId() userEndpointId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: 'The viewed stream id.' }) @IsParleyId() streamId!: string;
  @ApiProperty({ ...ID_SCHEMA, description: 'The viewer id.' }) @IsParleyId() viewerId!: string;
  @ApiProperty({ type: [IceCandidate], maxItems: 256 }) @IsArray() @ArrayMaxSize(256) @ValidateNested({ each: true }) @Type(() => IceCandidate) iceCandidates!: IceCandidate[];
}

export class SendEventToConferenceWebCommand {
  @ApiProperty(conferenceId) @IsParleyId() conferenceId!: string;
  @ApiPropertyOptional({
    enum: QOS_LEVELS,
    default: 'BEST_EFFORT',
    description: 'BEST_EFFORT: delivered at most once; AT_LEAST_ONCE: delivered again until the client acknowledges it. Either way an endpoint with no session open at that moment gets it when it next connects.',
  })
  @IsOptional() @IsIn(QOS_LEVELS, { message: 'qos must be one of: BEST_EFFORT, AT_LEAST_ONCE' }) qos?: Qos;
  @ApiProperty({ type: 'object', additionalProperties: true, description: `The event: at least \`type\` (e.g. "ChatMessageSentEvent") and an ISO-8601 \`timestamp\`. At most ${Limits.clientEventBytes} bytes as JSON.` })
  @IsJsonObject() @MaxJsonBytes(Limits.clientEventBytes)
  event!: Record<string, unknown>;
  @ApiPropertyOptional({ type: [String], description: 'JSONPath expressions of string fields to mask where the event is stored or logged.' })
  @IsOptional() @IsArray() @ArrayMaxSize(64) @IsString({ each: true }) @MaxLength(512, { each: true })
  masks?: string[];
}

/** NATS only (the presence service): a participant's endpoint missed its keepalive deadline, or kept alive again. */
export class UpdateParticipantStateCommand {
  @IsParleyId() conferenceId!: string;
  @IsParleyId() userEndpointId!: string;
  @IsIn(ENDPOINT_HEALTH, { message: 'state must be HEALTHY or SICK' }) state!: EndpointHealth;
}

/** Query payloads (NATS only; the gateway fills them from the path and query string). */
export class ConferenceIdQuery {
  @IsParleyId() conferenceId!: string;
}
export class ConferenceEventsQuery {
  @IsParleyId() conferenceId!: string;
  @IsInt() @Min(0) afterVersion!: number;
}
/** Where a page of GET /conferences/active ends; the next page starts after it. */
export class ActiveConferencesCursor {
  @IsString() @MaxLength(64) createdAt!: string;
  @IsParleyId() conferenceId!: string;
}
export class ActiveConferencesQuery {
  @IsOptional() @ValidateNested() @Type(() => ActiveConferencesCursor) after?: ActiveConferencesCursor;
}
