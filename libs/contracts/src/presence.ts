import { createHash } from 'node:crypto';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { healthSubject, scopedStreamId } from './subjects';
import { Limits } from './limits';
import { ID_SCHEMA, IsJsonObject, IsParleyId, MaxJsonBytes, RESERVED_EVENT_PREFIXES } from './validation';

/**
 * The presence service: user endpoints (register, keepalive, expiry, unregister) and the
 * routing of events to them. Subjects follow `parley.<service>.cmd|qry.<name>`.
 */
export const PresenceCommands = {
  register: 'parley.presence.cmd.register',
  keepAlive: 'parley.presence.cmd.keepAlive',
  unregister: 'parley.presence.cmd.unregister',
  sendEvent: 'parley.presence.cmd.sendEvent',
} as const;

export const PresenceQueries = {
  /** One endpoint of the caller's organization (the gateway binds a socket to it). */
  endpoint: 'parley.presence.qry.endpoint',
  /** Answers { status: 'ok' } once the service's handlers are subscribed (readiness). */
  health: healthSubject('presence'),
} as const;

/** Event streams of the presence service: `userendpoint/<org>/<id>`, and `userevent/<deliveryId>` for each user sendEvent. */
export const USER_ENDPOINT_CONTEXT = 'userendpoint';
export const userEndpointStreamId = (organizationId: string, userEndpointId: string): string => scopedStreamId(USER_ENDPOINT_CONTEXT, organizationId, userEndpointId);
export const USER_EVENT_CONTEXT = 'userevent';
export const userEventStreamId = (deliveryId: string): string => `${USER_EVENT_CONTEXT}/${deliveryId}`;

/**
 * Delivery to endpoints. A qos 0 delivery travels on core NATS (`parley.deliver.<org>.<endpoint>`,
 * with a reply subject) to the gateway that holds the endpoint's session (socket or long poll);
 * when no session is subscribed anywhere, NATS answers the sender "no responders" and the
 * delivery is stored in the JetStream stream PARLEY_DELIVERY (`parley.deliverq.<org>.<endpoint>`)
 * for the endpoint's next session (libs/messaging deliverToEndpoints). qos 1 is always stored
 * there, until the client acknowledges it. An endpoint's queue holds at most 1,000 deliveries
 * (the oldest go first) for at most 24 h, and the presence service purges it when the endpoint is
 * unregistered or expires.
 * `parley.session.<org>.<endpoint>` carries session control between gateways and from the
 * presence service (a newer socket replaces an older one; unregistering closes it).
 */
export const DELIVERY_STREAM = 'PARLEY_DELIVERY';
export const endpointQueuedSubject = (organizationId: string, userEndpointId: string): string => `parley.deliverq.${organizationId}.${userEndpointId}`;
export const endpointSessionSubject = (organizationId: string, userEndpointId: string): string => `parley.session.${organizationId}.${userEndpointId}`;

/**
 * Live-only deliveries (a conference's own events) to many endpoints of one organization: one
 * message on `parley.deliverg.<org>` naming its targets, received by each gateway that holds a
 * session of that organization, which pushes it to its own sessions among the targets. An event
 * for a conference of n endpoints is then one message per gateway, not n.
 */
export const organizationDeliverySubject = (organizationId: string): string => `parley.deliverg.${organizationId}`;
export interface GroupDelivery {
  /** User endpoint ids of the organization. */
  targets: string[];
  delivery: EndpointDelivery;
}

/**
 * The durable JetStream consumer that holds one endpoint's queue position: a hash, because
 * consumer names are file names on the server and `<org>-<endpoint>` could be ambiguous.
 */
export const deliveryConsumerName = (organizationId: string, userEndpointId: string): string =>
  `ep_${createHash('sha256').update(`${organizationId}\u0000${userEndpointId}`).digest('hex').slice(0, 40)}`;

/** What a client receives for each event, over the socket or the long-poll fallback. */
export class EndpointDelivery {
  @ApiProperty({ description: 'Delivery id; a qos 1 delivery is acknowledged with it.' }) id!: string;
  @ApiProperty({ enum: [0, 1], description: '1: delivered again until the client acknowledges it; 0: delivered at most once, not acknowledged.' }) qos!: 0 | 1;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The event as sent (never masked).' }) event!: Record<string, unknown>;
  @ApiPropertyOptional({ format: 'date-time', description: 'When set, a delivery that waited for the endpoint to connect is dropped, not delivered, after this instant (a keepalive reminder expires at its deadline).' })
  expiresAt?: string;
}

/** Session control (`endpointSessionSubject`). */
export type EndpointSessionControl = { kind: 'opened'; sessionId: string } | { kind: 'unregistered'; reason: string };

const keepAliveSeconds = { description: 'How long before this endpoint is considered gone if no keepalive request is sent (1..3600). Mandatory.', minimum: 1, maximum: 3600, example: 30 };
const userEndpointIdDesc = { ...ID_SCHEMA, description: 'The user endpoint id (letters, digits, "-" and "_").', example: 'ep-4c1d' };

export class RegisterUserEndpointWebCommand {
  @ApiPropertyOptional({ ...userEndpointIdDesc, description: 'Supply the id, or leave it out and the server makes one.' })
  @IsOptional() @IsParleyId() userEndpointId?: string;
  @ApiProperty(keepAliveSeconds)
  @IsInt({ message: 'keepAliveSeconds must be an integer number of seconds' }) @Min(1) @Max(3600)
  keepAliveSeconds!: number;
  @ApiPropertyOptional({ description: 'When true, the endpoint is sent a UserEndpointKeepAliveRequestedEvent when two thirds of keepAliveSeconds have passed without a keepalive.', default: false })
  @IsOptional() @IsBoolean() serverKeepAliveReminderOn?: boolean;
}

export class KeepUserEndpointAliveWebCommand {
  @ApiProperty(userEndpointIdDesc) @IsParleyId() userEndpointId!: string;
}

export class UnregisterUserEndpointWebCommand {
  @ApiProperty(userEndpointIdDesc) @IsParleyId() userEndpointId!: string;
  @ApiPropertyOptional({ description: 'Why; recorded, and the reason the endpoint leaves its conferences with.' }) @IsOptional() @IsString() @MaxLength(1024) reason?: string;
}

export class SendEventToUserWebCommand {
  @ApiProperty({ ...ID_SCHEMA, description: 'The user that receives the event.' }) @IsParleyId() userId!: string;
  @ApiPropertyOptional({ ...ID_SCHEMA, description: "The recipient's organization; the caller's own (its token's) when absent. Another one only for a SERVICE caller whose OAuth client is configured to act for it (else 403)." })
  @IsOptional() @IsParleyId() organizationId?: string;
  @ApiPropertyOptional({ ...ID_SCHEMA, description: 'One endpoint of the user; when absent, every registered endpoint of the user.' }) @IsOptional() @IsParleyId() userEndpointId?: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: `The event: at least \`type\` (capitalized camel case ending in "Event", e.g. "ChatMessageSentEvent"; not one of Parley's own: ${RESERVED_EVENT_PREFIXES.join(', ')}… are reserved) and an ISO-8601 \`timestamp\`. At most ${Limits.clientEventBytes} bytes as JSON.`,
  })
  @IsJsonObject() @MaxJsonBytes(Limits.clientEventBytes)
  event!: Record<string, unknown>;
  @ApiPropertyOptional({ type: [String], description: 'JSONPath expressions (e.g. "$.card.number") of string fields replaced by same-length filler wherever the event is stored or logged; the recipient gets them unmasked.' })
  @IsOptional() @IsArray() @ArrayMaxSize(64) @IsString({ each: true }) @MaxLength(512, { each: true })
  masks?: string[];
  @ApiPropertyOptional({
    description:
      '0: delivered at most once; 1: delivered again until the client acknowledges it; other values are 0. Whatever the qos, an endpoint with no socket or long poll open at that moment gets the event when it next connects (kept while the endpoint is registered, at most 1,000 per endpoint).',
    default: 0,
  })
  @IsOptional() @Type(() => Number) @IsInt() qos?: number;
}

export class UserEndpointQuery {
  @IsParleyId() userEndpointId!: string;
}

export class RegisterResult {
  @ApiProperty({ description: 'The user endpoint id.' }) id!: string;
}

export const ENDPOINT_HEALTH = ['HEALTHY', 'SICK'] as const;
export type EndpointHealth = (typeof ENDPOINT_HEALTH)[number];

export class UserEndpointView {
  @ApiProperty() id!: string;
  @ApiProperty() userId!: string;
  @ApiProperty() organizationId!: string;
  @ApiProperty({ enum: ENDPOINT_HEALTH }) state!: EndpointHealth;
  @ApiProperty() keepAliveSeconds!: number;
  @ApiProperty() serverKeepAliveReminderOn!: boolean;
  @ApiProperty({ description: 'The last register or keepalive.' }) lastSeen!: string;
}

/** The presence service's events. */
interface EndpointRef {
  userEndpointId: string;
  organizationId: string;
  userId: string;
}
export interface UserEndpointRegistered extends EndpointRef {
  keepAliveSeconds: number;
  serverKeepAliveReminderOn: boolean;
  at: string;
}
export interface UserEndpointKeptAlive extends EndpointRef {
  at: string;
}
export interface UserEndpointKeepAliveRequested extends EndpointRef {
  /** The instant the endpoint turns SICK without a keepalive. */
  deadline: string;
}
export interface UserEndpointStateChanged extends EndpointRef {
  state: EndpointHealth;
}
export interface UserEndpointUnregistered extends EndpointRef {
  /** The client's reason, or 'expired' when the endpoint was silent for twice its keepAliveSeconds. */
  reason: string;
}
export interface UserEventSent {
  organizationId: string;
  /** The recipient user. */
  userId: string;
  userEndpointIds: string[];
  qos: 0 | 1;
  deliveryId: string;
  /** The event with its masks applied: what is stored and logged. */
  event: Record<string, unknown>;
  masks: string[];
}

type Ev<T extends string, V extends number, D> = { type: T; schemaVersion: V; data: D };
export type UserEndpointDomainEvent =
  | Ev<'UserEndpointRegisteredEvent', 1, UserEndpointRegistered>
  | Ev<'UserEndpointKeptAliveEvent', 1, UserEndpointKeptAlive>
  | Ev<'UserEndpointKeepAliveRequestedEvent', 1, UserEndpointKeepAliveRequested>
  | Ev<'UserEndpointStateChangedEvent', 1, UserEndpointStateChanged>
  | Ev<'UserEndpointUnregisteredEvent', 1, UserEndpointUnregistered>;
export type UserEventDomainEvent = Ev<'UserEventSentEvent', 1, UserEventSent>;

/** qos of the spec's user sendEvent (0/1, others best effort) and of conference sendEvent (names). */
export const qosLevel = (qos: unknown): 0 | 1 => (qos === 1 || qos === 'AT_LEAST_ONCE' ? 1 : 0);
