import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidationArguments, ValidationOptions, registerDecorator } from 'class-validator';
import { parseScopedStreamId, scopedStreamId } from './subjects';
import { ID_SCHEMA, IsParleyId } from './validation';

/**
 * Telemedicine chat sessions (the interaction service): a session between participants (account
 * ids: Parley user ids), in a room (a conference id, when it names one the session is linked to
 * it), that is started, then accepted or rejected, then finished. Times are epoch milliseconds,
 * as the telemedicine API gives them.
 */
export const ChatSessionCommands = {
  create: 'parley.interaction.cmd.createChatSession',
  patch: 'parley.interaction.cmd.patchChatSession',
} as const;

export const ChatSessionQueries = {
  get: 'parley.interaction.qry.chatSession',
  list: 'parley.interaction.qry.chatSessions',
} as const;

/** Event streams: `chatsession/<org>/<chatSessionId>`. */
export const CHAT_SESSION_CONTEXT = 'chatsession';
export const chatSessionStreamId = (organizationId: string, chatSessionId: string): string => scopedStreamId(CHAT_SESSION_CONTEXT, organizationId, chatSessionId);

export const CHAT_SESSION_TYPES = ['telemed'] as const;
export type ChatSessionType = (typeof CHAT_SESSION_TYPES)[number];
/** created → started → accepted | rejected; accepted → finished. */
export const CHAT_SESSION_STATES = ['created', 'started', 'accepted', 'rejected', 'finished'] as const;
export type ChatSessionStateName = (typeof CHAT_SESSION_STATES)[number];
/** The most participants one session has. */
export const CHAT_SESSION_PARTICIPANTS_MAX = 32;
/** A title, a reject or finish reason: at most this many characters. */
export const CHAT_SESSION_TEXT_MAX = 1000;
export const CHAT_SESSIONS_LISTED_DEFAULT = 100;
export const CHAT_SESSIONS_LISTED_MAX = 1000;
/** How deep a list may start (page × size), as for interactions. */
export const CHAT_SESSION_OFFSET_MAX = 100_000;
/** The latest instant a client may give as createdAt: the last of year 9999 (later ones are not ISO-8601 without a sign, nor PostgreSQL's). */
const EPOCH_MS_MAX = 253_402_300_799_999;

interface ChatSessionRef {
  chatSessionId: string;
  organizationId: string;
}

/** What a session holds that PATCH may change (besides the directives). */
export interface ChatSessionFields {
  type?: ChatSessionType;
  room?: string;
  participants?: string[];
  title?: string;
}

export type ChatSessionDomainEvent =
  | {
      type: 'ChatSessionCreatedEvent';
      schemaVersion: 1;
      data: ChatSessionRef & { createdBy: string; createdAt: string; type: ChatSessionType; participants: string[]; room?: string; title?: string };
    }
  | { type: 'ChatSessionChangedEvent'; schemaVersion: 1; /** Only the fields that changed. */ data: ChatSessionRef & ChatSessionFields & { changedBy: string; changedAt: string } }
  | { type: 'ChatSessionStartedEvent'; schemaVersion: 1; data: ChatSessionRef & { startedBy: string; startedAt: string } }
  | { type: 'ChatSessionAcceptedEvent'; schemaVersion: 1; data: ChatSessionRef & { acceptedBy: string; acceptedAt: string } }
  | { type: 'ChatSessionRejectedEvent'; schemaVersion: 1; data: ChatSessionRef & { rejectedBy: string; rejectedAt: string; rejectReason?: string } }
  | { type: 'ChatSessionFinishedEvent'; schemaVersion: 1; data: ChatSessionRef & { finishedBy: string; finishedAt: string; finishReason?: string } };

export const CHAT_SESSION_EVENT_TYPES = [
  'ChatSessionCreatedEvent',
  'ChatSessionChangedEvent',
  'ChatSessionStartedEvent',
  'ChatSessionAcceptedEvent',
  'ChatSessionRejectedEvent',
  'ChatSessionFinishedEvent',
] as const satisfies readonly ChatSessionDomainEvent['type'][];

/** A field the server stamps: any value given is 400, naming the directive that sets it. */
function SetByDirective(directive: string, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'setByDirective',
      target: object.constructor,
      propertyName,
      options: {
        message: (a: ValidationArguments) =>
          directive === 'create'
            ? `${a.property} is set when the session is created; it cannot be changed`
            : `${a.property} cannot be set: the ${directive} directive stamps it with the caller and the server's time (send "${directive}": ${directive === 'reject' || directive === 'finish' ? 'true or a reason' : 'true'})`,
        ...options,
      },
      validator: { validate: (v: unknown) => v === undefined },
    });
}

/** `true`, `false` (nothing to do), or a reason of 1 to CHAT_SESSION_TEXT_MAX characters. */
function IsTrueOrReason(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isTrueOrReason',
      target: object.constructor,
      propertyName,
      options: { message: (a: ValidationArguments) => `${a.property} must be true, false, or a reason of 1 to ${CHAT_SESSION_TEXT_MAX} characters`, ...options },
      validator: { validate: (v: unknown) => typeof v === 'boolean' || (typeof v === 'string' && v.length >= 1 && v.length <= CHAT_SESSION_TEXT_MAX) },
    });
}

const stamped = (directive: string, type: 'integer' | 'string') => ({ type, readOnly: true, description: `Set by the ${directive} directive; giving it is 400.` });
const participantsSchema = { type: 'array', items: ID_SCHEMA, minItems: 1, maxItems: CHAT_SESSION_PARTICIPANTS_MAX, uniqueItems: true, description: 'Account ids (Parley user ids) of the participants.' } as const;

/** What POST and PATCH both take, and the stamped fields they both refuse. */
class ChatSessionWebFields {
  @ApiPropertyOptional({ enum: CHAT_SESSION_TYPES, description: 'telemed (the default).' })
  @IsOptional() @IsIn(CHAT_SESSION_TYPES)
  type?: ChatSessionType;

  @ApiPropertyOptional({ ...ID_SCHEMA, description: "The room: when it names a conference of the organization, the session is linked to it (the conference's participants receive its events and may read it)." })
  @IsOptional() @IsParleyId()
  room?: string;

  @ApiPropertyOptional({ maxLength: CHAT_SESSION_TEXT_MAX, description: 'A title (the telemedicine API\'s examples send one).' })
  @IsOptional() @IsString() @MaxLength(CHAT_SESSION_TEXT_MAX)
  title?: string;

  @ApiPropertyOptional(stamped('start', 'integer')) @SetByDirective('start') startedAt?: never;
  @ApiPropertyOptional(stamped('start', 'string')) @SetByDirective('start') startedBy?: never;
  @ApiPropertyOptional(stamped('accept', 'integer')) @SetByDirective('accept') acceptedAt?: never;
  @ApiPropertyOptional(stamped('accept', 'string')) @SetByDirective('accept') acceptedBy?: never;
  @ApiPropertyOptional(stamped('reject', 'integer')) @SetByDirective('reject') rejectedAt?: never;
  @ApiPropertyOptional(stamped('reject', 'string')) @SetByDirective('reject') rejectedBy?: never;
  @ApiPropertyOptional(stamped('reject', 'string')) @SetByDirective('reject') rejectReason?: never;
  @ApiPropertyOptional(stamped('finish', 'integer')) @SetByDirective('finish') finishedAt?: never;
  @ApiPropertyOptional(stamped('finish', 'string')) @SetByDirective('finish') finishedBy?: never;
  @ApiPropertyOptional(stamped('finish', 'string')) @SetByDirective('finish') finishReason?: never;
}

export class CreateChatSessionWebCommand extends ChatSessionWebFields {
  @ApiProperty(participantsSchema)
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(CHAT_SESSION_PARTICIPANTS_MAX) @ArrayUnique({ message: 'participants must not name an account twice' }) @IsParleyId({ each: true, message: 'each of participants must be 1 to 128 letters, digits, "-" or "_"' })
  participants!: string[];

  @ApiPropertyOptional({ type: 'integer', format: 'int64', minimum: 0, description: 'Epoch milliseconds; the server\'s time when omitted.' })
  @IsOptional() @IsInt() @Min(0) @Max(EPOCH_MS_MAX)
  createdAt?: number;
}

export class PatchChatSessionWebCommand extends ChatSessionWebFields {
  @ApiPropertyOptional({ ...participantsSchema, description: 'Replaces the participants.' })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(CHAT_SESSION_PARTICIPANTS_MAX) @ArrayUnique({ message: 'participants must not name an account twice' }) @IsParleyId({ each: true, message: 'each of participants must be 1 to 128 letters, digits, "-" or "_"' })
  participants?: string[];

  @ApiPropertyOptional({ type: 'integer', format: 'int64', readOnly: true, description: 'Set when the session is created; giving it is 400.' })
  @SetByDirective('create')
  createdAt?: never;

  @ApiPropertyOptional({ type: 'boolean', description: 'Directive: start the session (created → started), stamping startedAt/startedBy.' })
  @IsOptional() @IsBoolean()
  start?: boolean;

  @ApiPropertyOptional({ type: 'boolean', description: 'Directive: accept it (started → accepted), stamping acceptedAt/acceptedBy.' })
  @IsOptional() @IsBoolean()
  accept?: boolean;

  @ApiPropertyOptional({ oneOf: [{ type: 'boolean' }, { type: 'string', minLength: 1, maxLength: CHAT_SESSION_TEXT_MAX }], description: 'Directive: reject it (started → rejected), true or a reason, stamping rejectedAt/rejectedBy (and rejectReason).' })
  @IsOptional() @IsTrueOrReason()
  reject?: boolean | string;

  @ApiPropertyOptional({ oneOf: [{ type: 'boolean' }, { type: 'string', minLength: 1, maxLength: CHAT_SESSION_TEXT_MAX }], description: 'Directive: finish it (accepted → finished), true or a reason, stamping finishedAt/finishedBy (and finishReason).' })
  @IsOptional() @IsTrueOrReason()
  finish?: boolean | string;
}

/** The PATCH as sent to the interaction service: the body and the id from the path. */
export class PatchChatSessionCommand extends PatchChatSessionWebCommand {
  @IsParleyId() chatSessionId!: string;
}

export class ChatSessionIdQuery {
  @IsParleyId() chatSessionId!: string;
}

/** GET /chat-sessions as sent to the interaction service (the gateway parsed the query string). */
export class ChatSessionListQuery {
  @IsOptional() @IsIn(CHAT_SESSION_STATES) state?: ChatSessionStateName;
  @IsOptional() @IsParleyId() participant?: string;
  @IsInt() @Min(0) @Max(CHAT_SESSION_OFFSET_MAX) page!: number;
  @IsInt() @Min(1) @Max(CHAT_SESSIONS_LISTED_MAX) size!: number;
}

const epochMs = (description: string) => ({ type: 'integer', format: 'int64', description: `${description} (epoch milliseconds)` }) as const;

export class ChatSession {
  @ApiProperty(ID_SCHEMA) id!: string;
  @ApiProperty(epochMs('when it was created')) createdAt!: number;
  @ApiProperty({ description: 'The account that created it.' }) createdBy!: string;
  @ApiProperty({ enum: CHAT_SESSION_TYPES }) type!: ChatSessionType;
  @ApiPropertyOptional() room?: string;
  @ApiPropertyOptional() title?: string;
  @ApiProperty({ enum: CHAT_SESSION_STATES, description: "Parley's addition: where the session is in created → started → accepted | rejected → finished." }) state!: ChatSessionStateName;
  @ApiPropertyOptional(epochMs('start')) startedAt?: number;
  @ApiPropertyOptional() startedBy?: string;
  @ApiPropertyOptional(epochMs('accept')) acceptedAt?: number;
  @ApiPropertyOptional() acceptedBy?: string;
  @ApiPropertyOptional(epochMs('reject')) rejectedAt?: number;
  @ApiPropertyOptional() rejectedBy?: string;
  @ApiPropertyOptional() rejectReason?: string;
  @ApiPropertyOptional(epochMs('finish')) finishedAt?: number;
  @ApiPropertyOptional() finishedBy?: string;
  @ApiPropertyOptional({ description: "Parley's addition: the reason given with finish." }) finishReason?: string;
  @ApiProperty({ type: [String], description: 'Account ids.' }) participants!: string[];
  @ApiProperty({ type: 'integer', description: "Parley's addition: the session's version, one more with each change." }) version!: number;
}

/** One push of a chat session's change to an endpoint: the event's fields, with where it stands. */
export interface ChatSessionPush extends Record<string, unknown> {
  id: string;
  type: ChatSessionDomainEvent['type'];
  timestamp: string;
  chatSessionId: string;
  organizationId: string;
  chatSessionVersion: number;
}

/** What chatSessionPush needs of a recorded chat session event (the event store's RecordedEvent has it). */
export interface RecordedChatSessionEvent {
  eventId: string;
  type: string;
  streamId: string;
  streamVersion: number;
  data: unknown;
  metadata: { time: string };
}

/** The push of one chat session event to its participants' endpoints, or undefined for another stream's event. */
export function chatSessionPush(e: RecordedChatSessionEvent): ChatSessionPush | undefined {
  const session = parseScopedStreamId(CHAT_SESSION_CONTEXT, e.streamId);
  if (!session) return undefined;
  return {
    ...(e.data as Record<string, unknown>),
    id: e.eventId,
    type: e.type as ChatSessionPush['type'],
    timestamp: new Date(e.metadata.time).toISOString(),
    chatSessionId: session.id,
    organizationId: session.organizationId,
    chatSessionVersion: e.streamVersion,
  };
}
