import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsDefined, IsIn, IsInt, IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Limits } from './limits';
import { healthSubject, scopedStreamId } from './subjects';
import { ID_SCHEMA, IsJsonObject, IsParleyId, IsStringRecord, MaxJsonBytes } from './validation';

/**
 * The interaction service: the record a contact centre keeps about one customer contact (a
 * Genesys conversation, a Talkdesk contact, a web visit), with its type and free-form data.
 * Subjects follow `parley.<service>.cmd|qry.<name>`.
 */
export const InteractionCommands = {
  create: 'parley.interaction.cmd.create',
  update: 'parley.interaction.cmd.update',
  rate: 'parley.interaction.cmd.rate',
  /** Talkdesk: the interaction of a contact, created or found. */
  talkdeskCreate: 'parley.interaction.cmd.talkdeskCreate',
  /** Talkdesk: a contact's interactions as activity items (a POST of the spec's, so a command: a retry under its transaction id gets the first answer). */
  talkdeskActivity: 'parley.interaction.cmd.talkdeskActivity',
  /** Talkdesk: integration credentials checked against TALKDESK_INTEGRATIONS (a POST, as above). */
  talkdeskValidate: 'parley.interaction.cmd.talkdeskValidate',
} as const;

export const InteractionQueries = {
  get: 'parley.interaction.qry.get',
  page: 'parley.interaction.qry.page',
  /** The conferences that named an interaction (InteractionIdQuery). */
  conferences: 'parley.interaction.qry.conferences',
  /** Ratings of one interaction, or of one call or conference (RatingsQuery). */
  ratings: 'parley.interaction.qry.ratings',
  health: healthSubject('interaction'),
} as const;

/** Event streams: `interaction/<org>/<interactionId>`. */
export const INTERACTION_CONTEXT = 'interaction';
export const interactionStreamId = (organizationId: string, interactionId: string): string => scopedStreamId(INTERACTION_CONTEXT, organizationId, interactionId);

/** An interaction's type: a word of the integration's choosing ("video call", "chat"). */
const TYPE_MAX = 256;
const interactionIdSchema = { ...ID_SCHEMA, description: 'The interaction id (an integration\'s own id, e.g. a Genesys conversation id, or one the server made).', example: 'c1f0a6d2-3b5e-4e1f-9a7c-2d4b8e6f1a3c' };
const dataSchema = {
  type: 'object',
  additionalProperties: true,
  description: `Arbitrary data of the interaction. At most ${Limits.documentBytes} bytes as JSON.`,
} as const;

export type InteractionDomainEvent =
  | {
      type: 'InteractionCreatedEvent';
      schemaVersion: 1;
      data: { interactionId: string; organizationId: string; createdBy: string; createdAt: string; type?: string; data: Record<string, unknown> };
    }
  | {
      type: 'InteractionUpdatedEvent';
      schemaVersion: 1;
      /** An absent `type` or `data` is left as it was; a present `data` replaces all of it. */
      data: { interactionId: string; organizationId: string; updatedBy: string; updatedAt: string; type?: string; data?: Record<string, unknown> };
    };

export class CreateInteractionWebCommand {
  @ApiPropertyOptional({ ...interactionIdSchema, description: "Supply the id (an integration's own, e.g. a Genesys conversation id), or leave it out and the server makes one. An id that exists is 409." })
  @IsOptional() @IsParleyId()
  interactionId?: string;

  @ApiPropertyOptional({ description: 'The type of interaction, e.g. "video call".', maxLength: TYPE_MAX })
  @IsOptional() @IsString() @MaxLength(TYPE_MAX)
  type?: string;

  @ApiPropertyOptional(dataSchema)
  @IsOptional() @IsJsonObject() @MaxJsonBytes(Limits.documentBytes)
  data?: Record<string, unknown>;
}

export class UpdateInteractionWebCommand {
  @ApiPropertyOptional({ description: 'The type of interaction; left as it is when omitted.', maxLength: TYPE_MAX })
  @IsOptional() @IsString() @MaxLength(TYPE_MAX)
  type?: string;

  @ApiPropertyOptional({ ...dataSchema, description: `Interaction data; left as it is when omitted, and when supplied it replaces all data. At most ${Limits.documentBytes} bytes as JSON.` })
  @IsOptional() @IsJsonObject() @MaxJsonBytes(Limits.documentBytes)
  data?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'integer', format: 'int64', minimum: 0, description: 'The version the client read (optimistic locking): when given and the interaction is at another version, 409 and nothing changes.' })
  @IsOptional() @IsInt() @Min(0)
  version?: number;
}

/** The update as sent to the interaction service: the body and the id from the path. */
export class UpdateInteractionCommand extends UpdateInteractionWebCommand {
  @IsParleyId() interactionId!: string;
}

export class InteractionIdQuery {
  @IsParleyId() interactionId!: string;
}

export class CreateInteractionResponse {
  @ApiProperty(interactionIdSchema) interactionId!: string;
  @ApiProperty({ type: 'integer', format: 'int64', description: 'Its version: 1 once created, one more with each update.' }) version!: number;
}

export class Interaction {
  @ApiProperty(interactionIdSchema) id!: string;
  @ApiProperty() organizationId!: string;
  @ApiProperty({ description: 'The user that created it.' }) createdBy!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional() type?: string;
  @ApiProperty(dataSchema) data!: Record<string, unknown>;
  @ApiProperty({ type: 'integer', format: 'int64' }) version!: number;
}

/** What an interaction list may be sorted by, in the spec's property names. */
export const INTERACTION_SORT_PROPERTIES = ['createdAt', 'type', 'id'] as const;
export type InteractionSortProperty = (typeof INTERACTION_SORT_PROPERTIES)[number];
export const SORT_DIRECTIONS = ['ASC', 'DESC'] as const;
export const INTERACTION_PAGE_MAX = 1000;
export const INTERACTION_PAGE_DEFAULT = 20;
/** How deep a page may start (page × size): a deeper one would make the database walk that many rows first; narrow the range instead. */
export const INTERACTION_OFFSET_MAX = 100_000;
/** The most `params` pairs and sort orders one list request may give. */
export const INTERACTION_FILTERS_MAX = 16;

export class InteractionSortOrder {
  @IsIn(INTERACTION_SORT_PROPERTIES) property!: InteractionSortProperty;
  @IsIn(SORT_DIRECTIONS) direction!: (typeof SORT_DIRECTIONS)[number];
}

/** A page of an organization's interactions as sent to the interaction service (the gateway parsed the query string). */
export class InteractionPageQuery {
  @IsISO8601({ strict: true }) start!: string;
  @IsISO8601({ strict: true }) end!: string;
  @IsStringRecord() params!: Record<string, string>;
  @IsInt() @Min(0) @Max(1_000_000) page!: number;
  @IsInt() @Min(1) @Max(INTERACTION_PAGE_MAX) size!: number;
  @IsArray() @ArrayMaxSize(INTERACTION_FILTERS_MAX) @ValidateNested({ each: true }) @Type(() => InteractionSortOrder) sort!: InteractionSortOrder[];
}

/** Spring Data's SortObject, as the spec shows it. */
export class SortObject {
  @ApiProperty({ enum: SORT_DIRECTIONS }) direction!: string;
  @ApiProperty({ description: 'Always NATIVE: the database orders nulls (an interaction without a type) last ascending, first descending.' }) nullHandling!: string;
  @ApiProperty() ascending!: boolean;
  @ApiProperty({ enum: INTERACTION_SORT_PROPERTIES }) property!: string;
  @ApiProperty() ignoreCase!: boolean;
}

export class PageableObject {
  @ApiProperty({ type: 'integer', format: 'int64' }) offset!: number;
  @ApiProperty({ type: [SortObject] }) sort!: SortObject[];
  @ApiProperty({ type: 'integer' }) pageSize!: number;
  @ApiProperty() paged!: boolean;
  @ApiProperty({ type: 'integer' }) pageNumber!: number;
  @ApiProperty() unpaged!: boolean;
}

export class PageInteraction {
  @ApiProperty({ type: 'integer' }) totalPages!: number;
  @ApiProperty({ type: 'integer', format: 'int64' }) totalElements!: number;
  @ApiProperty() first!: boolean;
  @ApiProperty() last!: boolean;
  @ApiProperty({ type: 'integer' }) size!: number;
  @ApiProperty({ type: [Interaction] }) content!: Interaction[];
  @ApiProperty({ type: 'integer' }) number!: number;
  @ApiProperty({ type: [SortObject] }) sort!: SortObject[];
  @ApiProperty({ type: 'integer' }) numberOfElements!: number;
  @ApiProperty({ type: PageableObject }) pageable!: PageableObject;
  @ApiProperty() empty!: boolean;
}

/** The spec's SortObject of one order. */
export const sortObject = (o: InteractionSortOrder): SortObject => ({ direction: o.direction, nullHandling: 'NATIVE', ascending: o.direction === 'ASC', property: o.property, ignoreCase: false });

/** A PageInteraction of `content`, the page asked for and the total that matched. */
export function interactionPage(content: Interaction[], query: Pick<InteractionPageQuery, 'page' | 'size' | 'sort'>, totalElements: number): PageInteraction {
  const sort = query.sort.map(sortObject);
  const totalPages = Math.ceil(totalElements / query.size);
  return {
    totalPages,
    totalElements,
    first: query.page === 0,
    last: query.page >= totalPages - 1,
    size: query.size,
    content,
    number: query.page,
    sort,
    numberOfElements: content.length,
    pageable: { offset: query.page * query.size, sort, pageSize: query.size, paged: true, pageNumber: query.page, unpaged: false },
    empty: content.length === 0,
  };
}

/** Ratings: one stream per rating, `rating/<org>/<ratingId>`; a user rates one session once. */
export const RATING_CONTEXT = 'rating';
export const SESSION_TYPES = ['CALL', 'CONFERENCE'] as const;
export type SessionType = (typeof SESSION_TYPES)[number];
/** What a rating's comment may hold, in characters. */
export const RATING_COMMENT_MAX = 2000;
/** The most ratings one list answers (the newest; fewer when they would pass Limits.pageBytes). */
export const RATINGS_LISTED_MAX = 1000;

export type RatingDomainEvent = {
  type: 'RatingCreatedEvent';
  schemaVersion: 1;
  data: {
    ratingId: string;
    organizationId: string;
    userId: string;
    userEndpointId?: string;
    interactionId?: string;
    sessionType: SessionType;
    sessionId: string;
    score: number;
    comment?: string;
    createdAt: string;
  };
};

export class CreateRatingWebCommand {
  @ApiPropertyOptional({ ...ID_SCHEMA, description: 'The user endpoint from which the user rates (recorded as given).' })
  @IsOptional() @IsParleyId()
  userEndpointId?: string;

  @ApiProperty({ enum: ['UNKNOWN', ...SESSION_TYPES], description: 'The kind of session: CALL or CONFERENCE (UNKNOWN is refused).' })
  @IsIn(SESSION_TYPES, { message: `sessionType must be one of: ${SESSION_TYPES.join(', ')}` })
  sessionType!: SessionType;

  @ApiProperty({ ...ID_SCHEMA, description: 'The call or conference id the rating is about.' })
  @IsParleyId()
  sessionId!: string;

  @ApiProperty({ type: 'integer', format: 'int32', minimum: 1, maximum: 5, description: 'The rating: 1 (bad) to 5 (perfect).' })
  @IsInt({ message: 'rating must be an integer from 1 to 5' }) @Min(1, { message: 'rating must be an integer from 1 to 5' }) @Max(5, { message: 'rating must be an integer from 1 to 5' })
  rating!: number;

  @ApiPropertyOptional({ maxLength: RATING_COMMENT_MAX, description: 'Any comment the user gave.' })
  @IsOptional() @IsString() @MaxLength(RATING_COMMENT_MAX)
  comment?: string;

  @ApiPropertyOptional({ ...ID_SCHEMA, description: 'The related interaction id.' })
  @IsOptional() @IsParleyId()
  interactionId?: string;
}

export class CreatingRatingWebResponse {
  @ApiProperty({ description: 'The rating id.' }) id!: string;
}

export class Rating {
  @ApiProperty({ description: 'rating id' }) id!: string;
  @ApiProperty({ description: 'the user who created this rating' }) userId!: string;
  @ApiPropertyOptional({ description: 'the user endpoint from which the user created this rating' }) userEndpointId?: string;
  @ApiProperty({ description: 'related organization id' }) organizationId!: string;
  @ApiPropertyOptional({ description: 'related interaction id' }) interactionId?: string;
  @ApiProperty({ enum: SESSION_TYPES, description: 'kind of session, CALL or CONFERENCE' }) sessionType!: SessionType;
  @ApiProperty({ description: 'the call or conference id related with this rating' }) sessionId!: string;
  @ApiProperty({ type: 'integer', format: 'int32', description: 'the rating the user gave, scale is 1-5, 1 meaning bad and 5 perfect' }) score!: number;
  @ApiPropertyOptional({ description: 'any comment the user gave' }) comment?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

/** Whose ratings a list is of: one interaction's, or one session's. */
export class RatingsQuery {
  @IsOptional() @IsParleyId() interactionId?: string;
  @IsOptional() @IsIn(SESSION_TYPES) sessionType?: SessionType;
  @IsOptional() @IsParleyId() sessionId?: string;
}

/**
 * The Talkdesk integration: a Talkdesk contact's interaction is `talkdesk-<contact_id>`, of type
 * `talkdesk`, with `talkdeskContactId` in its data; a contact's activity is its interactions.
 */
export const TALKDESK_INTERACTION_TYPE = 'talkdesk';
export const TALKDESK_CONTACT_KEY = 'talkdeskContactId';
const CONTACT_ID = /^[A-Za-z0-9_-]{1,119}$/;
export const talkdeskInteractionId = (contactId: string): string => `talkdesk-${contactId}`;
/** The most activity items one answer holds (the newest interactions). */
export const TALKDESK_ACTIVITY_MAX = 100;

export class TalkdeskRequestData {
  @ApiProperty({ description: 'The Talkdesk contact id (letters, digits, "-" and "_", at most 119).', example: '5f9c1c6a2b7e4d0012a3b4c5' })
  @Matches(CONTACT_ID, { message: 'data.contact_id must be 1 to 119 letters, digits, "-" or "_"' })
  contact_id!: string;
}

export class TalkdeskCreateTalkdeskRequest {
  @ApiProperty({ type: TalkdeskRequestData })
  @IsDefined({ message: 'data is required' }) @IsObject({ message: 'data must be an object' }) @ValidateNested() @Type(() => TalkdeskRequestData)
  data!: TalkdeskRequestData;
}

export class TalkdeskCreateTalkdeskResponse {
  @ApiProperty({ description: '"created", or "found" when the contact had its interaction already.' }) message!: string;
  @ApiProperty({ description: "The contact's interaction id." }) contact_external_id!: string;
}

export class TalkdeskMeta {
  @ApiPropertyOptional({ type: [String], description: 'Only interactions of these types (all when absent or empty).' })
  @IsOptional() @IsArray() @ArrayMaxSize(INTERACTION_FILTERS_MAX) @IsString({ each: true }) @MaxLength(TYPE_MAX, { each: true })
  interaction_types?: string[];
}

export class TalkdeskContactActivityRequest {
  @ApiPropertyOptional({ type: TalkdeskMeta })
  @IsOptional() @IsObject({ message: 'meta must be an object' }) @ValidateNested() @Type(() => TalkdeskMeta)
  meta?: TalkdeskMeta;

  @ApiProperty({ type: TalkdeskRequestData })
  @IsDefined({ message: 'data is required' }) @IsObject({ message: 'data must be an object' }) @ValidateNested() @Type(() => TalkdeskRequestData)
  data!: TalkdeskRequestData;
}

/** The activity request as sent to the interaction service: with the origin the items' urls point to. */
export class TalkdeskActivityQuery extends TalkdeskContactActivityRequest {
  @Matches(/^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?$/) origin!: string;
}

export class TalkdeskContactActivityResponseItem {
  @ApiProperty() id!: string;
  @ApiProperty() subject!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ description: 'ISO-8601 instant of its creation.' }) date!: string;
  @ApiProperty({ description: 'The interaction, on this server.' }) url!: string;
  @ApiProperty() type!: string;
  @ApiProperty({ description: "The data's priority when it has one, else normal." }) priority!: string;
  @ApiProperty({ description: "The data's status when it has one, else open." }) status!: string;
}

/** Integration credentials to check: the body of authorization-validator. */
export class TalkdeskCredentials {
  @ApiProperty({ minLength: 1, maxLength: 256, description: 'The Talkdesk account id.' })
  @IsString({ message: 'account_id must be a string' }) @IsNotEmpty() @MaxLength(256) account_id!: string;
  @ApiProperty({ minLength: 1, maxLength: 1024, description: "The account's API key." })
  @IsString({ message: 'api_key must be a string' }) @IsNotEmpty() @MaxLength(1024) api_key!: string;
}
